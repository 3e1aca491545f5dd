"""GAN variants: how the players are built and what one D or G update does.

A variant is one module with a class registered under a name. The training loop
only calls ``d_step``, ``g_step`` and ``sample``; a variant overrides the parts its
paper changes and declares which losses it supports.

The run's ``train.precision`` and ``train.channels_last`` apply to every variant
without its help: each ``d_step``/``g_step`` a variant defines runs under the run's
autocast, and its networks are put in channels-last layout after ``build``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from gans.components import Component
from gans.registry import Registry


class Variant(Component):
    # Loss names this variant works with; None means every registered loss.
    supported_losses: ClassVar[tuple[str, ...] | None] = None
    # Why the other losses are not applicable (shown in tables and the report).
    unsupported_reason: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    # The ranges its own parameters are searched over (gans/space.py), by dotted path
    # of the resolved run config (variant.params.*), joined to the loss's.
    search_space: ClassVar[dict[str, dict]] = {}
    # G draws samples of a given class (sample_class); evaluation then also
    # measures it class by class
    conditional: ClassVar[bool] = False
    # its steps train S seeds as one stacked model (gans/stacking.py); else a job's
    # seeds train one after another
    stackable: ClassVar[bool] = False
    # training progress in [0, 1], set by the training loop (annealed tricks read it)
    progress: float = 0.0
    # the authors' parameters per data family ("points", "images"), each with its source;
    # the config's variant parameters apply on top (gans/config/setups.py)
    setups: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("d_step", "g_step"):
            if name in cls.__dict__:
                setattr(cls, name, _under_autocast(cls.__dict__[name]))

    def __init__(self, cfg: dict[str, Any], dataset, device: torch.device | str = "cpu"):
        super().__init__(**cfg["variant"].get("params", {}))
        self.cfg = cfg
        self.dataset = dataset
        self.device = torch.device(device)
        # configs resolved before these keys existed (old run folders) train in fp32, NCHW
        self.precision = cfg.get("train", {}).get("precision", "fp32")
        self.build()
        if cfg.get("train", {}).get("channels_last", False):
            self.to_channels_last()

    def autocast(self) -> torch.autocast:
        """The autocast of this run's training steps (a no-op in fp32)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def to_channels_last(self) -> None:
        """Every network's 4-D weights in NHWC layout (in place: optimizers keep
        their parameters); MLPs have none and are unchanged."""
        for module in self.modules().values():
            if isinstance(module, torch.nn.Module):
                module.to(memory_format=torch.channels_last)

    @classmethod
    def unsupported(cls, loss: str) -> str | None:
        """Why this variant does not train with ``loss``; None when it does."""
        from gans.losses import LOSSES

        loss_cls = LOSSES.get(loss)
        if cls.name in loss_cls.excluded_variants:
            return loss_cls.excluded_variants[cls.name]
        owners = loss_cls.variants
        if owners is not None:
            return None if cls.name in owners else f"'{loss}' is the objective of {', '.join(owners)} only"
        if cls.supported_losses is not None and loss not in cls.supported_losses:
            return cls.unsupported_reason or f"{cls.name} brings its own objective ({', '.join(cls.supported_losses)})"
        return None

    @classmethod
    def setup(cls, family: str, dataset) -> dict[str, Any]:
        """The paper's parameters for data ``family`` (a subclass may size them to
        ``dataset``, a built Dataset)."""
        return copy.deepcopy(cls.setups.get(family, {}))

    @classmethod
    def latent_size(cls, params: dict[str, Any], noise_dim: int, dataset) -> int:
        """The size of G's input with these parameters: the noise, plus any codes or
        labels the variant feeds G (a factor the tables report)."""
        return noise_dim

    @classmethod
    def supports(cls, loss: str) -> bool:
        return cls.unsupported(loss) is None

    @classmethod
    def check(cls, run_cfg: dict[str, Any]) -> None:
        """Refuse a resolved run config this variant cannot train, before any job
        starts (raise ValueError naming the problem)."""

    def real_batch(self, n: int, generator) -> torch.Tensor:
        """A batch of real data as this variant's discriminator consumes it; from a
        ``SeedRNG`` (stacked seeds), one batch per seed, shaped (S, n, ...)."""
        if isinstance(generator, torch.Generator):
            return self.dataset.sample(n, generator, self.device)
        return self.dataset.sample_seeds(n, generator, self.device)

    # -- what a variant implements ------------------------------------------------
    def build(self) -> None:
        raise NotImplementedError

    def d_step(self, real: torch.Tensor, record: bool = False) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def g_step(self, batch_size: int, record: bool = False) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's score for each sample (probability of real, or critic value)."""
        raise NotImplementedError

    @torch.no_grad()
    def sample_class(self, n: int, label: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples of class ``label`` (conditional variants only)."""
        raise NotImplementedError(f"variant '{self.name}' is not conditional")

    # -- state ---------------------------------------------------------------------
    def modules(self) -> dict[str, torch.nn.Module]:
        """Every network and optimizer whose state a checkpoint must hold."""
        raise NotImplementedError

    def generator_modules(self) -> list[str]:
        """Names in ``modules()`` needed to draw samples (stored at each evaluation point)."""
        return ["generator"]

    def snapshot_modules(self) -> list[str]:
        """Names in ``modules()`` stored at each evaluation point: the generator's, and
        the discriminator where the architecture's evaluation reads it (the Dirac-GAN's
        psi)."""
        arch = getattr(self, "arch", None)
        return self.generator_modules() + (["discriminator"] if getattr(arch, "snapshot_discriminator", False) else [])

    def state_dict(self, names: list[str] | None = None) -> dict[str, Any]:
        mods = self.modules()
        return {k: mods[k].state_dict() for k in (names or mods)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        mods = self.modules()
        for k, v in state.items():
            mods[k].load_state_dict(v)


def _under_autocast(step: Callable) -> Callable:
    @functools.wraps(step)
    def run(self, *args, **kwargs):
        if getattr(self, "precision", "fp32") != "bf16":  # most runs: no context to enter
            return step(self, *args, **kwargs)
        with self.autocast():
            return step(self, *args, **kwargs)

    return run


VARIANTS: Registry[type[Variant]] = Registry("variant", base=Variant, package=__name__)
