"""Optimizers by name. ``lr_d``/``lr_g`` give D and G their own learning rates
(two time-scale updates); every other key goes to the torch optimizer."""
from __future__ import annotations

from typing import Any, Iterable

import torch

OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}


def build_optimizer(params: Iterable[torch.nn.Parameter], spec: dict[str, Any], role: str) -> torch.optim.Optimizer:
    """``role`` is "d" or "g": picks ``lr_d`` or ``lr_g`` from ``spec``."""
    spec = dict(spec)
    name = spec.pop("name")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{name}'; choose one of: {', '.join(sorted(OPTIMIZERS))}")
    lrs = {"d": spec.pop("lr_d"), "g": spec.pop("lr_g")}
    if "betas" in spec:
        spec["betas"] = tuple(spec["betas"])
    return OPTIMIZERS[name](params, lr=lrs[role], **spec)
