"""What a run spent: its updates, the real samples its discriminator saw, and its
share of the job's wall time, so comparisons can be made at equal compute as well
as at an equal number of settings. Recorded in train_summary.json (``compute``)."""

from __future__ import annotations

from typing import Any

COLUMNS = ["d_updates", "g_updates", "samples_seen", "wall_time_share_s"]


def spent(cfg: dict[str, Any], steps: int | None, wall_s: float, seeds_in_job: int) -> dict[str, Any]:
    """A run's compute after ``steps`` training steps (each: n_critic D updates on a
    real batch, then n_gen G updates); stacked seeds share the job's wall time."""
    steps = int(steps or 0)
    d_updates = steps * cfg["n_critic"]
    return {
        "d_updates": d_updates,
        "g_updates": steps * cfg.get("n_gen", 1),
        "samples_seen": d_updates * cfg["train"]["batch_size"],
        "wall_time_share_s": round(wall_s / max(seeds_in_job, 1), 3),
    }


def wall_share_s(train: dict[str, Any]) -> float:
    """A run's share of its job's wall time: a population of k seeds trained as
    one job spends the job's wall time on all k of them."""
    if "compute" in train:
        return float(train["compute"]["wall_time_share_s"])
    return float(train["wall_time_s"]) / max(int(train.get("seeds_in_job", 1)), 1)


def columns(train: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """A run's compute from its training summary (computed from its config and steps
    for runs whose summary predates the record)."""
    if "compute" in train:
        return {k: train["compute"][k] for k in COLUMNS}
    return spent(cfg, train["steps_completed"], train["wall_time_s"], train.get("seeds_in_job", 1))
