"""Training throughput, side by side in one process: seed-steps per second of

  (a) a plain WGAN-GP loop written the obvious way (below, independent of the
      project): 8 Gaussians, MLP G and D with 3 hidden ReLU layers, batch 512, 5
      critic steps, Adam(1e-4, betas (0, 0.9)), gradient penalty 10, one seed, real
      data drawn with numpy on the host for every batch and moved to the device;
  (b) the project's trainer (gans.train.train) on the same set-up, one seed;
  (c) the project's trainer with S seeds stacked in one model
      (gans.train.train_seeds), S = 1, 4, 16, 64;
  and DCGAN on MNIST (config/images.yaml's networks and batch; scikit-learn's digits
  when MNIST is absent): training steps per second in fp32 and, on a GPU, in bf16
  with channels-last, with the share of the time the GPU is busy (torch.profiler).

    python -m benchmarks.throughput --device auto --steps 200 --seeds 1,4,16,64

A step is one generator update (with its critic updates); a seed-step is one step of
one seed. Warm-up steps are run first and not timed. The trainer is timed between
its train_log.csv rows at the last warm-up step and the last step, so building the
model, loading data and writing outputs are not counted. Each row also counts the
aten operators one step runs (views excluded): on a GPU each is a kernel launch, and
a small model there is bound by their number rather than by arithmetic, so the
count shows, on any machine, whether stacking S seeds keeps the launches per step
flat. Prints a table and writes results/benchmarks/throughput_<device>_<time>.csv.
"""

from __future__ import annotations

import argparse
import copy
import functools
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from gans import config as gcfg
from gans.job import Job, draw_block, stacking_plan
from gans.provenance import cpu_name
from gans.runtime import select_device, set_matmul_precision
from gans.train import train, train_seeds
from metrics import config as mcfg

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "row",
    "setup",
    "device",
    "device_name",
    "torch",
    "threads",
    "width",
    "seeds",
    "steps",
    "warmup",
    "repeats",
    "wall_s",
    "seed_steps_per_s",
    "ratio_to_a",
    "ops_per_step",
    "random_draws",
    "precision",
    "channels_last",
    "gpu_busy",
]
# where real MNIST may live (torchvision's layout): the config's data root, or the
# shared folder beside the repository (or beside a worktree's parent)
MNIST_ROOTS = ("resources/data", "../shared/datasets", "../../shared/datasets")

# -- (a) the plain reference loop ----------------------------------------------------------


def reference_mlp(in_dim: int, width: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, out_dim),
    )


def reference_wgan_gp(
    width: int, device: torch.device, batch: int = 512, n_critic: int = 5, gp_weight: float = 10.0, seed: int = 0
) -> Callable[[], None]:
    """One generator step (with its critic steps) of the plain loop, as a function."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    angles = np.arange(8) * (2 * np.pi / 8)
    centers = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    generator, critic = reference_mlp(2, width, 2).to(device), reference_mlp(2, width, 1).to(device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))

    def real_batch() -> torch.Tensor:
        points = centers[rng.integers(8, size=batch)] + 0.02 * rng.standard_normal((batch, 2))
        return torch.from_numpy((points / 1.414).astype(np.float32)).to(device)

    def step() -> None:
        for _ in range(n_critic):
            real = real_batch()
            fake = generator(torch.randn(batch, 2, device=device)).detach()
            eps = torch.rand(batch, 1, device=device)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
            penalty = gp_weight * ((grad.norm(2, dim=1) - 1) ** 2).mean()
            d_loss = critic(fake).mean() - critic(real).mean() + penalty
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        critic.requires_grad_(False)
        g_loss = -critic(generator(torch.randn(batch, 2, device=device))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        critic.requires_grad_(True)

    return step


def reference_seconds(width: int, steps: int, warmup: int, device: torch.device) -> float:
    """Seconds for ``steps`` generator steps of the plain loop, after ``warmup`` untimed ones."""
    set_matmul_precision("fp32")  # torch's default, whatever row ran before
    return timed(reference_wgan_gp(width, device), steps, warmup, device)


def timed(step: Callable[[], None], steps: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- (b), (c) and images: the project's trainer ---------------------------------------------


def toy_config(
    width: int, steps: int, warmup: int, device: str, threads: int, draws: str = "auto", precision: str = "fp32"
) -> dict[str, Any]:
    """The (a) set-up as a project config: wgan-gp's paper training (Adam 1e-4,
    betas (0, 0.9), 5 critic steps, penalty 10) on 8 Gaussians, MLP 3 x width."""
    return mcfg.validate(
        {
            "grid": {"datasets": ["8gaussians"], "variants": ["gan"], "losses": ["wgan-gp"], "seeds": [0]},
            "models": {"points": {"architecture": "mlp", "noise_dim": 2, "params": {"width": width, "depth": 3}}},
            "train": timing_schedule(
                steps, warmup, batch_size=512, device=device, threads=threads, random_draws=draws, precision=precision
            ),
        }
    )


def timing_schedule(steps: int, warmup: int, **train: Any) -> dict[str, Any]:
    """Train settings that log the last warm-up step and the last step (the timed
    interval lies between them) and snapshot or checkpoint nothing in between."""
    total = warmup + steps
    return {**train, "steps": total, "log_every": warmup, "eval_every": total, "checkpoint_every": total}


def logged_interval(out: Path, warmup: int, total: int) -> float:
    """Seconds between the train_log.csv rows of step ``warmup`` and step ``total``."""
    log = pd.read_csv(out / "train_log.csv").set_index("step")["wall_time"]
    missing = [s for s in (warmup, total) if s not in log.index]
    if missing:
        raise RuntimeError(f"{out / 'train_log.csv'} has no row for step(s) {missing}: cannot time the run")
    return float(log[total] - log[warmup])


def trainer_seconds(cfgs: list[dict[str, Any]], warmup: int, steps: int, stacked: bool) -> float:
    """Timed seconds of ``steps`` steps of the project's trainer: ``train`` on the
    one config, or ``train_seeds`` on all of them together."""
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        outs = [Path(tmp) / f"seed{cfg['seed']}" for cfg in cfgs]
        if stacked:
            summaries = train_seeds(cfgs, outs, progress=False)
        else:
            summaries = [train(cfgs[0], outs[0], progress=False)]
        for summary in summaries:
            if summary["steps_completed"] != warmup + steps:
                raise RuntimeError(f"the run stopped at step {summary['steps_completed']} ({summary.get('reason')})")
        return logged_interval(outs[0], warmup, warmup + steps)


def image_config(args: argparse.Namespace, precision: str, channels_last: bool) -> tuple[dict[str, Any], str]:
    """config/images.yaml's DCGAN, batch and optimizer on MNIST (or digits), as a
    resolved run of the nonsaturating loss (DCGAN's own); and the dataset's name."""
    config = copy.deepcopy(mcfg.load(ROOT / "config" / "images.yaml"))
    root = mnist_root(args.data_root)
    dataset = "mnist" if root else "digits"
    config["grid"] = {"datasets": [dataset], "variants": ["gan"], "losses": ["nonsaturating"], "seeds": [0]}
    config["per_dataset"] = {}
    if root:
        config["data_root"] = str(root)
    if args.image_width:
        config["models"]["images"]["params"] = {"ngf": args.image_width, "ndf": args.image_width}
    config["train"] = timing_schedule(
        args.image_steps,
        args.warmup,
        batch_size=config["train"]["batch_size"],
        device=args.device,
        threads=args.threads,
        precision=precision,
        channels_last=channels_last,
    )
    config = mcfg.validate(config)
    return gcfg.resolve_run(config, dataset, "gan", "nonsaturating", 0), dataset


def mnist_root(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else [ROOT / r for r in MNIST_ROOTS]
    for root in candidates:
        if (root / "MNIST" / "raw").is_dir():
            return root.resolve()
    if explicit:
        raise SystemExit(f"error: --data-root {explicit} holds no MNIST/raw folder")
    return None


def trainer_step(cfgs: list[dict[str, Any]]) -> tuple[Callable[[], None], torch.device]:
    """One training step (critic steps, then generator steps) of the project's
    variant for these seeds, stacked as train_seeds stacks them, as a function."""
    device = select_device(cfgs[0]["train"]["device"])
    set_matmul_precision(cfgs[0]["train"]["precision"])
    stacked, block, _ = stacking_plan(cfgs, device)
    job = Job(cfgs, device, stacked=stacked, block=block)
    variant, bs = job.variant, cfgs[0]["train"]["batch_size"]

    def step() -> None:
        for _ in range(cfgs[0]["n_critic"]):
            variant.d_step(variant.real_batch(bs, job.data))
        for _ in range(cfgs[0]["n_gen"]):
            variant.g_step(bs)

    return step, device


class CountOps(TorchDispatchMode):
    """Counts the aten operators that compute (views excluded): on a GPU each is a
    kernel launch, so their number per step is what bounds a small model there."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    # reshape's view of a fresh copy: metadata only, like the views
    METADATA = {"_unsafe_view"}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += not (func.is_view or func.overloadpacket.__name__ in self.METADATA)
        return func(*args, **(kwargs or {}))


def ops_per_step(step: Callable[[], None], warmup: int = 2) -> int:
    """Computing aten operators in one ``step``, after ``warmup`` untimed ones (one
    of which fills buffered random draws)."""
    for _ in range(warmup):
        step()
    with CountOps() as counter:
        step()
    return counter.count


def gpu_busy(cfg: dict[str, Any], steps: int, warmup: int) -> float:
    """Share of the wall time the GPU runs kernels or copies (the union of their
    intervals, from torch.profiler) over ``steps`` training steps of the trainer's
    step functions, after ``warmup`` untimed ones."""
    from torch.profiler import ProfilerActivity, profile

    step, device = trainer_step([cfg])
    for _ in range(warmup):
        step()
    synchronize(device)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        synchronize(device)
        wall = time.perf_counter() - start
    spans = [
        (e.time_range.start, e.time_range.end)
        for e in prof.events()
        if str(e.device_type).endswith("CUDA") and not e.is_user_annotation
    ]
    if not spans:
        print("warning: the profiler recorded no GPU activity; gpu_busy left empty", file=sys.stderr)
        return math.nan
    return busy_fraction(spans, wall * 1e6)


def busy_fraction(spans: list[tuple[float, float]], wall_us: float) -> float:
    """Length of the union of (start, end) intervals over ``wall_us`` (overlapping
    kernels on several streams count once)."""
    busy, end = 0.0, -math.inf
    for s, e in sorted(spans):
        if e <= end:
            continue
        busy += e - max(s, end)
        end = e
    return min(busy / wall_us, 1.0)


# -- the table ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> pd.DataFrame:
    device = select_device(args.device)
    args.device = str(device)
    torch.set_num_threads(args.threads)
    common = {
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
        "torch": torch.__version__,
        "threads": args.threads,
        "warmup": args.warmup,
        "repeats": args.repeats,
    }

    jobs: list[tuple[dict[str, Any], Callable[[], float]]] = []

    def add(
        row: str, setup: str, width: int, seeds: int, steps: int, measure: Callable[[], float], **extra: Any
    ) -> None:
        jobs.append(
            (
                {
                    **common,
                    "row": row,
                    "setup": setup,
                    "width": width,
                    "seeds": seeds,
                    "steps": steps,
                    "precision": "fp32",
                    "channels_last": False,
                    **extra,
                },
                measure,
            )
        )

    for width in args.width:
        cfg = toy_config(width, args.steps, args.warmup, args.device, args.threads, args.draws)
        cfgs = [gcfg.resolve_run(cfg, "8gaussians", "gan", "wgan-gp", s) for s in range(max(args.seeds))]
        draws = "buffered" if draw_block(cfgs[0]["train"], device) else "direct"
        add(
            "a",
            "plain loop, host data",
            width,
            1,
            args.steps,
            functools.partial(reference_seconds, width, args.steps, args.warmup, device),
            ops_per_step=ops_per_step(reference_wgan_gp(width, device)),
            random_draws="global",
        )
        add(
            "b",
            "gans.train.train",
            width,
            1,
            args.steps,
            functools.partial(trainer_seconds, cfgs[:1], args.warmup, args.steps, False),
            ops_per_step=ops_per_step(trainer_step(cfgs[:1])[0]),
            random_draws=draws,
        )
        for seeds in args.seeds:
            add(
                "c",
                "gans.train.train_seeds",
                width,
                seeds,
                args.steps,
                functools.partial(trainer_seconds, cfgs[:seeds], args.warmup, args.steps, True),
                ops_per_step=ops_per_step(trainer_step(cfgs[:seeds])[0]),
                random_draws=draws,
            )
        if device.type == "cuda":  # and the largest stack on TF32 tensor cores (no effect on a CPU)
            tf32 = toy_config(width, args.steps, args.warmup, args.device, args.threads, args.draws, "tf32")
            tf32_cfgs = [gcfg.resolve_run(tf32, "8gaussians", "gan", "wgan-gp", s) for s in range(max(args.seeds))]
            add(
                "c",
                "gans.train.train_seeds tf32",
                width,
                len(tf32_cfgs),
                args.steps,
                functools.partial(trainer_seconds, tf32_cfgs, args.warmup, args.steps, True),
                ops_per_step=ops_per_step(trainer_step(tf32_cfgs)[0]),
                random_draws=draws,
                precision="tf32",
            )
    if args.images:
        settings = [("fp32", False)] + ([("bf16", True)] if device.type == "cuda" else [])
        for precision, channels_last in settings:
            cfg, dataset = image_config(args, precision, channels_last)
            busy = gpu_busy(cfg, args.image_steps, args.warmup) if device.type == "cuda" else math.nan
            setup = f"DCGAN/{dataset} {precision}" + (" channels-last" if channels_last else "")
            add(
                "img",
                setup,
                cfg["architecture"]["params"]["ngf"],
                1,
                args.image_steps,
                functools.partial(trainer_seconds, [cfg], args.warmup, args.image_steps, False),
                precision=precision,
                channels_last=channels_last,
                gpu_busy=busy,
            )

    # repeats go round all rows in turn, so a busy spell on a shared machine does not
    # fall on one row only; each row keeps its fastest (least disturbed) time
    walls: list[list[float]] = [[] for _ in jobs]
    for _ in range(args.repeats):
        for (row, measure), times in zip(jobs, walls, strict=True):
            times.append(measure())
            print(
                f"  {row['row']:3} {row['setup']:<34} width {row['width']:<4} S={row['seeds']:<3} {times[-1]:8.3f} s",
                file=sys.stderr,
            )
    rows = [
        {**row, "wall_s": round(min(times), 4), "seed_steps_per_s": row["seeds"] * row["steps"] / min(times)}
        for (row, _), times in zip(jobs, walls, strict=True)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    toy = table["row"].isin(["a", "b", "c"])
    reference = table[table["row"] == "a"].set_index("width")["seed_steps_per_s"]
    table.loc[toy, "ratio_to_a"] = table.loc[toy, "seed_steps_per_s"] / table.loc[toy, "width"].map(reference)
    return table


def print_table(table: pd.DataFrame) -> None:
    shown = table[
        [
            "row",
            "setup",
            "width",
            "seeds",
            "steps",
            "wall_s",
            "seed_steps_per_s",
            "ratio_to_a",
            "ops_per_step",
            "random_draws",
            "gpu_busy",
        ]
    ].copy()
    shown["ratio_to_a"] = shown["ratio_to_a"].map(lambda r: "-" if pd.isna(r) else f"{r:.2f}x")
    shown["gpu_busy"] = shown["gpu_busy"].map(lambda b: "-" if pd.isna(b) else f"{b:.0%}")
    shown["seed_steps_per_s"] = shown["seed_steps_per_s"].map(lambda v: f"{v:.1f}")
    shown["ops_per_step"] = shown["ops_per_step"].map(lambda v: "-" if pd.isna(v) else f"{int(v)}")
    shown["random_draws"] = shown["random_draws"].fillna("-")
    first = table.iloc[0]
    print(
        f"device: {first['device']} ({first['device_name']}), torch {first['torch']}, {first['threads']} thread(s), "
        f"{first['warmup']} warm-up steps untimed"
    )
    print(shown.to_string(index=False))


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got '{text}'")
    return values


def default_widths() -> str:
    """The MLP widths of the default (CPU) config and the full (GPU) config: 128 and 400."""
    widths = [
        mcfg.load(ROOT / "config" / name)["models"]["points"]["params"]["width"]
        for name in ("config.yaml", "full.yaml")
    ]
    return ",".join(str(w) for w in dict.fromkeys(widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda (or cuda:N) or auto (CUDA when present); default auto"
    )
    parser.add_argument(
        "--width",
        type=int_list,
        default=None,
        help="MLP widths, comma-separated (default: the default and full configs', 128,400)",
    )
    parser.add_argument("--steps", type=int, default=200, help="timed generator steps per toy row (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps before each timing (default 20)")
    parser.add_argument(
        "--seeds",
        type=int_list,
        default=[1, 4, 16, 64],
        help="S values of the stacked rows (c), comma-separated (default 1,4,16,64)",
    )
    parser.add_argument(
        "--draws",
        choices=["auto", "direct", "buffered"],
        default="auto",
        help="train.random_draws of rows (b) and (c): auto (buffered on CUDA, direct on a CPU), direct or buffered",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="time each row this many times and keep the fastest (default 1)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads for every row (default 1, as a pipeline job)"
    )
    parser.add_argument(
        "--images", action=argparse.BooleanOptionalAction, default=True, help="the DCGAN rows (default on)"
    )
    parser.add_argument("--image-steps", type=int, default=50, help="timed steps of the DCGAN rows (default 50)")
    parser.add_argument(
        "--image-width", type=int, default=None, help="DCGAN ngf = ndf (default: config/images.yaml's, 64)"
    )
    parser.add_argument(
        "--data-root",
        default=None,
        help="folder with MNIST/raw (default: resources/data or ../shared/datasets; else digits)",
    )
    parser.add_argument("--out", default="results/benchmarks", help="folder for the CSV (default results/benchmarks)")
    args = parser.parse_args(argv)
    args.width = args.width or int_list(default_widths())
    if min(args.steps, args.warmup, args.image_steps, args.threads, args.repeats) < 1:
        parser.error("--steps, --warmup, --image-steps, --threads and --repeats must be at least 1")
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", args.device):
        parser.error(f"--device '{args.device}': choose auto, cpu, cuda or cuda:N")
    try:
        select_device(args.device)
    except RuntimeError as exc:
        parser.error(str(exc))
    table = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"throughput_{table['device'].iloc[0]}_{datetime.now():%Y%m%d-%H%M%S}.csv"
    table.to_csv(path, index=False)
    print_table(table)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
