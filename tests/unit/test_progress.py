"""Training progress in a job's log: a line at a steady interval when stderr is a file."""

import io
import json
import os
import subprocess
import sys

import pytest

from gans import config as gcfg
from gans.progress import LineProgress, duration, interval_from_env, progress_bar
from tests.conftest import ROOT


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_line_every_interval_with_step_rate_eta_and_losses():
    out, clock = io.StringIO(), Clock()
    bar = LineProgress(range(1, 101), "8gaussians/gan/hinge/seed0", out, interval=10.0, clock=clock)
    for _ in bar:
        clock.now += 1.0  # one step a second: a line every ten steps
        bar.set_postfix(d_loss="1.2", g_loss="0.7", refresh=False)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 + 1  # steps 10, 20, ..., 100 and the closing line
    assert lines[0] == "[8gaussians/gan/hinge/seed0] step 10/100 (10%), 1 steps/s, ETA 1m30s, d_loss 1.2, g_loss 0.7"
    assert lines[-1].endswith("step 100/100 (100%), 1 steps/s, ETA 0s, d_loss 1.2, g_loss 0.7; stopped after 1m40s")


def test_a_resumed_run_counts_its_rate_from_where_it_started():
    out, clock = io.StringIO(), Clock()
    bar = LineProgress(range(51, 101), "run", out, interval=5.0, clock=clock)
    for _ in bar:
        clock.now += 0.5
    assert out.getvalue().splitlines()[0].startswith("[run] step 60/100 (60%), 2 steps/s, ETA 20s")


def test_tqdm_on_a_terminal_lines_elsewhere_nothing_when_off():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert type(progress_bar(range(3), "x", None, Terminal())).__name__ == "tqdm"
    assert isinstance(progress_bar(range(3), "x", None, io.StringIO()), LineProgress)
    off = io.StringIO()
    for _ in progress_bar(range(3), "x", False, off):
        pass
    assert off.getvalue() == ""


def test_interval_and_durations(monkeypatch):
    monkeypatch.delenv("GANS_PROGRESS_INTERVAL", raising=False)
    assert interval_from_env() == 30.0
    monkeypatch.setenv("GANS_PROGRESS_INTERVAL", "0.5")
    assert interval_from_env() == 0.5
    monkeypatch.setenv("GANS_PROGRESS_INTERVAL", "soon")
    with pytest.raises(ValueError, match="GANS_PROGRESS_INTERVAL='soon' is not a number of seconds"):
        interval_from_env()
    assert (duration(5), duration(95), duration(4000)) == ("5s", "1m35s", "1h06m")


def test_a_training_jobs_log_shows_progress_lines_while_it_runs(tiny_config, tmp_path):
    """As under Snakemake: stderr is the job's log file, not a terminal."""
    cfg = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "nonsaturating", 0)
    cfg["train"].update(steps=200, log_every=50, eval_every=100)
    log = tmp_path / "train.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GANS_PROGRESS_INTERVAL": "0"}
    with log.open("w") as stderr:
        cmd = [sys.executable, "-m", "gans.train", "--run-config", json.dumps(cfg), "--out", str(tmp_path / "run")]
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, check=True, timeout=300)
    lines = [line for line in log.read_text().splitlines() if line.startswith("[8gaussians/gan/nonsaturating/seed0]")]
    assert len(lines) >= 100, log.read_text()[-2000:]
    assert "step 1/200 (0%)" in lines[0] and "steps/s, ETA" in lines[0]
    assert "d_loss" in lines[-2]
    assert "step 200/200 (100%)" in lines[-1] and "; stopped after " in lines[-1]
