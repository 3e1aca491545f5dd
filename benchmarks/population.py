"""Population throughput, side by side in one process: member-steps per second of

  (a) a plain PyTorch loop written the obvious way (below, independent of the project):
      one run, 8 Gaussians, MLP G and D, the loss's toy set-up (its critic steps,
      learning rates, betas and gradient penalty), batch 128;
  (b) the project's one-run path (gans.train.train) on the same set-up;
  (c) the project's populations (gans.train.train_seeds) of P members, each with its
      own learning rates (a search's settings), P = 1, 8, 64, 256, in float32 (or at each
      of ``--precisions``: bf16 autocast is faster on CPUs with AVX512_BF16);

for the non-saturating GAN and WGAN-GP, on MLPs of depth x width 2x64 and 3x128. A
step is one generator update with its critic updates; a member-step is one step of
one member. Each row also gives the matrix-product FLOPs of a member-step (counted on one step of the project's path) as a share of one
thread's measured matmul peak (a 1024 x 1024 float32 product), so "how far from the
arithmetic" is a number. Medians over repeats; warm-up steps are not timed.

    python -m benchmarks.population --device cpu --threads 1
    python -m benchmarks.population --device cuda --sizes 1,64,256,1024

Prints a table and writes results/benchmarks/population_<device>_<time>.csv.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.throughput import device_problem, folder_problem
from benchmarks.timing import timed, timing_schedule, trainer_seconds, trainer_step
from gans import config as gcfg
from gans.provenance import cpu_name
from gans.runtime import select_device
from metrics import config as mcfg

ROOT = Path(__file__).resolve().parents[1]


PLAIN_LOSSES = ("nonsaturating", "wgan-gp")  # the losses plain_loop writes out


def plain_mlp(in_dim: int, width: int, depth: int, out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, out_dim))


def plain_loop(cfg: dict[str, Any], device: torch.device) -> Callable[[], None]:
    """One generator step (with its critic steps) of a plain loop on ``cfg``'s set-up."""
    torch.manual_seed(cfg["seed"])
    width, depth = cfg["architecture"]["params"]["width"], cfg["architecture"]["params"]["depth"]
    g, d = plain_mlp(2, width, depth, 2).to(device), plain_mlp(2, width, depth, 1).to(device)
    opt = cfg["optimizer"]
    opt_g = torch.optim.Adam(g.parameters(), lr=opt["lr_g"], betas=tuple(opt["betas"]))
    opt_d = torch.optim.Adam(d.parameters(), lr=opt["lr_d"], betas=tuple(opt["betas"]))
    angles = torch.arange(8) * (2 * torch.pi / 8)
    centers = (2.0 * torch.stack([angles.cos(), angles.sin()], 1) / 1.414).to(device)
    batch, n_critic = cfg["train"]["batch_size"], cfg["n_critic"]
    gp = cfg["regularizers"].get("gradient_penalty", {}).get("weight")
    softplus = nn.functional.softplus

    def d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if gp is None:  # the non-saturating GAN's D: cross-entropy on logits
            return softplus(-d(real)).mean() + softplus(d(fake)).mean()
        eps = torch.rand(batch, 1, device=device)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
        return d(fake).mean() - d(real).mean() + gp * ((grad.norm(2, dim=1) - 1) ** 2).mean()

    def step() -> None:
        for _ in range(n_critic):
            real = centers[torch.randint(8, (batch,), device=device)] + 0.02 / 1.414 * torch.randn(
                batch, 2, device=device
            )
            fake = g(torch.randn(batch, 2, device=device)).detach()
            loss = d_loss(real, fake)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
        d.requires_grad_(False)
        out = d(g(torch.randn(batch, 2, device=device)))
        loss = softplus(-out).mean() if gp is None else -out.mean()
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        d.requires_grad_(True)

    return step


def member_configs(loss: str, depth: int, width: int, members: int, device: str, **train: Any) -> list[dict]:
    """``members`` runs of the loss's toy set-up, each with its own learning rates."""
    config = mcfg.validate(
        {
            "grid": {"datasets": ["8gaussians"], "variants": ["gan"], "losses": [loss], "seeds": [0]},
            "models": {"points": {"params": {"width": width, "depth": depth}}},
            "train": {"batch_size": 128, "device": device, "threads": 1},
        }
    )
    cfgs = []
    for i in range(members):
        cfg = gcfg.resolve_run(config, "8gaussians", "gan", loss, i)
        cfg["train"].update(train)
        cfg["optimizer"]["lr_d"] *= 1 + i / max(members, 1)  # a setting of its own
        cfgs.append(cfg)
    return cfgs


class CountMatmulFlops(TorchDispatchMode):
    """FLOPs of the matrix products an op sequence runs (mm, addmm, bmm, baddbmm), in
    forward, backward and double backward alike (a gradient penalty's)."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if name in ("mm", "addmm", "bmm", "baddbmm"):
            a = args[1] if name.startswith(("addmm", "baddbmm")) else args[0]
            batch = a.shape[0] if a.dim() == 3 else 1
            self.flops += 2 * batch * a.shape[-2] * a.shape[-1] * out.shape[-1]
        return out


def flops_per_member_step(cfg: dict[str, Any]) -> float:
    """Matrix-product FLOPs of one step of one member (the project's path, P = 1)."""
    step, _ = trainer_step([cfg])
    step()
    with CountMatmulFlops() as counter:
        step()
    return float(counter.flops)


def matmul_peak(device: torch.device, n: int = 1024, repeats: int = 20) -> float:
    """FLOP/s of a float32 n x n matrix product on ``device`` (one thread on a CPU)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    seconds = timed(lambda: torch.mm(a, b), repeats, 3, device)
    return 2 * n**3 * repeats / seconds


def row_timers(
    loss: str, depth: int, width: int, args: argparse.Namespace, device: torch.device
) -> list[tuple[str, int, Callable[[], float]]]:
    """(row name, members, a function timing its ``args.steps`` steps) of one set-up."""
    steps, warmup, dev = args.steps, args.warmup, str(device)
    schedule = timing_schedule(steps, warmup)

    def plain() -> float:
        return timed(plain_loop(member_configs(loss, depth, width, 1, dev)[0], device), steps, warmup, device)

    def suite(members: int, stacked: bool, precision: str = "fp32") -> Callable[[], float]:
        train = {**schedule, "precision": precision}
        return lambda: trainer_seconds(
            member_configs(loss, depth, width, members, dev, **train), warmup, steps, stacked
        )

    rows = [("plain loop", 1, plain), ("suite, one run", 1, suite(1, False))]
    for precision in args.precisions:  # every precision in one process, under the same load
        named = "" if args.precisions == ["fp32"] else f" {precision}"
        rows += [(f"population P={p}{named}", p, suite(p, True, precision)) for p in args.sizes]
    return rows


def measure_rows(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    rows = []
    for loss in args.losses:
        for depth, width in args.mlps:
            flops = flops_per_member_step(member_configs(loss, depth, width, 1, str(device))[0])
            for name, members, seconds in row_timers(loss, depth, width, args, device):
                times = [seconds() for _ in range(args.repeats)]
                rate = members * args.steps / statistics.median(times)
                mlp = f"{depth}x{width}"
                row = {"loss": loss, "mlp": mlp, "row": name, "members": members, "member_steps_per_s": rate}
                rows.append({**row, "flops_per_member_step": flops})
                print(f"  {loss} {mlp} {name}: {rate:,.0f} member-steps/s", file=sys.stderr, flush=True)
    return rows


def train_check(out: Path, device: torch.device, steps: int = 300) -> None:
    """A population of two cells' settings (WGAN-GP at two penalty weights and rates,
    two seeds each) trained on ``device`` with the in-training bar; prints one line."""
    from gans.train import train_seeds

    cfgs = member_configs("wgan-gp", 2, 64, 4, str(device), steps=steps, eval_every=100, log_every=50, until="bar")
    for i, cfg in enumerate(cfgs):
        cfg["regularizers"]["gradient_penalty"]["weight"] = 0.1 if i < 2 else 1.0
        cfg["stop"] = {"modes": 1.0, "hq_share": 0.5, "hold_points": 2, "num_samples": 2500, "seed": 2024}
        cfg["stop"].update(hq_std=3.0, min_count=1)
    summaries = train_seeds(cfgs, [out / f"member{i}" for i in range(len(cfgs))], progress=False)
    rate = sum(s["steps_completed"] for s in summaries) / max(s["wall_time_s"] for s in summaries)
    ends = ", ".join(f"{s['status']}@{s['steps_completed']}" for s in summaries)
    print(f"train check: {len(cfgs)} members on {device}, {rate:,.0f} member-steps/s, ends: {ends}")


def summarise(rows: list[dict[str, Any]], peak: float) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    plain = table[table["row"] == "plain loop"].set_index(["loss", "mlp"])["member_steps_per_s"]
    table["x_plain"] = [r.member_steps_per_s / plain[(r.loss, r.mlp)] for r in table.itertuples()]
    table["share_of_matmul_peak"] = table["member_steps_per_s"] * table["flops_per_member_step"] / peak
    return table


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.population", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--losses", nargs="+", default=["nonsaturating", "wgan-gp"])
    parser.add_argument("--mlps", nargs="+", default=["2x64", "3x128"], help="depth x width of G and D")
    parser.add_argument("--sizes", default="1,8,64,256", help="population sizes P, comma-separated")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--precisions", nargs="+", default=["fp32"], help="train.precision of the population rows: fp32, tf32, bf16"
    )
    parser.add_argument("--repeats", type=int, default=3, help="measurements per row (the median is reported)")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    parser.add_argument("--train-check", metavar="DIR", help="instead: train a two-cell population into DIR and report")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any timing or training starts."""
    parser = argument_parser()
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(x) for x in args.sizes.split(",")]
        args.mlps = [tuple(int(x) for x in m.lower().split("x")) for m in args.mlps]
    except ValueError:
        parser.exit(2, "error: --sizes takes whole numbers (1,8,64) and --mlps depth x width pairs (2x64 3x128)\n")
    problem = option_problem(args)
    if problem:
        parser.exit(2, f"error: {problem}\n")
    return args


def option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options (None: nothing)."""
    if any(p < 1 for p in args.sizes) or any(len(m) != 2 or min(m) < 1 for m in args.mlps):
        return "--sizes and --mlps take positive numbers"
    small = [f"--{k} {getattr(args, k)}" for k in ("threads", "steps", "repeats") if getattr(args, k) < 1]
    if small:
        return f"{', '.join(small)}: --threads, --steps and --repeats must be at least 1"
    if args.warmup < 1:
        return f"--warmup {args.warmup}: must be at least 1 (the timing starts at the last warm-up step's log row)"
    precisions = gcfg.load_schema()["properties"]["train"]["properties"]["precision"]["enum"]
    if any(p not in precisions for p in args.precisions):
        return f"--precisions {' '.join(args.precisions)}: choose from {', '.join(precisions)}"
    unknown = [name for name in args.losses if name not in PLAIN_LOSSES]
    if unknown:  # row (a) is a loop written by hand for these losses only
        return (
            f"--losses {' '.join(unknown)}: the plain loop that every row is compared with is written for "
            f"{' and '.join(PLAIN_LOSSES)} only; choose from those"
        )
    problem = device_problem(args.device) or folder_problem("--out", Path(args.out))
    return problem or (folder_problem("--train-check", Path(args.train_check)) if args.train_check else None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = select_device(args.device)
    if args.train_check:
        train_check(Path(args.train_check), device)
        return 0
    peak = matmul_peak(device)
    table = summarise(measure_rows(args, device), peak)
    machine = cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"\n{machine}, {args.threads} thread(s), torch {torch.__version__}; matmul peak {peak / 1e9:,.1f} GFLOP/s")
    shown = table.assign(
        member_steps_per_s=table["member_steps_per_s"].map("{:,.0f}".format),
        x_plain=table["x_plain"].map("{:.2f}x".format),
        share_of_matmul_peak=table["share_of_matmul_peak"].map("{:.0%}".format),
        flops_per_member_step=(table["flops_per_member_step"] / 1e6).map("{:.1f} M".format),
    )
    print(shown.drop(columns="members").to_string(index=False))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"population_{device.type}_{datetime.now():%Y%m%d-%H%M%S}.csv"
    table.assign(device=machine, threads=args.threads, matmul_peak_flops=peak).to_csv(path, index=False)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
