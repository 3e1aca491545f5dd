"""A tiny end-to-end run of the real Snakemake pipeline in a temporary folder."""
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from gans.config import ROOT
from tests.conftest import TINY

pytestmark = pytest.mark.slow


def snakemake(workdir, *args, check=True):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_pipeline(tmp_path_factory, name, config):
    """The whole pipeline on ``config`` in a fresh folder; the folder."""
    workdir = tmp_path_factory.mktemp(name)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(workdir)
    return workdir


def rule_counts(workdir) -> dict[str, int]:
    """Jobs per rule that a dry run would execute."""
    dry = snakemake(workdir, "-n", "--quiet", "rules").stdout
    return {line.split()[0]: int(line.split()[1]) for line in dry.splitlines() if len(line.split()) == 2 and line.split()[1].isdigit()}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return run_pipeline(tmp_path_factory, "pipeline", TINY)


def test_produces_tables_and_figures(pipeline):
    runs = pd.read_csv(pipeline / "results/tables/runs.csv")
    assert len(runs) == 4 and set(runs["loss"]) == {"nonsaturating", "wgan-gp"}
    assert {"modes_covered", "hq_fraction", "reverse_kl", "fid", "kid", "precision", "recall", "hp.optimizer.lr_d"} <= set(runs.columns)
    summary = pd.read_csv(pipeline / "results/tables/summary.csv")
    assert len(summary) == 2 and (summary["seeds"] == 2).all()
    assert {"modes_covered_mean", "modes_covered_std", "modes_covered_median", "all_modes_rate"} <= set(summary.columns)
    traj = pd.read_csv(pipeline / "results/tables/trajectories.csv")
    assert sorted(traj["step"].unique()) == [0, 20, 40]
    for name in ("points", "heatmap_modes", "distributions", "trajectories", "training_curves"):
        png = pipeline / f"results/figures/8gaussians/{name}.png"
        assert png.stat().st_size > 10_000, name
    assert (pipeline / "results/runs/8gaussians/gan/wgan-gp/seed1/config.resolved.yaml").is_file()


def test_nothing_to_do_afterwards_and_one_deleted_run_reruns_alone(pipeline):
    assert "Nothing to be done" in snakemake(pipeline, "-n").stdout
    shutil.rmtree(pipeline / "results/runs/8gaussians/gan/wgan-gp/seed1")
    counts = rule_counts(pipeline)
    assert counts == {"aggregate": 1, "all": 1, "evaluate": 1, "figures": 1, "train": 1, "total": 5}, counts


def test_bad_config_fails_before_any_job(tmp_path):
    bad = {**TINY, "grid": {**TINY["grid"], "losses": ["nonsaturating", "wgan_gp"]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    assert "unknown loss 'wgan_gp'; choose one of: hinge, lsgan, minimax, nonsaturating, wgan, wgan-gp" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "-s", str(ROOT / "Snakefile")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
