"""The training loop: one linear loop for every variant, loss and dataset.

    python -m gans.train --config config/config.yaml --dataset 8gaussians \
        --variant gan --loss wgan-gp --seed 0 --out results/runs/8gaussians/gan/wgan-gp/seed0

Several seeds of one cell can share a job (``--seed 0 1 2 --out A B C``): they are
stacked into one model where the set-up allows (gans/stacking.py), else trained one
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
import errno
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from gans import config as gcfg
from gans import layout
from gans.checkpoints import SeedRun, cpu_copy, load_resume, save_resume, write_run
from gans.components import ParamError
from gans.config.checks import check_device
from gans.job import Job, build_job, check_one_population, training_order
from gans.population import BarMonitor
from gans.progress import progress_bar
from gans.registry import RegistryError
from gans.runtime import claim_gpu, select_device, set_matmul_precision, set_threads


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
    """Train one run; returns its summary (also written to train_summary.json)."""
    return train_seeds([cfg], [out_dir], progress)[0]


def train_seeds(
    cfgs: list[dict[str, Any]], out_dirs: list[str | Path], progress: bool | None = None
) -> list[dict[str, Any]]:
    """Train several seeds of one grid cell in this process: stacked into one model
    when the set-up allows (gans/stacking.py), otherwise one after another. Each seed
    writes its own folder, exactly as when trained alone."""
    if len(cfgs) != len(out_dirs) or not cfgs:
        raise ValueError(f"give one output folder per run config ({len(cfgs)} configs, {len(out_dirs)} folders)")
    check_one_population(cfgs)
    tcfg = cfgs[0]["train"]
    set_threads(tcfg["threads"])
    set_matmul_precision(tcfg.get("precision", "fp32"))
    device = select_device(tcfg["device"])
    groups = training_order(cfgs, device)
    if groups != [list(range(len(cfgs)))]:
        summaries: dict[int, dict[str, Any]] = {}
        for group in groups:
            done = train_seeds([cfgs[i] for i in group], [out_dirs[i] for i in group], progress)
            summaries.update(zip(group, done, strict=True))
        return [summaries[i] for i in range(len(cfgs))]
    job = build_job(cfgs, device)
    if job is None:
        return [train(cfg, out, progress) for cfg, out in zip(cfgs, out_dirs, strict=True)]
    runs = [SeedRun(cfg, Path(out)) for cfg, out in zip(cfgs, out_dirs, strict=True)]
    for i, run in enumerate(runs):
        run.out.mkdir(parents=True, exist_ok=True)
        gcfg.dump(run.cfg, run.out / layout.RESOLVED_CONFIG)
        run.snapshots[0] = cpu_copy(job.state(i, job.variant.snapshot_modules()))
    resume_path = runs[0].out / layout.RESUME
    resumed = load_resume(resume_path, cfgs, job)
    if resumed:
        for run, saved in zip(runs, resumed["runs"], strict=True):
            run.__dict__.update(saved)
    if resumed:
        print(f"resuming from step {resumed['step']} ({resume_path})", file=sys.stderr)
    first = resumed["step"] + 1 if resumed else 1
    # wall_time continues from the interrupted attempt's clock
    start = time.perf_counter() - (
        max((r.rows[-1]["wall_time"] for r in runs if r.rows), default=0.0) if resumed else 0.0
    )
    step = run_steps(job, runs, first, start, resume_path, progress)
    wall = round(time.perf_counter() - start, 3)
    summaries = []
    for position, i in enumerate(job.active):
        runs[i].finish("completed", None, step, cpu_copy(job.state(position)))
    for run in runs:
        summaries.append(write_run(run, tcfg["steps"], wall, device, resumed, len(runs), job.random_draws))
    resume_path.unlink(missing_ok=True)
    return summaries


def run_steps(job: Job, runs: list[SeedRun], first: int, start: float, resume_path: Path, progress: bool | None) -> int:
    """The training loop from step ``first``: D and G updates, log rows, snapshots at
    evaluation points, stops (divergence, the quality bar held) and resume points.
    Returns the last step."""
    cfg, variant = runs[0].cfg, job.variant
    tcfg = cfg["train"]
    steps, n_gen, bs = tcfg["steps"], cfg["n_gen"], tcfg["batch_size"]
    monitor = BarMonitor(cfg["stop"], job.dataset, variant.device) if tcfg.get("until") == "bar" else None
    step = first - 1
    bar = progress_bar(range(first, steps + 1), _label([r.cfg for r in runs]), progress, sys.stderr)
    for step in bar:
        variant.progress = (step - 1) / steps
        is_eval = step % tcfg["eval_every"] == 0 or step == steps
        record = is_eval or step % tcfg["log_every"] == 0
        stats = critic_steps(job, bs, record)
        for _ in range(n_gen):
            stats.update(variant.g_step(bs, record=record))
        if record:
            record_step(job, runs, step, stats, time.perf_counter() - start, is_eval, monitor)
            row = runs[job.active[0]].rows[-1] if job.active else runs[0].rows[-1]
            bar.set_postfix(d_loss=f"{row['d_loss']:.3g}", g_loss=f"{row['g_loss']:.3g}", refresh=False)
            if not job.active:
                break
        if step % tcfg["checkpoint_every"] == 0 and step < steps:
            save_resume(resume_path, [r.cfg for r in runs], step, job, runs)
    bar.close()
    return step


def critic_steps(job: Job, batch_size: int, record: bool) -> dict[str, torch.Tensor]:
    """D's updates of one step: every member's ``n_critic``. All running members step
    together while each has steps left, then the first m (members with more critic
    steps come first) as a smaller population. With ``record``, each member's
    statistics from its last critic step."""
    variant, counts = job.variant, job.critic_steps()
    stats: dict[str, torch.Tensor] = {}
    for k in range(counts[0]):
        m = sum(c > k for c in counts)
        last = record and (k + 1) in counts  # some member's last critic step
        with job.first(m):
            values = variant.d_step(variant.real_batch(batch_size, job.data), record=last)
        for key, value in values.items() if last else ():
            if value.dim() == 0 or m == len(counts):
                stats[key] = value
                continue
            stats.setdefault(key, value.new_zeros(len(counts), *value.shape[1:]))[:m] = value
    return stats


def record_step(
    job: Job,
    runs: list[SeedRun],
    step: int,
    stats: dict[str, torch.Tensor],
    wall: float,
    is_eval: bool,
    monitor: BarMonitor | None = None,
) -> None:
    """Each running member's log row; a member that diverged stops, the others take a
    snapshot at an evaluation point, where one that has held the quality bar for
    ``stop.hold_points`` points stops too (``train.until: bar``). Stopped members
    leave the job (gans/population.py)."""
    threshold = runs[0].cfg["train"]["divergence_threshold"]
    met = monitor.met(job.variant, len(job.active) if job.stacked else None) if monitor and is_eval else None
    for position, (i, values) in enumerate(zip(job.active, job.values(stats), strict=True)):
        run = runs[i]
        row = {"step": step, **values, "wall_time": wall}
        run.rows.append(row)
        reason = divergence(row, threshold)
        if reason:
            run.finish("diverged", reason, step, cpu_copy(job.state(position)))
            continue
        if is_eval:
            run.snapshots[step] = cpu_copy(job.state(position, job.variant.snapshot_modules()))
        if met is not None:
            run.held = run.held + 1 if met[position] else 0
            if run.held >= run.cfg["stop"]["hold_points"]:
                reason = f"held the quality bar at {run.held} evaluation points (train.until: bar)"
                run.finish("completed", reason, step, cpu_copy(job.state(position)))
    job.keep([i for i in job.active if not runs[i].done])


def _label(cfgs: list[dict[str, Any]]) -> str:
    """What a progress line names: the run, or the population's settings and seeds."""
    cfg = cfgs[0]
    labels = sorted({gcfg.run_label(c) for c in cfgs})
    who = labels[0] if len(labels) == 1 else f"{cfg['variant']['name']} ({len(labels)} settings)"
    seeds = sorted({c["seed"] for c in cfgs})
    if len(seeds) == 1:
        which = f"seed{seeds[0]}"
    elif seeds == list(range(seeds[0], seeds[-1] + 1)):
        which = f"seeds {seeds[0]}-{seeds[-1]}"
    else:
        which = "seeds " + ",".join(map(str, seeds))
    members = f", {len(cfgs)} members" if len(cfgs) > 1 else ""
    return f"{cfg['dataset']['name']}/{who}/{cfg['loss']['name']}/{which}{members}"


def run_configs_from_args(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The resolved run configs to train: one per seed."""
    if args.run_config:
        try:
            cfgs = json.loads(args.run_config)
        except ValueError as exc:
            raise gcfg.ConfigError(f"--run-config is not valid JSON: {exc}") from None
        cfgs = cfgs if isinstance(cfgs, list) else [cfgs]
    else:
        missing = [k for k in gcfg.GRID_KEYS if getattr(args, k) is None]
        if missing:
            raise gcfg.ConfigError(f"with --config, also give: {', '.join('--' + k for k in missing)}")
        config = gcfg.load(args.config)
        try:
            cfgs = [gcfg.resolve_run(config, args.dataset, args.variant, args.loss, seed) for seed in args.seed]
        except (RegistryError, ParamError) as exc:
            raise gcfg.ConfigError(str(exc)) from None
    for cfg in cfgs:  # the pipeline's checks, for a run picked by hand too
        if not isinstance(cfg, dict):
            raise gcfg.ConfigError(f"a run config must be a mapping, got {type(cfg).__name__}")
        gcfg.check_run(cfg)
    try:
        check_one_population(cfgs)
    except ValueError as exc:
        raise gcfg.ConfigError(str(exc)) from None
    check_device(cfgs[0]["train"]["device"], local=True)
    return cfgs


def check_out_folders(outs: list[str]) -> None:
    """Refuse, before training, output folders that would overwrite each other (one
    folder given twice, in any spelling) or that cannot be folders (a file, or a path
    under one)."""
    seen: dict[Path, str] = {}
    for out in outs:
        path = Path(out).resolve()  # ./X, X/ and a link to X are one folder
        if path in seen:
            raise gcfg.ConfigError(
                f"--out names one folder twice: '{seen[path]}' and '{out}'; each seed writes a folder of its own"
            )
        seen[path] = out
        there = next(p for p in (path, *path.parents) if p.exists())
        if not there.is_dir():
            raise gcfg.ConfigError(
                f"--out '{out}': {there} is a file, not a folder; give a new folder or a run's folder"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.train", description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a config YAML; pick the run with --dataset/--variant/--loss/--seed")
    src.add_argument(
        "--run-config", help="a resolved run config as JSON, or a list of them, one per seed (what the pipeline passes)"
    )
    for key in ("dataset", "variant", "loss"):
        parser.add_argument(f"--{key}")
    parser.add_argument("--seed", type=int, nargs="+", help="one seed, or several trained together in this process")
    parser.add_argument("--out", required=True, nargs="+", help="each run's output folder, in the order of the seeds")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress: a bar on a terminal, a line every GANS_PROGRESS_INTERVAL seconds (30) in a log; on by default",
    )
    args = parser.parse_args(argv)
    try:
        cfgs = run_configs_from_args(args)
        if len(cfgs) != len(args.out):
            raise gcfg.ConfigError(f"give one --out folder per seed: {len(cfgs)} runs, {len(args.out)} folders")
        check_out_folders(args.out)
    except gcfg.ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    if cfgs[0]["train"]["device"] != "cpu":
        claim_gpu()  # before CUDA starts: one GPU per job when several share a machine
    try:
        for summary in train_seeds(cfgs, args.out, progress=args.progress):
            print(json.dumps(summary), file=sys.stderr)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        parser.exit(
            1,
            f"error: {exc}. Free space there and run the same command again: training continues "
            "from its last resume point (train.checkpoint_every)\n",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
