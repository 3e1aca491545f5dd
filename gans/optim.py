"""Optimizers by name. ``lr_d``/``lr_g`` give D and G their own learning rates
(two time-scale updates); ``lr_decay`` decays both players' rates, one decay step
per optimizer step; every other key goes to the torch optimizer.

  lr_decay: {kind: none}
  lr_decay: {kind: linear, start: 0.0, end_factor: 0.0}
      constant until ``start`` (a fraction of the player's updates), then linear to
      ``end_factor`` times the rate at the last update (to 0 by default, as in many
      GAN codes)
  lr_decay: {kind: exponential, gamma: 0.999}
      the rate times ``gamma`` after every update

The decay's position lives in the optimizer's param groups (``initial_lr``,
``decay_step``), so the optimizer's state dict, saved in checkpoints and resume
points, carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}
LR_DECAYS = {"none": (), "linear": ("start", "end_factor"), "exponential": ("gamma",)}


def lr_factor(decay: dict[str, Any], updates: int) -> Callable[[int], float]:
    """The learning-rate multiplier after ``t`` of a player's ``updates`` updates."""
    kind = decay.get("kind", "none")
    if kind not in LR_DECAYS:
        raise ValueError(f"unknown lr_decay kind '{kind}'; choose one of: {', '.join(LR_DECAYS)}")
    extra = sorted(set(decay) - {"kind", *LR_DECAYS[kind]})
    if extra:
        raise ValueError(
            f"lr_decay kind '{kind}' takes {', '.join(LR_DECAYS[kind]) or 'no other key'}; got {', '.join(extra)}"
        )
    if kind == "exponential":
        gamma = decay["gamma"]
        return lambda t: gamma**t
    if kind == "linear":
        start, end = decay.get("start", 0.0) * updates, decay.get("end_factor", 0.0)
        return lambda t: 1.0 if t <= start else 1.0 - (1.0 - end) * min(1.0, (t - start) / (updates - start))
    return lambda t: 1.0


def attach_lr_decay(optimizer: torch.optim.Optimizer, decay: dict[str, Any], updates: int) -> None:
    """Decay ``optimizer``'s learning rates after each of its steps."""
    factor = lr_factor(decay, updates)
    if decay.get("kind", "none") == "none":
        return
    for group in optimizer.param_groups:
        group["initial_lr"], group["decay_step"] = group["lr"], 0

    def step_hook(opt, args, kwargs):
        for group in opt.param_groups:
            group["decay_step"] += 1
            group["lr"] = group["initial_lr"] * factor(group["decay_step"])

    optimizer.register_step_post_hook(step_hook)


def build_optimizer(
    params: Iterable[torch.nn.Parameter], spec: dict[str, Any], role: str, updates: int | None = None
) -> torch.optim.Optimizer:
    """``role`` is "d" or "g": picks ``lr_d`` or ``lr_g`` from ``spec``; ``updates``
    is how many steps this optimizer takes in the run (where linear decay ends)."""
    spec = dict(spec)
    name = spec.pop("name")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{name}'; choose one of: {', '.join(sorted(OPTIMIZERS))}")
    lrs = {"d": spec.pop("lr_d"), "g": spec.pop("lr_g")}
    decay = spec.pop("lr_decay", None) or {"kind": "none"}
    if "betas" in spec:
        spec["betas"] = tuple(spec["betas"])
    optimizer = OPTIMIZERS[name](params, lr=lrs[role], **spec)
    if decay.get("kind", "none") == "linear" and not updates:
        raise ValueError("linear lr_decay needs the number of updates of the run")
    attach_lr_decay(optimizer, decay, updates or 0)
    return optimizer


def merged_optimizer(optimizer: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``optimizer`` updated by ``override``; a different optimizer keeps only the
    learning rates of the old one (adam's betas mean nothing to sgd)."""
    if "name" in override and override["name"] != optimizer.get("name"):
        optimizer = {k: v for k, v in optimizer.items() if k in ("lr_d", "lr_g")}
    return {**optimizer, **override}
