"""Checkpoints and resume: a training job killed mid-run and started again
finishes with the same result as one that was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml

import gans.job as gjob
import gans.train as gtrain
from gans import config as gcfg
from gans.checkpoints import SeedRun, save_resume
from gans.layout import RESUME
from gans.train import train
from tests.conftest import TINY
from tests.workflow.conftest import snakemake_cmd, snakemake_env


def run_cfg(tiny_config, loss="wgan-gp", variant="gan", variant_params=None, loss_override=None, **train_overrides):
    config = {**tiny_config, "variants": {variant: variant_params or {}}, "losses": {loss: loss_override or {}}}
    cfg = gcfg.resolve_run(config, "8gaussians", variant, loss, 0)
    cfg["train"].update(train_overrides)
    return cfg


def assert_same_run(a, b):
    ca, cb = (torch.load(d / "checkpoint.pt", weights_only=True) for d in (a, b))
    assert ca["step"] == cb["step"] and ca["state"].keys() == cb["state"].keys()
    for name in ca["state"]:  # networks and any other module state (e.g. historical averages)
        if name.startswith("opt"):
            continue
        for key, tensor in ca["state"][name].items():
            assert torch.equal(tensor, cb["state"][name][key]), f"{name}.{key} differs"
    assert ca["state"]["opt_g"]["state"].keys() == cb["state"]["opt_g"]["state"].keys()
    for opt in ("opt_g", "opt_d"):
        assert ca["state"][opt]["param_groups"] == cb["state"][opt]["param_groups"], (
            f"{opt}'s settings (learning rate) differ"
        )
    for k, v in ca["state"]["opt_d"]["state"].items():
        assert torch.equal(v["exp_avg_sq"], cb["state"]["opt_d"]["state"][k]["exp_avg_sq"])
    la, lb = (pd.read_csv(d / "train_log.csv").drop(columns="wall_time") for d in (a, b))
    pd.testing.assert_frame_equal(la, lb, check_exact=True)
    sa, sb = (torch.load(d / "snapshots.pt", weights_only=True) for d in (a, b))
    assert sa["steps"] == sb["steps"]
    for step in sa["steps"]:
        for key, tensor in sa["states"][step]["generator"].items():
            assert torch.equal(tensor, sb["states"][step]["generator"][key])


@pytest.mark.parametrize(
    "loss, variant, params, loss_override",
    [
        ("wgan-gp", "gan", {}, {}),
        # the historical averages are state too: a resumed run must continue them
        ("nonsaturating", "improved", {"historical_averaging": 0.1, "minibatch_features": 0}, {}),
        # and so is the position of a learning-rate decay
        ("nonsaturating", "gan", {}, {"n_gen": 2, "optimizer": {"lr_decay": {"kind": "linear", "start": 0.2}}}),
    ],
    ids=["gan", "improved-historical-averaging", "lr-decay-n-gen"],
)
def test_interrupted_run_resumes_from_its_last_checkpoint(
    tiny_config, tmp_path, monkeypatch, loss, variant, params, loss_override
):
    cfg = run_cfg(tiny_config, loss, variant, params, loss_override, steps=60, checkpoint_every=25)
    whole = train(cfg, tmp_path / "whole", progress=False)
    assert whole["resumed_from_step"] is None
    assert not (tmp_path / "whole" / RESUME).exists(), "removed when the run completes"

    real_divergence = gtrain.divergence

    def interrupt_at_40(row, threshold):
        if row["step"] == 40:
            raise KeyboardInterrupt  # the job dies between checkpoints
        return real_divergence(row, threshold)

    monkeypatch.setattr(gtrain, "divergence", interrupt_at_40)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "cut", progress=False)
    assert torch.load(tmp_path / "cut" / RESUME, weights_only=True)["step"] == 25
    monkeypatch.setattr(gtrain, "divergence", real_divergence)
    torch.manual_seed(12345)  # the global RNG state at restart must not matter
    summary = train(cfg, tmp_path / "cut", progress=False)
    assert summary["resumed_from_step"] == 25 and summary["steps_completed"] == 60
    assert not (tmp_path / "cut" / RESUME).exists()
    assert_same_run(tmp_path / "cut", tmp_path / "whole")


def test_resume_point_of_another_config_is_ignored(tiny_config, tmp_path, capsys):
    cfg = run_cfg(tiny_config, steps=40, checkpoint_every=20)
    other = run_cfg(tiny_config, steps=40, checkpoint_every=20, batch_size=32)
    job = gjob.Job([other], torch.device("cpu"))
    save_resume(tmp_path / RESUME, [other], 20, job, [SeedRun(other, tmp_path)])
    summary = train(cfg, tmp_path, progress=False)
    assert summary["resumed_from_step"] is None and summary["steps_completed"] == 40
    assert "written with another config; starting over" in capsys.readouterr().err
    train(cfg, tmp_path / "ref", progress=False)
    assert_same_run(tmp_path, tmp_path / "ref")


@pytest.mark.slow
def test_killed_job_started_again_resumes_and_matches_an_uninterrupted_run(tiny_config, tmp_path):
    cfg = run_cfg(tiny_config, "nonsaturating", steps=800, checkpoint_every=50, log_every=50, eval_every=200)
    cmd = [
        sys.executable,
        "-m",
        "gans.train",
        "--run-config",
        json.dumps(cfg),
        "--out",
        str(tmp_path / "killed"),
        "--no-progress",
    ]
    env = snakemake_env()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    resume = tmp_path / "killed" / RESUME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if resume.is_file() and torch.load(resume, weights_only=True)["step"] >= 100:
            proc.kill()  # SIGKILL: no chance to clean up, as in a preempted job
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert proc.returncode == -9, "the job must be killed mid-run (it finished or failed first)"
    assert not (tmp_path / "killed" / "train_summary.json").exists()
    killed_at = torch.load(resume, weights_only=True)["step"]
    assert 100 <= killed_at < 800

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"resuming from step {killed_at}" in again.stderr
    summary = json.loads((tmp_path / "killed" / "train_summary.json").read_text())
    assert summary["resumed_from_step"] == killed_at and summary["steps_completed"] == 800
    assert not resume.exists()

    train(cfg, tmp_path / "whole", progress=False)
    assert_same_run(tmp_path / "killed", tmp_path / "whole")


@pytest.mark.slow
def test_snakemake_killed_mid_training_then_rerun_continues_the_run(tmp_path):
    """The workflow's side: resume.pt is no declared output, so Snakemake's cleanup
    of an incomplete job leaves it, and the rerun job (after --unlock, with
    --rerun-incomplete) continues from it to an uninterrupted run's result."""
    config = {
        **TINY,
        "grid": {**TINY["grid"], "losses": ["nonsaturating"], "seeds": [0]},
        "train": {**TINY["train"], "steps": 800, "checkpoint_every": 50, "log_every": 50, "eval_every": 200},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/populations/8gaussians/gan/nonsaturating/p0.json"  # relative to --directory
    run = tmp_path / "results/runs/8gaussians/gan/nonsaturating/seed0"
    cmd = snakemake_cmd(tmp_path, "--cores", "1", target)
    env = snakemake_env()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if (run / RESUME).is_file() and torch.load(run / RESUME, weights_only=True)["step"] >= 100:
            os.killpg(proc.pid, signal.SIGKILL)  # the node went away: Snakemake and its job die at once
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert proc.returncode == -9, "snakemake must be killed mid-training (it finished or failed first)"
    killed_at = torch.load(run / RESUME, weights_only=True)["step"]

    subprocess.run([*cmd, "--unlock"], env=env, capture_output=True, check=True, timeout=120)
    again = subprocess.run([*cmd, "--rerun-incomplete"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["resumed_from_step"] == killed_at and summary["steps_completed"] == 800
    # the results of an uninterrupted run of the same resolved config
    train(yaml.safe_load((run / "config.resolved.yaml").read_text()), tmp_path / "whole", progress=False)
    assert_same_run(run, tmp_path / "whole")
