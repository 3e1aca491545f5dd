"""Training progress: a tqdm bar on a terminal, a plain line at a steady interval elsewhere.

Under Snakemake a job's stderr goes to its log file, where tqdm stays silent (it draws
only on a terminal) and a job showed nothing until it ended. :func:`progress_bar` keeps
tqdm's interface (iterate, ``set_postfix``, ``close``) and, when stderr is not a
terminal, writes one line every ``GANS_PROGRESS_INTERVAL`` seconds (default 30)::

    [8gaussians/gan/hinge/seed0] step 1200/5000 (24%), 41.2 steps/s, ETA 1m32s, d_loss 1.23, g_loss 0.71
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO

from tqdm import tqdm

DEFAULT_INTERVAL = 30.0


def interval_from_env() -> float:
    """Seconds between progress lines: ``GANS_PROGRESS_INTERVAL``, else 30."""
    text = os.environ.get("GANS_PROGRESS_INTERVAL", "")
    try:
        value = float(text) if text else DEFAULT_INTERVAL
    except ValueError:
        raise ValueError(f"GANS_PROGRESS_INTERVAL={text!r} is not a number of seconds") from None
    if value < 0:
        raise ValueError(f"GANS_PROGRESS_INTERVAL={text!r}: give 0 or more seconds")
    return value


def duration(seconds: float) -> str:
    """``95`` -> ``'1m35s'``; ``4000`` -> ``'1h06m'``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class LineProgress:
    """Iterates over ``steps``, writing a line to ``file`` at most every ``interval``
    seconds, and a last line at :meth:`close`."""

    def __init__(
        self,
        steps: range,
        desc: str,
        file: IO[str],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.steps, self.desc, self.file, self.interval, self.clock = steps, desc, file, interval, clock
        self.postfix: dict[str, str] = {}
        self.done = 0
        self.start = self.last = clock()

    def __iter__(self) -> Iterator[int]:
        for step in self.steps:
            yield step
            self.done += 1
            now = self.clock()
            if now - self.last >= self.interval:
                self.write(step, now)

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self.postfix = {k: str(v) for k, v in values.items()}

    def line(self, step: int, now: float) -> str:
        total = self.steps[-1] if len(self.steps) else step
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else float("inf")
        left = total - step
        eta = duration(left / rate) if rate > 0 and rate != float("inf") else "?"
        parts = [f"step {step}/{total} ({100 * step / max(total, 1):.0f}%)", f"{rate:.3g} steps/s", f"ETA {eta}"]
        parts += [f"{k} {v}" for k, v in self.postfix.items()]
        return f"[{self.desc}] " + ", ".join(parts)

    def write(self, step: int, now: float) -> None:
        print(self.line(step, now), file=self.file, flush=True)
        self.last = now

    def close(self) -> None:
        if self.done:
            now = self.clock()
            step = self.steps[self.done - 1]
            print(f"{self.line(step, now)}; stopped after {duration(now - self.start)}", file=self.file, flush=True)
            self.done = 0


def progress_bar(steps: range, desc: str, enabled: bool | None = None, file: IO[str] = sys.stderr):
    """tqdm on a terminal; progress lines when ``file`` is not one (a job's log); nothing
    when ``enabled`` is False. ``enabled=True`` on a terminal is tqdm, elsewhere lines."""
    if enabled is False:
        return tqdm(steps, desc=desc, disable=True, file=file)
    if file.isatty():
        return tqdm(steps, desc=desc, file=file)
    return LineProgress(steps, desc, file, interval_from_env())
