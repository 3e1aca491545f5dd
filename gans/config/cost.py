"""What a run costs, known before it runs: its networks are built on the meta device
(no memory, no data) and one training step's arithmetic and saved activations are
counted there (``torch.utils.flop_counter``, ``saved_tensors_hooks``).

Sizes have no upper bound in the schema: a bound on one key (steps, width, batch,
samples) would be arbitrary, and the keys multiply. What is refused instead is a
config whose cost no machine can meet:

- a run whose training arithmetic exceeds what a petaflop/s machine does in 30 days
  (about 3e21 FLOP; a published DCGAN run on CIFAR-10 is about 1e16);
- a training job (a population of members) or an evaluation job that needs more memory
  than the machine where the jobs run: an error there, a note from ``make check``.

The estimates are lower bounds: the arithmetic of the networks' matrix products and
convolutions at ``n_critic + n_gen`` forward-backward passes a step, and the memory of
parameters, Adam's moments and saved activations, not the variant's or the loss's
extras (a gradient penalty's second backward, a packed discriminator).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from typing import Any

import torch

# what one machine does in 30 days at 1e15 FLOP/s: more than that cannot finish anywhere
LIMIT_FLOP = 1e15 * 30 * 86400
# a step that this many of fit in the limit is affordable: then the steps are too many
AFFORDABLE_STEPS = 10_000
FLOAT_BYTES = 4
# parameters, their gradients and Adam's two moments
PARAMETER_COPIES = 4
# the interpreter, torch and the data: what a job holds besides its members
BASE_BYTES = 500 * 2**20


@dataclass(frozen=True)
class StepCost:
    """One member's training step: FLOP of its forward-backward passes, bytes of its
    parameters (with gradients and optimizer state) and saved activations."""

    flop: float
    parameter_bytes: int
    activation_bytes: int

    @property
    def member_bytes(self) -> int:
        return self.parameter_bytes + self.activation_bytes


def step_cost(run: dict[str, Any]) -> StepCost | None:
    """``StepCost`` of a resolved run (``gans.config.run.resolve_run``); None where its
    networks cannot run on the meta device (no estimate, nothing refused)."""
    from gans.datasets import DATASETS

    dataset = DATASETS.get(run["dataset"]["name"])(**run["dataset"]["params"])
    passes = run["n_critic"] + run["n_gen"]
    pass_cost = _pass_cost(
        run["architecture"]["name"],
        json.dumps(run["architecture"]["params"], sort_keys=True),
        tuple(dataset.declared_shape()),
        run["noise_dim"],
        run["train"]["batch_size"],
    )
    if pass_cost is None:
        return None
    flop, params, saved = pass_cost
    return StepCost(flop * passes, params * FLOAT_BYTES * PARAMETER_COPIES, saved)


def check_arithmetic(run: dict[str, Any]) -> None:
    """ValueError when one run's training arithmetic exceeds ``LIMIT_FLOP``, naming
    the steps when one step is affordable (``AFFORDABLE_STEPS`` of them), else the networks."""
    cost = step_cost(run)
    steps, batch = run["train"]["steps"], run["train"]["batch_size"]
    if cost is None or cost.flop * steps <= LIMIT_FLOP:
        return
    from gans.datasets import DATASETS

    arch = f"{run['architecture']['name']} {run['architecture']['params']}"
    if cost.flop * AFFORDABLE_STEPS <= LIMIT_FLOP:
        what = f"'train.steps': {steps:.3g} steps of {cost.flop:.2g} FLOP (batch {batch}, {arch})"
    else:
        key = f"models.{DATASETS.get(run['dataset']['name']).modality}.params"
        what = f"'{key}': {arch} at batch {batch} (train.batch_size) does {cost.flop:.2g} FLOP a step"
    raise ValueError(
        f"{what}: one run needs at least {cost.flop * steps:.2g} FLOP, more than a machine at 1 PFLOP/s does "
        f"in 30 days ({LIMIT_FLOP:.2g}); lower the steps, the batch or the networks' size"
    )


@functools.lru_cache(maxsize=256)
def _pass_cost(
    arch: str, params: str, shape: tuple[int, ...], noise_dim: int, batch: int
) -> tuple[float, int, int] | None:
    """(FLOP, parameters, saved-activation bytes) of G's batch through D and back, and
    D's pass over as many real samples, on the meta device (None where an operation has
    no meta kernel)."""
    from torch.utils.flop_counter import FlopCounterMode

    from gans.architectures import build_architecture

    architecture = build_architecture(arch, **json.loads(params))
    saved, weights = [0], set()

    def pack(t: torch.Tensor) -> torch.Tensor:  # a saved weight (or a view of one) is not an activation
        if id(t) not in weights and (t._base is None or id(t._base) not in weights):
            saved[0] += t.numel() * t.element_size()
        return t

    try:
        with torch.device("meta"), FlopCounterMode(display=False) as counter:
            generator = architecture.generator(shape, noise_dim)
            discriminator = architecture.discriminator(shape)
            weights.update(id(p) for net in (generator, discriminator) for p in net.parameters())
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                fake = generator(torch.zeros(batch, noise_dim))
                score = discriminator(fake).sum() + discriminator(torch.zeros(batch, *shape)).sum()
            score.backward()
    except (NotImplementedError, RuntimeError):
        return None
    count = sum(p.numel() for net in (generator, discriminator) for p in net.parameters())
    return float(counter.get_total_flops()), count, saved[0]


def evaluation_bytes(fake: int, real: int, shape: tuple[int, ...], features: int = 0) -> int:
    """Memory of one evaluation point: the generated and real samples, and their
    features when an extractor embeds them."""
    return (fake + real) * (math.prod(shape) + features) * FLOAT_BYTES


def machine_bytes(device: str) -> tuple[int, str]:
    """Memory the jobs of ``device`` can use on this machine, and its name in words."""
    if device.startswith("cuda") and torch.cuda.is_available():
        index = int(device.partition(":")[2] or 0)
        if index < torch.cuda.device_count():
            return torch.cuda.get_device_properties(index).total_memory, f"GPU {index}'s memory"
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "this machine's memory"


def in_words(value: float, unit: str = "B") -> str:
    """``value`` with a binary (bytes) or decimal prefix, e.g. 3.2 GiB, 4.1e+21 FLOP."""
    if unit == "B":
        for prefix in ("", "Ki", "Mi", "Gi", "Ti", "Pi"):
            if value < 1024 or prefix == "Pi":
                return f"{value:.3g} {prefix}B"
            value /= 1024
    return f"{value:.2g} {unit}"
