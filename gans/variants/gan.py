"""The plain two-network game: G maps noise to data, D scores data, and the
registered loss and regularizers say how each is updated.

Other variants subclass ``GAN`` and override its hooks: ``latent`` (what G is fed),
``make_generator``, ``make_discriminator``, ``d_outputs`` (what D sees), ``d_extra``/``g_extra`` (terms
added to D's or G's loss) and ``extra_modules`` (networks on D's side, such as
InfoGAN's Q, trained with D's optimizer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from gans import population, stacking
from gans.architectures import build_architecture
from gans.losses import build_loss
from gans.optim import build_optimizer
from gans.population_optim import PopulationOptimizer
from gans.regularizers import build_regularizers
from gans.variants import VARIANTS, Variant


def grad_norm(module: nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return torch.cat(grads).norm() if grads else torch.zeros(())


@VARIANTS.register("gan")
class GAN(Variant):
    reference = "Goodfellow et al. 2014"
    # this class's steps are written for stacked seeds (gans/stacking.py); a subclass
    # whose steps or networks are not sets stackable = False
    stackable = True
    seed_rng: stacking.SeedRNG | None = None  # set on a stacked variant

    def build(self):
        cfg = self.cfg
        self.arch = build_architecture(cfg["architecture"]["name"], **cfg["architecture"]["params"])
        self.noise_dim = cfg["noise_dim"]
        self.generator = self.make_generator().to(self.device)
        self.regularizers = build_regularizers(cfg["regularizers"])
        discriminator = self.make_discriminator()
        for reg in self.regularizers:
            discriminator = reg.wrap(discriminator)
        self.discriminator = discriminator.to(self.device)
        self.loss = build_loss(cfg["loss"]["name"], **cfg["loss"]["params"])
        self.extras = nn.ModuleDict({k: m.to(self.device) for k, m in self.extra_modules().items()})
        d_params = list(self.discriminator.parameters()) + list(self.extras.parameters())
        self.opt_d = build_optimizer(d_params, cfg["optimizer"], "d", self.planned_updates("d"))
        self.opt_g = build_optimizer(self.generator.parameters(), cfg["optimizer"], "g", self.planned_updates("g"))

    def planned_updates(self, player: str) -> int:
        """How many updates ``player`` ("d" or "g") gets in the run (where a linear
        learning-rate decay ends)."""
        return self.cfg["train"]["steps"] * (self.cfg["n_critic"] if player == "d" else self.cfg.get("n_gen", 1))

    # -- hooks -----------------------------------------------------------------------
    def latent_dim(self) -> int:
        return self.noise_dim

    def latent(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """G's input, and whatever else a variant's losses need about it."""
        if generator is None and self.seed_rng is not None:
            return self.seed_rng.randn(n, self.noise_dim, device=self.device), {}
        return torch.randn(n, self.noise_dim, device=self.device, generator=generator), {}

    def make_generator(self) -> nn.Module:
        return self.arch.generator(self.dataset.shape, self.latent_dim())

    def make_discriminator(self) -> nn.Module:
        return self.arch.discriminator(self.dataset.shape)

    def generate(self, z: torch.Tensor, info: dict[str, torch.Tensor]) -> torch.Tensor:
        """G's samples as D consumes them."""
        return self.generator(z)

    def data_part(self, x: torch.Tensor) -> torch.Tensor:
        """The data in what ``generate`` returns (conditional variants strip labels)."""
        return x

    def extra_modules(self) -> dict[str, nn.Module]:
        """Networks on D's side, trained with D's optimizer (e.g. InfoGAN's Q)."""
        return {}

    def d_outputs(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x)

    def d_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch during training (instance noise acts here)."""
        for reg in self.regularizers:
            x = reg.inputs(x, self.progress)
        return x

    def extra_fakes(self, real: torch.Tensor) -> torch.Tensor | None:
        """More samples D's loss counts as fake (not seen by penalties); none by default."""
        return None

    def d_extra(self, real: torch.Tensor, fake: torch.Tensor, info: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Terms added to D's loss, by name (logged)."""
        return {}

    def g_extra(self, fake: torch.Tensor, info: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Terms added to G's loss, by name (logged)."""
        return {}

    def d_adversarial(
        self, real_out: torch.Tensor, fake_out: torch.Tensor, more_out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """D's adversarial term; ``more_out`` is D on ``extra_fakes``, pooled with the fakes."""
        fakes = fake_out if more_out is None else torch.cat([fake_out, more_out])
        return self._per_seed(self.loss.d_loss, real_out, fakes)

    def g_adversarial(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        """G's adversarial term (feature matching replaces it); ``real_out``: D on the
        last real batch, for a loss that compares (``g_needs_real``)."""
        return self.loss.g_loss(fake_out, real_out)

    def _total(self, loss: torch.Tensor, extra: dict[str, torch.Tensor]) -> torch.Tensor:
        return loss + sum(extra.values(), torch.zeros((), device=self.device))

    # -- stacked seeds: per-seed losses and statistics (plain tensors when alone) ----
    def _per_seed(self, fn, *outputs: torch.Tensor) -> torch.Tensor:
        """``fn`` of D's outputs, for each member: shape (P,), or a scalar alone. One
        vmapped op for all members (a loop over members costs P ops per step, which
        dominates a population's step on a CPU as on a GPU); each member's reduction
        is over its own contiguous slice, as alone, so it agrees with a run alone up
        to float rounding (tests/unit/test_population.py)."""
        if self.seed_rng is None:
            return fn(*outputs)
        return torch.vmap(fn)(*outputs)

    def _mean(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean() if self.seed_rng is None else x.flatten(1).mean(1)

    def _grad_norm(self, module: nn.Module) -> torch.Tensor:
        return grad_norm(module) if self.seed_rng is None else stacking.per_seed_grad_norm(module, len(self.seed_rng))

    def _batch_dim(self) -> int:
        """The dimension of a batch's samples: 0 alone, 1 after the member dimension when stacked."""
        return 0 if self.seed_rng is None else 1

    def _batch_size(self, x: torch.Tensor) -> int:
        return x.shape[self._batch_dim()]

    @classmethod
    def stacked(cls, variants: list[GAN], seed_rng: stacking.SeedRNG) -> GAN:
        """One variant training all of ``variants`` (one per seed, each built as it
        would be alone) as stacked networks, each seed drawing from ``seed_rng``."""
        if not cls.stackable:
            raise stacking.NotStackable(f"variant '{cls.name}' trains one seed at a time")
        v = variants[0]
        v.generator = stacking.stack_modules([x.generator for x in variants])
        v.discriminator = stacking.stack_modules([x.discriminator for x in variants])
        v.seed_rng = seed_rng
        for j, reg in enumerate(v.regularizers):
            reg.seed_rng = seed_rng
            reg.stack_members([x.regularizers[j] for x in variants])
        # fresh optimizers over the stacked parameters, as each member's were fresh:
        # element-wise updates, each member with its own learning rate and betas
        specs = [x.cfg["optimizer"] for x in variants]
        d_params = list(v.discriminator.parameters()) + list(v.extras.parameters())
        planned = {role: [x.planned_updates(role) for x in variants] for role in ("d", "g")}
        v.opt_d = PopulationOptimizer(d_params, specs, "d", planned["d"])
        v.opt_g = PopulationOptimizer(v.generator.parameters(), specs, "g", planned["g"])
        return v

    def keep_members(self, index: torch.Tensor) -> None:
        """A stacked variant keeps only the members at ``index`` (the others stopped)."""
        population.keep_members([self.generator, self.discriminator, self.extras], index)
        for opt in (self.opt_d, self.opt_g):
            opt.keep(index)  # its parameters are the same objects, sliced above
        for reg in self.regularizers:
            reg.keep(index)
        population.keep_rng(self.seed_rng, index.tolist())

    @contextlib.contextmanager
    def first_members(self, m: int) -> Iterator[None]:
        """Steps inside train the first ``m`` members only (members taking more critic
        steps come first): networks, optimizers, regularizers and random streams are
        views of their first m members meanwhile, so updates land in place."""
        last_real = getattr(self, "last_real", None)
        restores = [opt.narrow(m) for opt in (self.opt_d, self.opt_g)]  # before the parameters
        restores.append(population.narrow_members([self.generator, self.discriminator, self.extras], m))
        restores += [reg.narrow(m) for reg in self.regularizers]
        restores.append(population.narrow_rng(self.seed_rng, m))
        try:
            yield
        finally:
            for restore in reversed(restores):
                restore()
            if last_real is not None and self.last_real is not last_real:  # the others' last batch stays theirs
                self.last_real = torch.cat([self.last_real, last_real[m:]])

    # -- one update of each player -------------------------------------------------
    def d_step(self, real, record=False):
        self.last_real = real  # for G-side terms that compare with data (feature matching)
        with torch.no_grad():
            z, info = self.latent(self._batch_size(real))
            fake = self.generate(z, info)
        real, fake = self.d_inputs(real), self.d_inputs(fake)
        real_out, fake_out = self.d_outputs(real), self.d_outputs(fake)
        more = self.extra_fakes(real)
        more_out = None if more is None else self.d_outputs(self.d_inputs(more))
        extra = self.d_extra(real, fake, info)
        loss = self._total(self.d_adversarial(real_out, fake_out, more_out), extra)
        for reg in self.regularizers:
            penalty = reg.penalty(self.d_outputs, real, fake, real_out, fake_out)
            if penalty is not None:
                loss = loss + penalty
        self.opt_d.zero_grad(set_to_none=True)
        loss.sum().backward()  # stacked seeds: the sum leaves each seed its own gradient
        stats = {"d_loss": loss.detach(), **{k: v.detach() for k, v in extra.items()}}
        if record:
            stats.update(
                d_grad_norm=self._grad_norm(self.discriminator),
                d_real=self._mean(self.loss.d_score(real_out.detach())),
                d_fake=self._mean(self.loss.d_score(fake_out.detach())),
            )
        self.opt_d.step()
        for reg in self.regularizers:
            reg.after_d_step(self.discriminator)
        self.after_step("d")
        return stats

    def g_step(self, batch_size, record=False):
        z, info = self.latent(batch_size)
        fake = self.generate(z, info)
        # D's side gets no gradient in G's step: only its input gradient is needed
        self.discriminator.requires_grad_(False)
        self.extras.requires_grad_(False)
        fake_out = self.d_outputs(self.d_inputs(fake))
        outputs = (fake_out,)
        if self.loss.g_needs_real:  # a pairing loss: D on the last real batch, a constant for G
            with torch.no_grad():
                outputs += (self.d_outputs(self.d_inputs(self.last_real)),)
        extra = self.g_extra(fake, info)
        self.discriminator.requires_grad_(True)
        self.extras.requires_grad_(True)
        loss = self._total(self._per_seed(self.g_adversarial, *outputs), extra)
        self.opt_g.zero_grad(set_to_none=True)
        loss.sum().backward()
        stats = {"g_loss": loss.detach(), **{k: v.detach() for k, v in extra.items()}}
        if record:
            stats["g_grad_norm"] = self._grad_norm(self.generator)
        self.opt_g.step()
        self.after_step("g")
        return stats

    def after_step(self, player: str) -> None:
        """Called after each update of ``player`` ("d" or "g")."""

    # -- using the trained players --------------------------------------------------
    @torch.no_grad()
    def sample(self, n, generator=None):
        z, info = self.latent(n, generator)
        return self.data_part(self.generate(z, info))

    @torch.no_grad()
    def discriminate(self, x):
        return self.loss.d_score(self.d_outputs(x))

    def modules(self) -> dict[str, Any]:
        mods = {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "opt_g": self.opt_g,
            "opt_d": self.opt_d,
        }
        if len(self.extras):
            mods["extras"] = self.extras
        return mods

    def generator_modules(self):
        return ["generator"]
