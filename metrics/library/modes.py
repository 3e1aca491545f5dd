"""Mode statistics on Gaussian mixtures, as in VEEGAN and PacGAN: each sample goes
to its nearest centre; it is high-quality when within ``hq_std`` standard
deviations of it; a mode is covered when it holds at least ``min_count``
high-quality samples; the reverse KL compares the mode histogram of the
high-quality samples with the uniform one; the covered modes themselves are kept
(``modes_set``, e.g. "0 3 5"), so a trajectory shows whether a run keeps its modes or
hops between them. No library computes these."""

from __future__ import annotations

import math

import torch

from metrics import METRICS, Metric


def assign_modes(points: torch.Tensor, centers: torch.Tensor, std: float, hq_std: float = 3.0) -> torch.Tensor:
    """Each point's nearest mode when it is high-quality (within ``hq_std`` stds), else -1."""
    nearest_dist, nearest = torch.cdist(points.to(torch.float64), centers.to(torch.float64)).min(dim=1)
    return torch.where(nearest_dist <= hq_std * std, nearest, -1)


def mode_statistics(
    points: torch.Tensor, centers: torch.Tensor, std: float, hq_std: float = 3.0, min_count: int = 1
) -> dict[str, float]:
    k = len(centers)
    mode = assign_modes(points, centers, std, hq_std)
    counts = torch.bincount(mode[mode >= 0], minlength=k).to(torch.float64)
    n_hq = counts.sum().item()
    if n_hq > 0:
        p = counts / n_hq
        nz = p > 0
        reverse_kl = float((p[nz] * torch.log(p[nz] * k)).sum())
    else:
        reverse_kl = math.nan  # undefined: no sample lies on any mode
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "modes_total": k,
        "hq_fraction": n_hq / max(len(points), 1),
        "reverse_kl": reverse_kl,
        "modes_set": mode_set_text(counts >= min_count),
    }


def mode_set_text(covered: torch.Tensor) -> str:
    """The indices of the covered modes, space-separated ("" for none)."""
    return " ".join(str(i) for i in torch.nonzero(covered).flatten().tolist())


def parse_mode_set(text) -> frozenset[int]:
    """``mode_set_text`` read back (an empty or missing cell is the empty set)."""
    if not isinstance(text, str):
        return frozenset()
    return frozenset(int(i) for i in text.split())


@METRICS.register("modes")
class Modes(Metric):
    modalities = ("points",)
    higher_is_better = {"modes_covered": True, "hq_fraction": True, "reverse_kl": False}

    def compute(self, fake):
        m = self.cfg["modes"]
        return mode_statistics(fake, self.dataset.centers, self.dataset.mode_std, m["hq_std"], m["min_count"])
