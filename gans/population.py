"""A population: members (any mix of settings and seeds that share one population key,
gans/members.py) trained as one batched model, stopping independently.

Built on stacking (gans/stacking.py): each member's networks are built as they would
be alone and stacked along a leading member dimension; each member's continuous
hyper-parameters (learning rates, betas, penalty weights, instance-noise scale, label
smoothing, clip value) are (P,) tensors (gans/population_optim.py, ``Regularizer.
stack_members``); each member draws from its own random streams. A member that
diverges, or that has held the quality bar for the configured evaluation points
(``train.until: bar``), stops: its state is recorded and the population is compacted,
so it costs nothing more.

The bar is checked in training on the Gaussian mixtures, for all members in one pass,
with the protocol of the evaluation (metrics.evaluate): ``evaluation.num_samples``
generated points from noise seeded ``evaluation.seed + 1`` and as many real points
seeded ``evaluation.seed``; a point is high-quality within ``hq_std`` stds of its
nearest centre; a mode is covered with ``min_count`` high-quality points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

# what the in-training bar reads from the resolved run config's ``stop`` section
STOP_KEYS = ("modes", "hq_share", "hold_points", "num_samples", "seed", "hq_std", "min_count")


def mode_counts(points: torch.Tensor, centers: torch.Tensor, std: float, hq_std: float) -> torch.Tensor:
    """High-quality points per mode, for a batch of point sets: ``points`` (..., N, D),
    ``centers`` (K, D) -> counts (..., K), in float64 as the evaluation assigns them."""
    x = points.to(torch.float64)
    c = centers.to(device=x.device, dtype=torch.float64)
    dist, nearest = torch.cdist(x, c.expand(*x.shape[:-2], *c.shape)).min(dim=-1)
    hq = (dist <= hq_std * std).to(torch.float64)
    counts = torch.zeros(*x.shape[:-2], len(c), dtype=torch.float64, device=x.device)
    return counts.scatter_add_(-1, nearest, hq)


class BarMonitor:
    """Which members meet the quality bar at an evaluation point, all in one pass, and
    how many consecutive evaluation points each has met it."""

    def __init__(self, stop: dict[str, Any], dataset, device: torch.device):
        missing = [k for k in STOP_KEYS if k not in stop]
        if missing:
            raise ValueError(f"the run config's 'stop' section lacks {', '.join(missing)}")
        if not hasattr(dataset, "centers"):
            raise ValueError(
                f"train.until: bar is checked in training on datasets with modes (Gaussian mixtures); "
                f"'{dataset.name}' has none: use train.until: steps"
            )
        self.stop, self.dataset, self.device = stop, dataset, device
        real = dataset.sample(stop["num_samples"], torch.Generator().manual_seed(stop["seed"]))
        self.real_hq = float(self._counts(real).sum() / stop["num_samples"])

    def _counts(self, points: torch.Tensor) -> torch.Tensor:
        return mode_counts(points, self.dataset.centers, self.dataset.mode_std, self.stop["hq_std"])

    def samples(self, variant, members: int | None) -> torch.Tensor:
        """Every member's evaluation samples, (P, N, D) (or (N, D) for a lone run), drawn
        from the same noise as metrics.evaluate draws."""
        n, g = self.stop["num_samples"], torch.Generator().manual_seed(self.stop["seed"] + 1)
        training = variant.generator.training
        variant.generator.eval()  # as the evaluation samples: batch norm on its running statistics
        try:
            if members is None:
                return variant.sample(n, g).unsqueeze(0)
            z = torch.randn(n, variant.noise_dim, generator=g).to(variant.device)
            with torch.no_grad():
                return variant.data_part(variant.generate(z.expand(members, *z.shape).contiguous(), {}))
        finally:
            variant.generator.train(training)

    def met(self, variant, members: int | None) -> torch.Tensor:
        """(P,) bool: each member meets the bar now (modes and high-quality share)."""
        counts = self._counts(self.samples(variant, members))
        covered = (counts >= self.stop["min_count"]).sum(-1).to(torch.float64) / counts.shape[-1]
        hq = counts.sum(-1) / self.stop["num_samples"] / max(self.real_hq, 1e-12)
        ok = torch.ones_like(covered, dtype=torch.bool)
        if self.stop["modes"] is not None:
            ok &= covered >= self.stop["modes"]
        if self.stop["hq_share"] is not None:
            ok &= hq >= self.stop["hq_share"]
        return ok.cpu()


def keep_members(modules: list[torch.nn.Module], index: torch.Tensor) -> None:
    """Slice every stacked parameter of ``modules``, and every buffer a submodule
    declares to have a member dimension (``member_buffers``: spectral normalisation's
    u and v), to the members at ``index``. Any other buffer is refused: it could not be
    sliced correctly."""
    for module in modules:
        for sub in module.modules():
            for name, _ in sub.named_buffers(recurse=False):
                if name not in getattr(sub, "member_buffers", ()):
                    raise ValueError(
                        f"{type(sub).__name__} has a buffer '{name}' without a member dimension; "
                        "a population slices parameters and member buffers only"
                    )
    for module in modules:
        for p in module.parameters():
            p.data = p.data[index.to(p.device)]
            p.grad = None
        for sub in module.modules():
            for name in getattr(sub, "member_buffers", ()):
                buffer = getattr(sub, name)
                setattr(sub, name, buffer[index.to(buffer.device)])


def keep_rng(rng, index: list[int]) -> None:
    """Keep the random streams of the members at ``index`` (a SeedRNG)."""
    rng.generators = [rng.generators[i] for i in index]
    pick = torch.tensor(index)
    rng.blocks = {k: (b[pick.to(b.device)], pos) for k, (b, pos) in rng.blocks.items()}


def narrow_members(modules: list[torch.nn.Module], m: int) -> Callable[[], None]:
    """Every stacked parameter and member buffer of ``modules`` as a view of its first
    ``m`` members until the returned function is called: what is computed and updated
    meanwhile is the first m members' own, written in place."""
    saved: list[tuple[Any, str, torch.Tensor]] = []
    for module in modules:
        for p in module.parameters():
            saved.append((p, "data", p.data))
            p.grad = None
            p.data = p.data[:m]
        for sub in module.modules():
            for name in getattr(sub, "member_buffers", ()):
                saved.append((sub, name, getattr(sub, name)))
                setattr(sub, name, getattr(sub, name)[:m])

    def restore() -> None:
        for owner, name, full in saved:
            if name == "data":
                owner.grad = None  # a gradient of the first m members only
            setattr(owner, name, full)

    return restore


def narrow_rng(rng, m: int) -> Callable[[], None]:
    """The random streams of the first ``m`` members only (a SeedRNG with direct draws)
    until the returned function is called."""
    if rng.buffered:  # block positions are shared by all members: they must draw alike
        raise ValueError("members drawing buffered random numbers cannot step apart")
    generators = rng.generators
    rng.generators = generators[:m]

    def restore() -> None:
        rng.generators = generators

    return restore
