"""The Improved-GAN techniques (Salimans et al., 2016), each switched on or off by
the variant's parameters:
  feature_matching        G matches the mean of D's trunk features on real data
                          instead of fooling D's output
  minibatch_features      minibatch discrimination: D's head also sees, for each
                          sample, its L1 closeness to the others in the batch
                          (0 = off; else the number of kernels B), while G keeps the
                          loss's adversarial objective
  real_label              one-sided label smoothing for the logit losses (1.0 = off;
                          the paper used 0.9)
  historical_averaging    weight of ||theta - mean of past theta||^2 for both players
                          (the running means are buffers: checkpoints and resume
                          points hold them)
  virtual_batch_norm      G's batch-norm layers become virtual batch norm: each
                          example is normalised with the statistics of a reference
                          batch (G's input for ``vbn_reference_size`` noise vectors,
                          drawn once at the start) plus itself, so no example depends
                          on the others of its batch. Needs a generator with batch
                          norm (dcgan, upsample-cnn).

The default is the authors' pairing for sample quality: their code runs feature
matching and minibatch discrimination in separate experiments, and the minibatch
one (best samples, per its README) keeps an adversarial G loss; feature matching
is their semi-supervised set-up. Turning both on puts G's loss outside the
minibatch layer, which then never shapes G (docs/setups.md)."""

from __future__ import annotations

import torch
from torch import nn

from gans.architectures import Discriminator, build_architecture
from gans.components import for_every_family
from gans.datasets import DATASETS
from gans.regularizers.tricks import OneSidedLabelSmoothing
from gans.variants import VARIANTS
from gans.variants.gan import GAN

# The minibatch-discrimination experiment of the authors' code: B = 100 kernels of
# C = 5 dimensions, G trained on the adversarial loss, no feature matching, no label
# smoothing (only their ImageNet code smooths), no virtual batch norm (only their
# ImageNet G has it), no historical averaging (absent from the released code)
# [openai/improved-gan mnist_svhn_cifar10/train_cifar_minibatch_discrimination.py
# L66, L81-83; nn.py L132-170]. No toy experiment was released: both families.
MINIBATCH_EXPERIMENT = {
    "feature_matching": False,
    "minibatch_features": 100,
    "minibatch_kernel_dim": 5,
    "real_label": 1.0,
    "historical_averaging": 0.0,
    "virtual_batch_norm": False,
}


class MinibatchDiscrimination(nn.Module):
    """o(x_i)_b = sum_j exp(-||M_ib - M_jb||_1), M = f(x) T, T of shape (A, B, C)."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int, twice_differentiable: bool = False):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.twice_differentiable = twice_differentiable
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, f):
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        # pairwise L1 distances per kernel: cdist is 4x faster than broadcasting to
        # (B, N, N, C) on a CPU, but has no double backward (needed by gradient penalties)
        if self.twice_differentiable:
            l1 = (m.unsqueeze(1) - m.unsqueeze(2)).abs().sum(3)
        else:
            l1 = torch.cdist(m, m, p=1)  # (B, N, N)
        return (torch.exp(-l1).sum(2) - 1).T  # minus each sample's closeness to itself


class MinibatchDiscriminator(Discriminator):
    def __init__(self, base: Discriminator, kernels: int, kernel_dim: int, twice_differentiable: bool = False):
        super().__init__(base.trunk, base.feature_dim)
        self.mbd = MinibatchDiscrimination(base.feature_dim, kernels, kernel_dim, twice_differentiable)
        self.head = nn.Linear(base.feature_dim + kernels, 1)

    def forward(self, x):
        f = self.features(x)
        return self.head(torch.cat([f, self.mbd(f)], dim=1)).squeeze(-1)


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation in place of one batch-norm layer (keeping its
    affine weight and bias). In the reference pass (``reference`` is None) the batch
    is normalised with its own statistics, which are kept; in the next pass each
    example x with mean = (B * mean_ref + mean_x) / (B + 1), and likewise the mean
    square, as in the Improved-GAN code (B: reference batch size; means per channel)."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.eps = bn.eps
        self.weight, self.bias = bn.weight, bn.bias
        self.reference: tuple[torch.Tensor, torch.Tensor, int] | None = None

    def forward(self, x):
        spatial = tuple(range(2, x.dim()))
        mean = x.mean(spatial) if spatial else x  # per example and channel: (N, C)
        mean_sq = (x * x).mean(spatial) if spatial else x * x
        if self.reference is None:
            mean, mean_sq = mean.mean(0, keepdim=True), mean_sq.mean(0, keepdim=True)
            self.reference = (mean, mean_sq, x.shape[0])
        else:
            ref_mean, ref_sq, n = self.reference
            mean = (n * ref_mean + mean) / (n + 1)
            mean_sq = (n * ref_sq + mean_sq) / (n + 1)
        view = (*mean.shape, *(1,) * len(spatial))
        out = (x - mean.view(view)) * torch.rsqrt((mean_sq - mean**2).clamp_min(0).view(view) + self.eps)
        if self.weight is not None:
            affine = (1, -1, *(1,) * len(spatial))
            out = out * self.weight.view(affine) + self.bias.view(affine)
        return out


def has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class VirtualBatchNormGenerator(nn.Module):
    """G with every batch-norm layer made virtual; each forward pass first runs the
    fixed reference input (a buffer, saved with G) to set the reference statistics
    under G's current weights (gradients flow through them, as in the paper)."""

    def __init__(self, net: nn.Module, reference_input: torch.Tensor):
        super().__init__()
        for name, module in list(net.named_modules()):
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                parent, _, child = name.rpartition(".")
                setattr(net.get_submodule(parent), child, VirtualBatchNorm(module))
        self.net = net
        self.register_buffer("reference_input", reference_input)

    def forward(self, z):
        layers = [m for m in self.net.modules() if isinstance(m, VirtualBatchNorm)]
        for layer in layers:
            layer.reference = None
        self.net(self.reference_input)
        try:
            return self.net(z)
        finally:
            for layer in layers:
                layer.reference = None


class ParameterAverage(nn.Module):
    """The running mean of a network's parameters over its updates, held as buffers
    so checkpoints and resume points carry it."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.names = [n for n, _ in module.named_parameters()]
        for n, p in module.named_parameters():
            self.register_buffer(self.buffer_name(n), torch.zeros_like(p.detach()))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @staticmethod
    def buffer_name(name: str) -> str:
        return "mean__" + name.replace(".", "__")  # a buffer name may not hold dots

    def items(self):
        """(parameter name, its running mean)."""
        return [(n, getattr(self, self.buffer_name(n))) for n in self.names]

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.updates += 1
        t = int(self.updates)
        for (_, mean), p in zip(self.items(), module.parameters(), strict=True):
            mean.add_((p.detach() - mean) / t)

    def penalty(self, module: nn.Module) -> torch.Tensor:
        """||theta - mean of past theta||^2 (0 before the first update)."""
        if not int(self.updates):
            return torch.zeros((), device=self.updates.device)
        return sum(((p - mean) ** 2).sum() for (_, mean), p in zip(self.items(), module.parameters(), strict=True))


@VARIANTS.register("improved")
class ImprovedGAN(GAN):
    reference = "Salimans et al. 2016"
    stackable = False  # its networks or steps are written for one seed
    param_schema = {
        "minibatch_features": {"minimum": 0},
        "minibatch_kernel_dim": {"minimum": 1},
        "real_label": {"exclusiveMinimum": 0, "maximum": 1},
        "historical_averaging": {"minimum": 0},
        "vbn_reference_size": {"minimum": 2},
    }
    # the authors' set-up, and the reference batch's size for virtual batch norm
    defaults = {**MINIBATCH_EXPERIMENT, "vbn_reference_size": 64}
    setups = for_every_family(MINIBATCH_EXPERIMENT)
    # a data shape per modality, to see whether an architecture's G has batch norm
    PROBE_SHAPES = {"points": (2,), "images": (1, 28, 28)}

    @classmethod
    def check(cls, run_cfg):
        p = cls.resolve_params(run_cfg["variant"]["params"])
        if p["real_label"] != 1.0 and run_cfg["loss"]["name"] not in OneSidedLabelSmoothing.losses:
            raise ValueError(
                f"real_label {p['real_label']} (label smoothing) needs a logit loss "
                f"({', '.join(OneSidedLabelSmoothing.losses)}); set real_label: 1.0 for others"
            )
        if p["virtual_batch_norm"]:
            arch = build_architecture(run_cfg["architecture"]["name"], **run_cfg["architecture"]["params"])
            shape = cls.PROBE_SHAPES[DATASETS.get(run_cfg["dataset"]["name"]).modality]
            if not has_batch_norm(arch.generator(shape, run_cfg["noise_dim"])):
                raise ValueError(
                    f"virtual_batch_norm replaces G's batch-norm layers, and architecture "
                    f"'{arch.name}' has none (dcgan and upsample-cnn have them)"
                )
            if p["vbn_reference_size"] < 2:
                raise ValueError(f"vbn_reference_size must be at least 2, got {p['vbn_reference_size']}")

    def build(self):
        super().build()
        if self.real_label != 1.0:
            self.regularizers.append(OneSidedLabelSmoothing(real_label=self.real_label))
        if self.historical_averaging:
            self.history = nn.ModuleDict(
                {"d": ParameterAverage(self.discriminator), "g": ParameterAverage(self.generator)}
            )

    def make_generator(self):
        net = super().make_generator()
        if not self.virtual_batch_norm:
            return net
        reference, _ = self.latent(self.vbn_reference_size)  # fixed once, at the start
        return VirtualBatchNormGenerator(net, reference.cpu())

    def modules(self):
        mods = super().modules()
        if self.historical_averaging:
            mods["history"] = self.history
        return mods

    def make_discriminator(self):
        base = self.arch.discriminator(self.dataset.shape)
        if not self.minibatch_features:
            return base
        twice = any(reg.differentiates_input for reg in self.regularizers)
        return MinibatchDiscriminator(base, self.minibatch_features, self.minibatch_kernel_dim, twice)

    def g_adversarial(self, fake_out, real_out=None):
        if self.feature_matching:
            return torch.zeros((), device=self.device)
        return super().g_adversarial(fake_out, real_out)

    def g_extra(self, fake, info):
        terms = {}
        if self.feature_matching:
            real_f = self.discriminator.features(self.last_real).mean(0).detach()
            terms["feature_matching"] = ((self.discriminator.features(fake).mean(0) - real_f) ** 2).sum()
        if self.historical_averaging:
            terms["historical_averaging"] = self.historical_averaging * self.history["g"].penalty(self.generator)
        return terms

    def d_extra(self, real, fake, info):
        if not self.historical_averaging:
            return {}
        return {"historical_averaging": self.historical_averaging * self.history["d"].penalty(self.discriminator)}

    def after_step(self, player):
        if self.historical_averaging:
            self.history[player].update(self.discriminator if player == "d" else self.generator)
