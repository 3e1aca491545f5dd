"""The training loop: one linear loop for every variant, loss and dataset.

    python -m gans.train --config config/config.yaml --dataset 8gaussians \
        --variant gan --loss wgan-gp --seed 0 --out results/runs/8gaussians/gan/wgan-gp/seed0

Several seeds of one cell can share a job (``--seed 0 1 2 --out A B C``): they are
stacked into one model where the set-up allows (gans/batched.py), else trained one
after another; each seed still writes its own folder.

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

from gans import batched
from gans import config as gcfg
from gans.components import ParamError
from gans.datasets import DATASETS, build_dataset
from gans.registry import RegistryError
from gans.runtime import claim_gpu, seed_everything, select_device, set_matmul_precision, set_threads, write_json
from gans.variants import VARIANTS

LOG_COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "wall_time"]
OUTPUTS = ("config.resolved.yaml", "train_log.csv", "snapshots.pt", "checkpoint.pt", "train_summary.json")
# Not a declared output: Snakemake deletes the outputs of a failed job, and this
# file must survive a killed or preempted job so the next attempt continues.
RESUME = "resume.pt"
# Numbers per seed and kind (normal, uniform, integer) in a block of buffered random
# draws: about 20 toy steps at batch 512 between refills. Part of what a buffered run
# draws, so changing it changes results.
DRAW_BLOCK = 2**18


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


class SeedRun:
    """One seed's bookkeeping in a job: its config, folder, log rows, snapshots and end."""

    def __init__(self, cfg: dict[str, Any], out: Path):
        self.cfg, self.out = cfg, out
        self.rows: list[dict[str, float]] = []
        self.snapshots: dict[int, Any] = {}
        self.status, self.reason, self.end_step, self.state = "completed", None, None, None

    @property
    def done(self) -> bool:
        return self.end_step is not None

    def finish(self, status: str, reason: str | None, step: int, state: dict[str, Any]) -> None:
        self.status, self.reason, self.end_step, self.state = status, reason, step, state


class Job:
    """What the loop trains: one variant for a single seed, or S seeds stacked into
    one variant (gans/batched.py). Holds the random streams, so a resumed job
    continues them exactly."""

    def __init__(self, cfgs: list[dict[str, Any]], device: torch.device, stacked: bool | None = None,
                 block: int | None = None):
        self.seeds = len(cfgs)
        self.stacked = self.seeds > 1 if stacked is None else stacked
        variants = []
        latent_gens = []
        for cfg in cfgs:
            seed_everything(cfg["seed"])
            self.dataset, variant = build(cfg, device)
            variants.append(variant)
            latent_gens.append(batched.generator_like_global(device))
        # data has its own stream, so changing the model never changes the data it sees
        data_gens = [torch.Generator(device=device).manual_seed(cfg["seed"] + 1_000_003) for cfg in cfgs]
        self.block = block if self.stacked else None
        if not self.stacked:
            self.variant, self.data = variants[0], data_gens[0]
        else:
            self.variant = type(variants[0]).stacked(variants, batched.SeedRNG(latent_gens, self.block))
            self.data = batched.SeedRNG(data_gens, self.block)

    @property
    def random_draws(self) -> str:
        return "buffered" if self.block else "direct"

    def values(self, stats: dict[str, torch.Tensor]) -> list[dict[str, float]]:
        """Each seed's logged values (one host transfer per logging point)."""
        keys = list(stats)
        table = torch.stack([torch.as_tensor(v).detach().float().cpu().reshape(-1).expand(self.seeds) for v in stats.values()]).tolist()
        return [{k: table[j][i] for j, k in enumerate(keys)} for i in range(self.seeds)]

    def state(self, i: int, names: list[str] | None = None) -> dict[str, Any]:
        state = self.variant.state_dict(names)
        return batched.unstack_state(state, i) if self.stacked else state

    def rng_state(self) -> dict[str, Any]:
        # data: a torch.Generator alone, a SeedRNG when stacked (same interface)
        state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
                 "data": self.data.get_state()}
        if self.stacked:
            state["seeds"] = self.variant.seed_rng.get_state()
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        np.random.set_state(state["numpy"])
        random.setstate(state["python"])
        self.data.set_state(state["data"])
        if self.stacked:
            self.variant.seed_rng.set_state(state["seeds"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


def train(cfg: dict[str, Any], out_dir: str | Path, progress: bool | None = None) -> dict[str, Any]:
    """Train one run; returns its summary (also written to train_summary.json)."""
    return train_seeds([cfg], [out_dir], progress)[0]


def train_seeds(cfgs: list[dict[str, Any]], out_dirs: list[str | Path], progress: bool | None = None) -> list[dict[str, Any]]:
    """Train several seeds of one grid cell in this process: stacked into one model
    when the set-up allows (gans/batched.py), otherwise one after another. Each seed
    writes its own folder, exactly as when trained alone."""
    if len(cfgs) != len(out_dirs) or not cfgs:
        raise ValueError(f"give one output folder per run config ({len(cfgs)} configs, {len(out_dirs)} folders)")
    _check_one_cell(cfgs)
    tcfg = cfgs[0]["train"]
    set_threads(tcfg["threads"])
    set_matmul_precision(tcfg.get("precision", "fp32"))
    device = select_device(tcfg["device"])
    stacked, block, reason = stacking(cfgs, device)
    if reason:
        print(f"training the {len(cfgs)} seeds one after another: {reason}", file=sys.stderr)
        return [train(cfg, out, progress) for cfg, out in zip(cfgs, out_dirs)]
    runs = [SeedRun(cfg, Path(out)) for cfg, out in zip(cfgs, out_dirs)]
    job = Job(cfgs, device, stacked=stacked, block=block)
    for run in runs:
        run.out.mkdir(parents=True, exist_ok=True)
        gcfg.dump(run.cfg, run.out / "config.resolved.yaml")
        run.snapshots[0] = _cpu_copy(job.state(runs.index(run), job.variant.generator_modules()))
    first = 1
    resume_path = runs[0].out / RESUME
    resumed = load_resume(resume_path, cfgs, job)
    if resumed:
        first = resumed["step"] + 1
        for run, saved in zip(runs, resumed["runs"]):
            run.__dict__.update(saved)
        print(f"resuming from step {resumed['step']} ({resume_path})", file=sys.stderr)
    step = first - 1
    # wall_time continues from the interrupted attempt's clock
    start = time.perf_counter() - (max((r.rows[-1]["wall_time"] for r in runs if r.rows), default=0.0) if resumed else 0.0)
    variant = job.variant
    steps, n_critic, n_gen, bs = tcfg["steps"], cfgs[0]["n_critic"], cfgs[0]["n_gen"], tcfg["batch_size"]
    bar = tqdm(range(first, steps + 1), desc=_label(cfgs), disable=None if progress is None else not progress, file=sys.stderr)
    for step in bar:
        variant.progress = (step - 1) / steps
        is_eval = step % tcfg["eval_every"] == 0 or step == steps
        record = is_eval or step % tcfg["log_every"] == 0
        for k in range(n_critic):
            stats = variant.d_step(variant.real_batch(bs, job.data), record=record and k == n_critic - 1)
        for _ in range(n_gen):
            stats.update(variant.g_step(bs, record=record))
        if record:
            wall = time.perf_counter() - start
            for i, (run, values) in enumerate(zip(runs, job.values(stats))):
                if run.done:
                    continue
                row = {"step": step, **values, "wall_time": wall}
                run.rows.append(row)
                reason = divergence(row, tcfg["divergence_threshold"])
                if reason:
                    run.finish("diverged", reason, step, _cpu_copy(job.state(i)))
                elif is_eval:
                    run.snapshots[step] = _cpu_copy(job.state(i, variant.generator_modules()))
            bar.set_postfix(d_loss=f"{runs[0].rows[-1]['d_loss']:.3g}", g_loss=f"{runs[0].rows[-1]['g_loss']:.3g}", refresh=False)
            if all(run.done for run in runs):
                break
        if step % tcfg["checkpoint_every"] == 0 and step < steps:
            save_resume(resume_path, cfgs, step, job, runs)
    bar.close()

    wall = round(time.perf_counter() - start, 3)
    summaries = []
    for i, run in enumerate(runs):
        if not run.done:
            run.finish("completed", None, step, _cpu_copy(job.state(i)))
        summaries.append(_write_run(run, steps, wall, device, resumed, len(runs), job.random_draws))
    resume_path.unlink(missing_ok=True)
    return summaries


def _write_run(run: SeedRun, steps: int, wall: float, device: torch.device, resumed, seeds_in_job: int,
               random_draws: str) -> dict[str, Any]:
    out = run.out
    _write_log(run.rows, out / "train_log.csv")
    torch.save({"steps": sorted(run.snapshots), "states": run.snapshots}, out / "snapshots.pt")
    torch.save({"config": run.cfg, "step": run.end_step, "status": run.status, "state": run.state}, out / "checkpoint.pt")
    summary = {
        "status": run.status,
        "reason": run.reason,
        "steps_completed": run.end_step,
        "diverged_at_step": run.end_step if run.status == "diverged" else None,
        "last_snapshot_step": max(run.snapshots),
        "steps_planned": steps,
        "resumed_from_step": resumed["step"] if resumed else None,
        "wall_time_s": wall,
        "seeds_in_job": seeds_in_job,
        "random_draws": random_draws,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    write_json(summary, out / "train_summary.json")
    return summary


def draw_block(tcfg: dict[str, Any], device: torch.device) -> int | None:
    """The block size of buffered random draws for this run, or None for direct draws
    (``train.random_draws``; configs resolved before it existed draw directly)."""
    mode = tcfg.get("random_draws", "direct")
    if mode == "auto":
        mode = "buffered" if device.type == "cuda" else "direct"
    return DRAW_BLOCK if mode == "buffered" else None


def stacking(cfgs: list[dict[str, Any]], device: torch.device) -> tuple[bool, int | None, str | None]:
    """How a job trains these seeds: (stacked into one model, block of buffered draws
    or None, why the seeds must instead train one after another or None)."""
    block = draw_block(cfgs[0]["train"], device)
    if block and not DATASETS.get(cfgs[0]["dataset"]["name"]).draws_stacked:
        block = None  # (known from the class: no image split loaded to find out)
    if len(cfgs) == 1 and not block:
        return False, None, None
    # buffered draws go through the stacked model, for one seed too (S = 1), so a
    # seed draws the same numbers alone as in any stack
    reason = batched.reason_not_batchable(cfgs[0])
    if reason:
        return False, None, reason if len(cfgs) > 1 else None
    return True, block, None


def _check_one_cell(cfgs: list[dict[str, Any]]) -> None:
    """Seeds trained together must differ in their seed only."""
    base = {k: v for k, v in cfgs[0].items() if k != "seed"}
    for cfg in cfgs[1:]:
        other = {k: v for k, v in cfg.items() if k != "seed"}
        if other != base:
            keys = sorted(k for k in base.keys() | other.keys() if base.get(k) != other.get(k))
            raise ValueError(f"runs trained in one job must differ only in their seed; these keys differ: {', '.join(keys)}")
    seeds = [cfg["seed"] for cfg in cfgs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the seeds of one job must be distinct, got {seeds}")


def save_resume(path: Path, cfgs: list[dict[str, Any]], step: int, job: Job, runs: list[SeedRun]) -> None:
    """Everything needed to continue after ``step``, written atomically (a job
    killed while writing leaves the previous resume point intact)."""
    tmp = path.with_name(path.name + ".tmp")
    saved_runs = [{k: getattr(r, k) for k in ("rows", "snapshots", "status", "reason", "end_step", "state")} for r in runs]
    torch.save({"configs": cfgs, "step": step, "rng": job.rng_state(), "random_draws": job.random_draws,
                "state": job.variant.state_dict(), "runs": saved_runs}, tmp)
    os.replace(tmp, path)


def load_resume(path: Path, cfgs: list[dict[str, Any]], job: Job) -> dict[str, Any] | None:
    """Restore the state saved in ``path`` when it belongs to these very configs;
    a resume point of other configs (or an unreadable one) is ignored."""
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated file from a killed writer: start over
        print(f"ignoring unreadable {path}: {exc}", file=sys.stderr)
        return None
    if saved.get("configs") != cfgs:
        print(f"ignoring {path}: it was written with another config; starting over", file=sys.stderr)
        return None
    if saved.get("random_draws", "direct") != job.random_draws:  # e.g. random_draws: auto, saved on another device
        print(f"ignoring {path}: it was written with {saved.get('random_draws', 'direct')} random draws, this job "
              f"draws {job.random_draws}; starting over", file=sys.stderr)
        return None
    job.variant.load_state_dict(saved["state"])
    job.set_rng_state(saved["rng"])
    return saved


def _cpu_copy(state: Any) -> Any:
    # a deep copy on the CPU: later updates must not change a stored snapshot
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: _cpu_copy(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_copy(v) for v in state)
    return copy.deepcopy(state)


def _write_log(rows: list[dict[str, float]], path: Path) -> None:
    columns = LOG_COLUMNS + sorted({k for r in rows for k in r} - set(LOG_COLUMNS))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _label(cfgs: list[dict[str, Any]]) -> str:
    cfg = cfgs[0]
    seeds = "+".join(str(c["seed"]) for c in cfgs)
    return f"{cfg['dataset']['name']}/{gcfg.run_label(cfg)}/{cfg['loss']['name']}/seed{seeds}"


def run_configs_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The resolved run configs to train: one per seed."""
    if args.run_config:
        cfgs = json.loads(args.run_config)
        return cfgs if isinstance(cfgs, list) else [cfgs]
    missing = [k for k in gcfg.GRID_KEYS if getattr(args, k) is None]
    if missing:
        raise gcfg.ConfigError(f"with --config, also give: {', '.join('--' + k for k in missing)}")
    config = gcfg.load(args.config)
    try:
        return [gcfg.resolve_run(config, args.dataset, args.variant, args.loss, seed) for seed in args.seed]
    except (RegistryError, ParamError) as exc:
        raise gcfg.ConfigError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.train", description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a config YAML; pick the run with --dataset/--variant/--loss/--seed")
    src.add_argument("--run-config", help="a resolved run config as JSON, or a list of them, one per seed (what the pipeline passes)")
    for key in ("dataset", "variant", "loss"):
        parser.add_argument(f"--{key}")
    parser.add_argument("--seed", type=int, nargs="+", help="one seed, or several trained together in this process")
    parser.add_argument("--out", required=True, nargs="+", help="each run's output folder, in the order of the seeds")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: when on a terminal)")
    args = parser.parse_args(argv)
    try:
        cfgs = run_configs_from_args(args)
        if len(cfgs) != len(args.out):
            raise gcfg.ConfigError(f"give one --out folder per seed: {len(cfgs)} runs, {len(args.out)} folders")
    except gcfg.ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    if cfgs[0]["train"]["device"] != "cpu":
        claim_gpu()  # before CUDA starts: one GPU per job when several share a machine
    for summary in train_seeds(cfgs, args.out, progress=args.progress):
        print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
