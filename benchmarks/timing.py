"""Timing and counting tools of the throughput benchmark: the plain reference loop
(row a, written the obvious way and independent of the project), timers for it and
for the project's trainer, a counter of the aten operators one step runs, and the
GPU's busy share from torch.profiler."""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from gans.job import Job, stacking_plan
from gans.layout import TRAIN_LOG
from gans.runtime import select_device, set_matmul_precision
from gans.train import train, train_seeds


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


def timing_schedule(steps: int, warmup: int, **train: Any) -> dict[str, Any]:
    """Train settings that log the last warm-up step and the last step (the timed
    interval lies between them) and snapshot or checkpoint nothing in between."""
    total = warmup + steps
    return {**train, "steps": total, "log_every": warmup, "eval_every": total, "checkpoint_every": total}


def logged_interval(out: Path, warmup: int, total: int) -> float:
    """Seconds between the train_log.csv rows of step ``warmup`` and step ``total``."""
    log = pd.read_csv(out / TRAIN_LOG).set_index("step")["wall_time"]
    missing = [s for s in (warmup, total) if s not in log.index]
    if missing:
        raise RuntimeError(f"{out / TRAIN_LOG} has no row for step(s) {missing}: cannot time the run")
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
