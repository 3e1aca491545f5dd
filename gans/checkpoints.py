"""A run's files from training, and resume points: the log, the generator snapshots,
the final checkpoint and the summary of one seed (with each file's size and
checksum); and everything a killed job needs to continue (resume.pt). Files are
written atomically and hold tensors and plain data only, read back with
``weights_only=True`` (gans/safe_io.py)."""

from __future__ import annotations

import copy
import csv
import json
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from gans import compute, layout, safe_io
from gans.job import Job
from gans.provenance import provenance

# training outputs whose size and checksum train_summary.json records
VERIFIED_FILES = [layout.RESOLVED_CONFIG, layout.TRAIN_LOG, layout.SNAPSHOTS, layout.CHECKPOINT]
# what save_resume writes and load_resume reads back
RESUME_KEYS = {"configs", "step", "rng", "state", "runs"}
LOG_COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "wall_time"]


class SeedRun:
    """One seed's bookkeeping in a job: its config, folder, log rows, snapshots and end."""

    def __init__(self, cfg: dict[str, Any], out: Path):
        self.cfg, self.out = cfg, out
        self.rows: list[dict[str, float]] = []
        self.snapshots: dict[int, Any] = {}
        self.status, self.reason, self.end_step, self.state = "completed", None, None, None
        self.held = 0  # consecutive evaluation points at the quality bar (train.until: bar)

    @property
    def done(self) -> bool:
        return self.end_step is not None

    def finish(self, status: str, reason: str | None, step: int, state: dict[str, Any]) -> None:
        self.status, self.reason, self.end_step, self.state = status, reason, step, state


def write_run(
    run: SeedRun, steps: int, wall: float, device: torch.device, resumed, seeds_in_job: int, random_draws: str
) -> dict[str, Any]:
    out = run.out
    write_log(run.rows, out / layout.TRAIN_LOG)
    safe_io.save({"steps": sorted(run.snapshots), "states": run.snapshots}, out / layout.SNAPSHOTS)
    safe_io.save(
        {"config": run.cfg, "step": run.end_step, "status": run.status, "state": run.state}, out / layout.CHECKPOINT
    )
    summary = {
        "status": run.status,
        "reason": run.reason,
        "steps_completed": run.end_step,
        "diverged_at_step": run.end_step if run.status == "diverged" else None,
        "last_snapshot_step": max(run.snapshots),
        "steps_planned": steps,
        "resumed_from_step": resumed["step"] if resumed else None,
        "wall_time_s": wall,
        "compute": compute.spent(run.cfg, run.end_step, wall, seeds_in_job),
        "seeds_in_job": seeds_in_job,  # members of the job's population
        "random_draws": random_draws,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "provenance": provenance(device),
    }
    summary["files"] = safe_io.file_records(out, VERIFIED_FILES)  # evaluation checks them before loading
    # whole or not at all: a job killed while writing leaves no summary cut short
    text = json.dumps(summary, indent=2, sort_keys=True, default=float) + "\n"
    safe_io.write_atomic(out / layout.TRAIN_SUMMARY, text.encode())
    return summary


def save_resume(path: Path, cfgs: list[dict[str, Any]], step: int, job: Job, runs: list[SeedRun]) -> None:
    """Everything needed to continue after ``step``, written atomically (a job
    killed while writing, or a full disk, leaves the previous resume point intact)."""
    saved_runs = [
        {k: getattr(r, k) for k in ("rows", "snapshots", "status", "reason", "end_step", "state", "held")} for r in runs
    ]
    safe_io.save(
        {
            "configs": cfgs,
            "step": step,
            "rng": job.rng_state(),
            "random_draws": job.random_draws,
            "state": job.variant.state_dict(),
            "runs": saved_runs,
            "active": job.active,
        },
        path,
    )


def load_resume(path: Path, cfgs: list[dict[str, Any]], job: Job) -> dict[str, Any] | None:
    """Restore the state saved in ``path`` when it belongs to these very configs;
    a resume point of other configs, an unreadable one, or one holding anything but
    tensors and plain data (never unpickled) is ignored."""
    if not path.is_file():
        return None
    try:
        saved = safe_io.load_tensors(path)
    except safe_io.DamagedFile as exc:
        print(f"ignoring {exc}; starting over", file=sys.stderr)
        return None
    if not isinstance(saved, dict) or not RESUME_KEYS <= set(saved):
        print(f"ignoring {path}: it lacks what a resume point holds; starting over", file=sys.stderr)
        return None
    if saved.get("configs") != cfgs:
        print(f"ignoring {path}: it was written with another config; starting over", file=sys.stderr)
        return None
    if saved.get("random_draws", "direct") != job.random_draws:  # e.g. random_draws: auto, saved on another device
        print(
            f"ignoring {path}: it was written with {saved.get('random_draws', 'direct')} random draws, this job "
            f"draws {job.random_draws}; starting over",
            file=sys.stderr,
        )
        return None
    job.keep(list(saved.get("active", job.active)))  # members stopped before the resume point
    job.variant.load_state_dict(saved["state"])
    job.set_rng_state(saved["rng"])
    return saved


def cpu_copy(state: Any) -> Any:
    # a deep copy on the CPU: later updates must not change a stored snapshot
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: cpu_copy(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(cpu_copy(v) for v in state)
    return copy.deepcopy(state)


def write_log(rows: list[dict[str, float]], path: Path) -> None:
    columns = LOG_COLUMNS + sorted({k for r in rows for k in r} - set(LOG_COLUMNS))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
