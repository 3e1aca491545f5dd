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
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from benchmarks.timing import (
    gpu_busy,
    ops_per_step,
    reference_seconds,
    reference_wgan_gp,
    timing_schedule,
    trainer_seconds,
    trainer_step,
)
from gans import config as gcfg
from gans.job import draw_block
from gans.provenance import cpu_name
from gans.runtime import select_device
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
# where real MNIST lives by default (torchvision's layout): the config's data root;
# --data-root names another folder
MNIST_ROOTS = ("resources/data",)


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
        "precision": "fp32",
        "channels_last": False,
    }
    rows = toy_rows(args, device) + (image_rows(args, device) if args.images else [])
    return measure([({**common, **row}, timer) for row, timer in rows], args.repeats)


Row = tuple[dict[str, Any], Callable[[], float]]  # a row's fields, and what times it


def toy_rows(args: argparse.Namespace, device: torch.device) -> list[Row]:
    """Rows a, b and c (and, on CUDA, c on TF32) for every width."""
    rows: list[Row] = []
    for width in args.width:
        cfg = toy_config(width, args.steps, args.warmup, args.device, args.threads, args.draws)
        cfgs = [gcfg.resolve_run(cfg, "8gaussians", "gan", "wgan-gp", s) for s in range(max(args.seeds))]
        draws = "buffered" if draw_block(cfgs[0]["train"], device) else "direct"
        base = {"width": width, "steps": args.steps, "random_draws": draws}
        rows.append(
            (
                {
                    **base,
                    "row": "a",
                    "setup": "plain loop, host data",
                    "seeds": 1,
                    "random_draws": "global",
                    "ops_per_step": ops_per_step(reference_wgan_gp(width, device)),
                },
                functools.partial(reference_seconds, width, args.steps, args.warmup, device),
            )
        )
        stacks = [("b", "gans.train.train", cfgs[:1], False)]
        stacks += [("c", "gans.train.train_seeds", cfgs[:seeds], True) for seeds in args.seeds]
        if device.type == "cuda":  # and the largest stack on TF32 tensor cores (no effect on a CPU)
            tf32 = toy_config(width, args.steps, args.warmup, args.device, args.threads, args.draws, "tf32")
            tf32_cfgs = [gcfg.resolve_run(tf32, "8gaussians", "gan", "wgan-gp", s) for s in range(max(args.seeds))]
            stacks.append(("c", "gans.train.train_seeds tf32", tf32_cfgs, True))
        for row, setup, run_cfgs, stacked in stacks:
            fields = {
                **base,
                "row": row,
                "setup": setup,
                "seeds": len(run_cfgs),
                "precision": run_cfgs[0]["train"]["precision"],
                "ops_per_step": ops_per_step(trainer_step(run_cfgs)[0]),
            }
            rows.append((fields, functools.partial(trainer_seconds, run_cfgs, args.warmup, args.steps, stacked)))
    return rows


def image_rows(args: argparse.Namespace, device: torch.device) -> list[Row]:
    """DCGAN in fp32, and on CUDA in bf16 with channels-last (with the GPU's busy share)."""
    rows: list[Row] = []
    for precision, channels_last in [("fp32", False)] + ([("bf16", True)] if device.type == "cuda" else []):
        cfg, dataset = image_config(args, precision, channels_last)
        busy = gpu_busy(cfg, args.image_steps, args.warmup) if device.type == "cuda" else math.nan
        fields = {
            "row": "img",
            "setup": f"DCGAN/{dataset} {precision}" + (" channels-last" if channels_last else ""),
            "width": cfg["architecture"]["params"]["ngf"],
            "seeds": 1,
            "steps": args.image_steps,
            "precision": precision,
            "channels_last": channels_last,
            "gpu_busy": busy,
        }
        rows.append((fields, functools.partial(trainer_seconds, [cfg], args.warmup, args.image_steps, False)))
    return rows


def measure(rows: list[Row], repeats: int) -> pd.DataFrame:
    """Each row timed ``repeats`` times, keeping its fastest time. Repeats go round all
    rows in turn, so a busy spell on a shared machine does not fall on one row only."""
    walls: list[list[float]] = [[] for _ in rows]
    for _ in range(repeats):
        for (row, timer), times in zip(rows, walls, strict=True):
            times.append(timer())
            print(
                f"  {row['row']:3} {row['setup']:<34} width {row['width']:<4} S={row['seeds']:<3} {times[-1]:8.3f} s",
                file=sys.stderr,
            )
    table = pd.DataFrame(
        [
            {**row, "wall_s": round(min(times), 4), "seed_steps_per_s": row["seeds"] * row["steps"] / min(times)}
            for (row, _), times in zip(rows, walls, strict=True)
        ],
        columns=COLUMNS,
    )
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


def argument_parser() -> argparse.ArgumentParser:
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
        help="folder with MNIST/raw (default: resources/data; else digits)",
    )
    parser.add_argument("--out", default="results/benchmarks", help="folder for the CSV (default results/benchmarks)")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any timing starts; the widths default to the configs'."""
    parser = argument_parser()
    args = parser.parse_args(argv)
    args.width = args.width or int_list(default_widths())
    problem = option_problem(args)
    if problem:
        parser.exit(2, f"error: {problem}\n")
    return args


def option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options (None: nothing)."""
    if min(args.steps, args.warmup, args.image_steps, args.threads, args.repeats) < 1:
        return (
            "--steps, --warmup, --image-steps, --threads and --repeats must be at least 1 "
            "(the timing starts at the last warm-up step's log row)"
        )
    if args.image_width is not None and args.image_width < 1:
        return f"--image-width {args.image_width}: DCGAN's ngf = ndf must be at least 1"
    if args.images and args.data_root and not (Path(args.data_root) / "MNIST" / "raw").is_dir():
        return f"--data-root {args.data_root} holds no MNIST/raw folder"
    return device_problem(args.device) or folder_problem("--out", Path(args.out))


def device_problem(spec: str) -> str | None:
    """What keeps ``spec`` from naming a device of this machine (None: nothing)."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", spec):
        return f"--device '{spec}': choose auto, cpu, cuda or cuda:N"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            return f"--device {spec}: CUDA is not available on this machine; choose cpu or auto"
        count, index = torch.cuda.device_count(), int(spec.partition(":")[2] or 0)
        if index >= count:
            return f"--device {spec}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
    return None


def folder_problem(option: str, folder: Path) -> str | None:
    """A file where ``folder`` or one of its parents should be (None: it can be made)."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else f"{option} {folder}: {path} is a file, not a folder"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
