"""The training loop: one linear loop for every variant, loss and dataset.

    python -m gans.train --config config/config.yaml --dataset 8gaussians \
        --variant gan --loss wgan-gp --seed 0 --out results/runs/8gaussians/gan/wgan-gp/seed0

Writes, in ``--out``: config.resolved.yaml, train_log.csv (losses, mean D(x),
mean D(G(z)), gradient norms every ``log_every`` steps), snapshots.pt (the
generator at every evaluation point, step 0 included), checkpoint.pt (everything,
with the resolved config inside) and train_summary.json (status: completed or
diverged, steps done, wall time, device).

Every ``train.checkpoint_every`` steps it also writes resume.pt (networks,
optimizers, every RNG state, the log rows and snapshots so far). A run started
again with the same config continues from there, with the same result as an
uninterrupted run on the CPU; resume.pt is removed when the run finishes.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from gans import config as gcfg
from gans.components import ParamError
from gans.datasets import build_dataset
from gans.registry import RegistryError
from gans.runtime import claim_gpu, seed_everything, select_device, set_threads, write_json
from gans.variants import VARIANTS

LOG_COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "wall_time"]
OUTPUTS = ("config.resolved.yaml", "train_log.csv", "snapshots.pt", "checkpoint.pt", "train_summary.json")
# Not a declared output: Snakemake deletes the outputs of a failed job, and this
# file must survive a killed or preempted job so the next attempt continues.
RESUME = "resume.pt"


def build(cfg: dict[str, Any], device: torch.device | str = "cpu"):
    """The dataset and the variant (with its networks and optimizers) of a resolved config."""
    dataset = build_dataset(cfg["dataset"]["name"], **cfg["dataset"]["params"])
    variant = VARIANTS.get(cfg["variant"]["name"])(cfg, dataset, device)
    return dataset, variant


def divergence(stats: dict[str, float], threshold: float) -> str | None:
    """Why the run has diverged, or None."""
    for key in ("d_loss", "g_loss"):
        value = stats.get(key)
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{key} is {value}"
        if abs(value) > threshold:
            return f"|{key}| = {abs(value):.3g} exceeds divergence_threshold {threshold:g}"
    return None


def train(cfg: dict[str, Any], out_dir: str | Path, progress: bool | None = None) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tcfg = cfg["train"]
    set_threads(tcfg["threads"])
    device = select_device(tcfg["device"])
    seed_everything(cfg["seed"])
    dataset, variant = build(cfg, device)
    # data has its own stream, so changing the model never changes the data it sees
    data_gen = torch.Generator(device=device).manual_seed(cfg["seed"] + 1_000_003)
    gcfg.dump(cfg, out / "config.resolved.yaml")

    snapshots = {0: _generator_state(variant)}
    rows: list[dict[str, float]] = []
    status, reason, first = "completed", None, 1
    resumed = load_resume(out / RESUME, cfg, variant, data_gen)
    if resumed:
        first, rows, snapshots = resumed["step"] + 1, resumed["rows"], resumed["snapshots"]
        print(f"resuming from step {resumed['step']} ({out / RESUME})", file=sys.stderr)
    step = first - 1
    # wall_time continues from the interrupted attempt's clock
    start = time.perf_counter() - (rows[-1]["wall_time"] if resumed and rows else 0.0)
    steps, n_critic, bs = tcfg["steps"], cfg["n_critic"], tcfg["batch_size"]
    bar = tqdm(range(first, steps + 1), desc=_label(cfg), disable=None if progress is None else not progress, file=sys.stderr)
    for step in bar:
        variant.progress = (step - 1) / steps
        is_eval = step % tcfg["eval_every"] == 0 or step == steps
        record = is_eval or step % tcfg["log_every"] == 0
        for k in range(n_critic):
            stats = variant.d_step(variant.real_batch(bs, data_gen), record=record and k == n_critic - 1)
        for _ in range(cfg["n_gen"]): stats.update(variant.g_step(bs, record=record))
        if record:
            row = {"step": step, **{k: float(v) for k, v in stats.items()}, "wall_time": time.perf_counter() - start}
            rows.append(row)
            bar.set_postfix(d_loss=f"{row['d_loss']:.3g}", g_loss=f"{row['g_loss']:.3g}", refresh=False)
            reason = divergence(row, tcfg["divergence_threshold"])
            if reason:
                status = "diverged"
                break
            if is_eval:
                snapshots[step] = _generator_state(variant)
        if step % tcfg["checkpoint_every"] == 0 and step < steps:
            save_resume(out / RESUME, cfg, step, variant, data_gen, rows, snapshots)
    bar.close()

    _write_log(rows, out / "train_log.csv")
    torch.save({"steps": sorted(snapshots), "states": snapshots}, out / "snapshots.pt")
    torch.save({"config": cfg, "step": step, "status": status, "state": variant.state_dict()}, out / "checkpoint.pt")
    summary = {
        "status": status,
        "reason": reason,
        "steps_completed": step,
        "diverged_at_step": step if status == "diverged" else None,
        "last_snapshot_step": max(snapshots),
        "steps_planned": steps,
        "resumed_from_step": resumed["step"] if resumed else None,
        "wall_time_s": round(time.perf_counter() - start, 3),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    write_json(summary, out / "train_summary.json")
    (out / RESUME).unlink(missing_ok=True)
    return summary


def _rng_state(data_gen: torch.Generator) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(), "data": data_gen.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any], data_gen: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    data_gen.set_state(state["data"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_resume(path: Path, cfg: dict[str, Any], step: int, variant, data_gen: torch.Generator,
                rows: list[dict[str, float]], snapshots: dict[int, Any]) -> None:
    """Everything needed to continue after ``step``, written atomically (a job
    killed while writing leaves the previous resume point intact)."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"config": cfg, "step": step, "rng": _rng_state(data_gen), "state": variant.state_dict(),
                "rows": rows, "snapshots": snapshots}, tmp)
    os.replace(tmp, path)


def load_resume(path: Path, cfg: dict[str, Any], variant, data_gen: torch.Generator) -> dict[str, Any] | None:
    """Restore the state saved in ``path`` when it belongs to this very config;
    a resume point of another config (or an unreadable one) is ignored."""
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated file from a killed writer: start over
        print(f"ignoring unreadable {path}: {exc}", file=sys.stderr)
        return None
    if saved.get("config") != cfg:
        print(f"ignoring {path}: it was written with another config; starting over", file=sys.stderr)
        return None
    variant.load_state_dict(saved["state"])
    _set_rng_state(saved["rng"], data_gen)
    return saved


def _generator_state(variant) -> dict[str, Any]:
    # a deep copy on the CPU: later updates must not change a stored snapshot
    return copy.deepcopy({k: {n: t.detach().cpu() for n, t in v.items()} for k, v in variant.state_dict(variant.generator_modules()).items()})


def _write_log(rows: list[dict[str, float]], path: Path) -> None:
    columns = LOG_COLUMNS + sorted({k for r in rows for k in r} - set(LOG_COLUMNS))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _label(cfg: dict[str, Any]) -> str:
    return f"{cfg['dataset']['name']}/{cfg['variant']['name']}/{cfg['loss']['name']}/seed{cfg['seed']}"


def run_config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    if args.run_config:
        return json.loads(args.run_config)
    missing = [k for k in gcfg.GRID_KEYS if getattr(args, k) is None]
    if missing:
        raise gcfg.ConfigError(f"with --config, also give: {', '.join('--' + k for k in missing)}")
    config = gcfg.load(args.config)
    try:
        return gcfg.resolve_run(config, args.dataset, args.variant, args.loss, args.seed)
    except (RegistryError, ParamError) as exc:
        raise gcfg.ConfigError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.train", description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a config YAML; pick the run with --dataset/--variant/--loss/--seed")
    src.add_argument("--run-config", help="a resolved run config as JSON (what the pipeline passes)")
    for key in ("dataset", "variant", "loss"):
        parser.add_argument(f"--{key}")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--out", required=True, help="the run's output folder")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: when on a terminal)")
    args = parser.parse_args(argv)
    try:
        cfg = run_config_from_args(args)
    except gcfg.ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    if cfg["train"]["device"] != "cpu":
        claim_gpu()  # before CUDA starts: one GPU per job when several share a machine
    summary = train(cfg, args.out, progress=args.progress)
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
