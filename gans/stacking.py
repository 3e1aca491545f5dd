"""Several seeds of one grid cell trained as one model.

S copies of a network, each built exactly as its seed alone would build it, are
stacked into one module whose parameters carry a leading seed dimension and whose
inputs are shaped (S, batch, ...): a linear layer becomes one batched matrix
product (``baddbmm``) instead of S small ones, which is what keeps a GPU busy and
saves the per-op overhead that dominates a small MLP on a CPU.

Nothing couples the seeds: losses are computed per seed (``torch.vmap``) and summed,
so each seed's gradient is its own; Adam, RMSprop and SGD act element by element,
so one optimizer over stacked parameters is S independent ones; and every random
draw a seed makes comes from that seed's own generator (``SeedRNG``), so a seed
sees the same noise and data as it would alone. The result is what each seed gets
trained alone, up to float rounding (tests/test_stacking.py checks it).

A linear layer under spectral normalisation (torch's ``spectral_norm``
parametrization, the ``spectral_norm`` regularizer) stacks too: ``SeedSpectralNorm``
runs each member's power iteration on its own weight slice, with its own ``u`` and
``v`` taken from the member's initialised parametrization. So does 1-D batch norm
(``SeedBatchNorm``: each member's statistics over its own batch, its own running
statistics), and any module that declares ``stacks_over_members`` (its forward acts on
the last dimension and through its children only, e.g. a maxout layer).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm

# Modules whose forward acts on each element (or on the last dimension only), so
# they are correct on (S, batch, ...) inputs as they stand.
ELEMENTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Softplus,
    nn.Identity,
    nn.Sequential,
)


class NotStackable(ValueError):
    """A network, variant, loss or regularizer that cannot be trained as stacked seeds."""


class SeedLinear(nn.Module):
    """S linear layers as one: weight (S, out, in), bias (S, out); input (S, batch, in).
    Parameter names match ``nn.Linear``'s, so seed s's slice is a plain state dict.
    Layers under spectral normalisation give a ``SeedLinear`` under ``SeedSpectralNorm``,
    whose state dict keys are those of the parametrized ``nn.Linear``."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([raw_weight(layer).detach() for layer in layers]))
        if len({layer.bias is None for layer in layers}) > 1:
            raise NotStackable("some members' linear layers have a bias, others not")
        biased = layers[0].bias is not None
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers])) if biased else None
        self.train(layers[0].training)
        normalised = {parametrize.is_parametrized(layer) for layer in layers}
        if len(normalised) > 1:
            raise NotStackable("some members' linear layers are spectrally normalised, others not")
        if normalised == {True}:
            norm = SeedSpectralNorm([layer.parametrizations.weight[0] for layer in layers])
            # unsafe: no trial forward, which would run a power iteration on the members' u, v
            parametrize.register_parametrization(self, "weight", norm, unsafe=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight.transpose(1, 2))
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))


class SeedBatchNorm(nn.Module):
    """S ``nn.BatchNorm1d`` layers as one, on inputs (S, batch, features): each member
    normalised by the mean and biased variance of its own batch in training (its
    running statistics in evaluation), with its own affine weight and bias, and its
    running mean and unbiased variance updated as torch does. Parameter and buffer
    names are BatchNorm1d's, so a member's slice of the state dict is its own."""

    member_buffers = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, norms: list[nn.BatchNorm1d]):
        super().__init__()
        first = norms[0]
        for norm in norms:
            if (norm.eps, norm.momentum, norm.affine, norm.track_running_stats) != (
                first.eps,
                first.momentum,
                first.affine,
                first.track_running_stats,
            ):
                raise NotStackable("the members' batch norms differ (eps, momentum, affine or running statistics)")
        if not first.affine or not first.track_running_stats or first.momentum is None:
            raise NotStackable("batch norm without affine parameters, running statistics or a momentum")
        self.eps, self.momentum = first.eps, first.momentum
        self.weight = nn.Parameter(torch.stack([n.weight.detach() for n in norms]))
        self.bias = nn.Parameter(torch.stack([n.bias.detach() for n in norms]))
        for name in self.member_buffers:
            self.register_buffer(name, torch.stack([getattr(n, name).detach().clone() for n in norms]))
        self.train(first.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            raise NotStackable(f"batch norm of stacked members takes (members, batch, features), got {tuple(x.shape)}")
        if self.training:
            mean = x.mean(1)
            var = x.var(1, unbiased=False)
            with torch.no_grad():  # in place: a population's narrowed views update the whole
                n = x.shape[1]
                self.running_mean.mul_(1 - self.momentum).add_(mean.detach(), alpha=self.momentum)
                unbiased = var.detach() * (n / max(n - 1, 1))
                self.running_var.mul_(1 - self.momentum).add_(unbiased, alpha=self.momentum)
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)
        return (x - mean.unsqueeze(1)) * scale.unsqueeze(1) + self.bias.unsqueeze(1)


def raw_weight(layer: nn.Linear) -> torch.Tensor:
    """A linear layer's weight parameter, before any parametrization (reading
    ``layer.weight`` of a spectrally normalised layer would run a power iteration)."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


class SeedSpectralNorm(nn.Module):
    """Torch's spectral normalisation (``torch.nn.utils.parametrizations.spectral_norm``,
    ``_SpectralNorm``) of S weights (S, out, in) at once: each member's power iteration
    on its own (out, in) slice with its own ``_u`` (S, out) and ``_v`` (S, in), as
    batched products. Run in training mode only, in place and without gradient, then
    sigma = u . (W v) with u, v cloned, as torch does; so each member gets what its own
    parametrization gives, up to float rounding. The buffers carry torch's names, so a
    member's slice of the state dict is its one-run state dict."""

    member_buffers = ("_u", "_v")  # sliced when members leave (gans/population.py)

    def __init__(self, norms: list[nn.Module]):
        super().__init__()
        first = norms[0]
        for norm in norms:
            if (norm.dim, norm.eps, norm.n_power_iterations) != (first.dim, first.eps, first.n_power_iterations):
                raise NotStackable("the members' spectral normalisations differ (dim, eps or power iterations)")
        self.eps, self.n_power_iterations = first.eps, first.n_power_iterations
        # each member's u, v as its own registration initialised them (15 power iterations)
        self.register_buffer("_u", torch.stack([norm._u.detach() for norm in norms]))
        self.register_buffer("_v", torch.stack([norm._v.detach() for norm in norms]))
        self.train(first.training)

    @torch.no_grad()
    def _power_method(self, weight: torch.Tensor, n_power_iterations: int) -> None:
        for _ in range(n_power_iterations):
            wv = torch.bmm(weight, self._v.unsqueeze(2)).squeeze(2)
            self._u = F.normalize(wv, dim=1, eps=self.eps, out=self._u)
            wu = torch.bmm(weight.mH, self._u.unsqueeze(2)).squeeze(2)
            self._v = F.normalize(wu, dim=1, eps=self.eps, out=self._v)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training:
            self._power_method(weight, self.n_power_iterations)
        # cloned, as torch does: the in-place updates of a later forward must not touch
        # what this one's backward needs
        u = self._u.clone(memory_format=torch.contiguous_format)
        v = self._v.clone(memory_format=torch.contiguous_format)
        sigma = torch.linalg.vecdot(u, torch.bmm(weight, v.unsqueeze(2)).squeeze(2), dim=1)  # vdot per member
        return weight / sigma.view(-1, 1, 1)

    def right_inverse(self, value: torch.Tensor) -> torch.Tensor:
        return value


def check_stackable(module: nn.Module) -> None:
    """Raise NotStackable naming the first submodule that cannot be stacked."""
    from gans.architectures import Discriminator  # its forward only routes trunk -> head

    inner: list[str] = []  # the parametrizations of checked linear layers
    for name, sub in module.named_modules():
        if any(name.startswith(prefix) for prefix in inner):
            continue
        if isinstance(sub, nn.Linear):
            if parametrize.is_parametrized(sub):
                if sub.bias is None:
                    raise NotStackable(f"linear layer '{name}' is spectrally normalised without a bias")
                check_spectral_norm(name, sub)
                inner.append(f"{name}.parametrizations" if name else "parametrizations")
        elif type(sub) is nn.BatchNorm1d:
            continue
        elif not isinstance(sub, (Discriminator, *ELEMENTWISE)) and not getattr(sub, "stacks_over_members", False):
            raise NotStackable(f"layer '{name or 'the network'}' ({type(sub).__name__}) cannot be stacked over seeds")


def check_spectral_norm(name: str, layer: nn.Linear) -> None:
    """A parametrized linear layer stacks when its one parametrization is torch's
    spectral normalisation of its weight over the output dimension."""
    chain = layer.parametrizations
    if set(chain) != {"weight"} or len(chain.weight) != 1 or type(chain.weight[0]) is not _SpectralNorm:
        raise NotStackable(f"linear layer '{name}' has a parametrization other than spectral normalisation")
    if chain.weight[0].dim != 0:
        raise NotStackable(f"linear layer '{name}': spectral normalisation over dimension {chain.weight[0].dim}")


def stack_modules(modules: list[nn.Module]) -> nn.Module:
    """One module computing all of ``modules`` (same architecture) on (S, batch, ...) inputs."""
    for m in modules:
        check_stackable(m)
    stacked = copy.deepcopy(modules[0])  # a parametrized module deep-copies (torch allows it)
    for name, sub in list(stacked.named_modules()):
        seed_kind = SeedLinear if isinstance(sub, nn.Linear) else SeedBatchNorm if type(sub) is nn.BatchNorm1d else None
        if seed_kind is not None:  # a parametrized linear layer too (a subclass torch makes)
            layers = [m.get_submodule(name) for m in modules]
            parent, _, attr = name.rpartition(".")
            setattr(stacked.get_submodule(parent) if parent else stacked, attr, seed_kind(layers))
    return stacked


def unstack_state(state: Any, seed_index: int) -> Any:
    """Seed ``seed_index``'s part of a stacked variant's state (networks and
    optimizers): every tensor with a seed dimension is sliced; scalars such as an
    optimizer's step count are shared."""
    if isinstance(state, torch.Tensor):
        return state[seed_index] if state.dim() > 0 else state
    if isinstance(state, dict):
        return {k: unstack_state(v, seed_index) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(unstack_state(v, seed_index) for v in state)
    return state


def per_seed_grad_norm(module: nn.Module, seeds: int) -> torch.Tensor:
    """The gradient norm of each seed's network, shape (S,)."""
    grads = [p.grad.detach().reshape(seeds, -1) for p in module.parameters() if p.grad is not None]
    return torch.cat(grads, dim=1).norm(dim=1) if grads else torch.zeros(seeds)


class SeedRNG:
    """Random draws for S seeds at once, shaped (S, ...), seed s's slice from its own
    generator, so a seed draws the numbers it would draw alone.

    ``block=None`` (direct): every draw is one call on each seed's generator, S
    kernels per draw. ``block=B`` (buffered): each seed fills a block of at least B
    normals, uniforms or random integers from its generator at a time, and draws are
    slices of the (S, B) blocks: one op for all seeds between refills, which is what
    keeps the kernel launches of a step independent of S on a GPU. A seed's numbers
    then depend only on its own sequence of draws, so it still gets the same numbers
    alone and stacked (alone means S = 1 here), but not the numbers of direct draws.
    """

    def __init__(self, generators: list[torch.Generator], block: int | None = None):
        if block is not None and block < 1:
            raise ValueError(f"block must be a positive number of draws, got {block}")
        self.generators = generators
        self.block = block
        self.blocks: dict[str, tuple[torch.Tensor, int]] = {}  # kind -> (S, size) block, next position

    @property
    def buffered(self) -> bool:
        return self.block is not None

    def __len__(self) -> int:
        return len(self.generators)

    def _fill(self, kind: str, shape: tuple[int, ...], high: int = 2**62) -> torch.Tensor:
        def one(g: torch.Generator) -> torch.Tensor:
            if kind == "normal":
                return torch.randn(shape, generator=g, device=g.device)
            if kind == "uniform":
                return torch.rand(shape, generator=g, device=g.device)
            return torch.randint(high, shape, generator=g, device=g.device)

        return torch.stack([one(g) for g in self.generators])

    def _draw(self, kind: str, shape: tuple[int, ...]) -> torch.Tensor:
        if not self.buffered:
            return self._fill(kind, shape)
        n = math.prod(shape)
        block, pos = self.blocks.get(kind, (None, 0))
        if block is None or pos + n > block.shape[1]:
            # a fresh tensor, not refilled in place: earlier draws may still be in use
            block, pos = self._fill(kind, (max(self.block, n),)), 0
        self.blocks[kind] = (block, pos + n)
        return block[:, pos : pos + n].view(len(self), *shape)

    def randn(self, *shape: int, device: torch.device | str | None = None) -> torch.Tensor:
        return self._draw("normal", shape)

    def rand(self, *shape: int, device: torch.device | str | None = None) -> torch.Tensor:
        return self._draw("uniform", shape)

    def randint(self, high: int, *shape: int) -> torch.Tensor:
        """Integers in [0, high): direct draws are torch.randint's; buffered ones take
        62 random bits modulo ``high`` (a bias of high / 2**62, far below any effect)."""
        if not self.buffered:
            return self._fill("bits", shape, high)
        return self._draw("bits", shape) % high

    def get_state(self) -> list[torch.Tensor] | dict[str, Any]:  # the torch.Generator interface, per seed
        states = [g.get_state() for g in self.generators]
        if not self.buffered:
            return states
        return {"generators": states, "blocks": {k: (b.cpu(), pos) for k, (b, pos) in self.blocks.items()}}

    def set_state(self, state: list[torch.Tensor] | dict[str, Any]) -> None:
        if isinstance(state, dict) != self.buffered:
            raise ValueError("this random state was saved with other random_draws (direct vs buffered)")
        states = state["generators"] if self.buffered else state
        for g, s in zip(self.generators, states, strict=True):
            g.set_state(s)
        if self.buffered:
            device = self.generators[0].device
            self.blocks = {k: (b.to(device), pos) for k, (b, pos) in state["blocks"].items()}


def generator_like_global(device: torch.device) -> torch.Generator:
    """A generator in the state the global RNG of ``device`` is in now: what a run
    alone would draw next from it."""
    g = torch.Generator(device=device)
    g.set_state(torch.get_rng_state() if device.type == "cpu" else torch.cuda.get_rng_state(device))
    return g


def reason_not_stackable(cfg: dict[str, Any]) -> str | None:
    """Why the run config ``cfg`` cannot train as stacked seeds (None: it can)."""
    from gans.architectures import build_architecture
    from gans.datasets import DATASETS
    from gans.losses import LOSSES
    from gans.regularizers import REGULARIZERS
    from gans.variants import VARIANTS

    variant = VARIANTS.get(cfg["variant"]["name"])
    if not variant.stackable:
        return f"variant '{variant.name}' trains one seed at a time"
    if not LOSSES.get(cfg["loss"]["name"]).stackable:
        return f"loss '{cfg['loss']['name']}' is not written per seed"
    for name in cfg["regularizers"]:
        if not REGULARIZERS.get(name).stackable:
            return f"regularizer '{name}' couples the seeds or draws from the global random stream"
    dataset = DATASETS.get(cfg["dataset"]["name"])(**cfg["dataset"]["params"])
    arch = build_architecture(cfg["architecture"]["name"], **cfg["architecture"]["params"])
    try:
        check_stackable(arch.generator(dataset.shape, cfg["noise_dim"]))
        check_stackable(arch.discriminator(dataset.shape))
    except NotStackable as exc:
        return f"architecture '{arch.name}': {exc}"
    return None
