"""A tiny end-to-end run of the real Snakemake pipeline in a temporary folder."""

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from analysis.outcomes import OUTCOMES
from tests.conftest import TINY
from tests.workflow.conftest import ROOT, rule_counts, run_pipeline, snakemake, snakemake_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return run_pipeline(tmp_path_factory, "pipeline", TINY)


def test_produces_tables_and_figures(pipeline):
    runs = pd.read_csv(pipeline / "results/tables/runs.csv")
    assert len(runs) == 4 and set(runs["loss"]) == {"nonsaturating", "wgan-gp"}
    assert {
        "modes_covered",
        "hq_fraction",
        "reverse_kl",
        "fid",
        "kid",
        "precision",
        "recall",
        "hp.optimizer.lr_d",
    } <= set(runs.columns)
    summary = pd.read_csv(pipeline / "results/tables/summary.csv")
    assert len(summary) == 2 and (summary["seeds"] == 2).all()
    assert {"modes_covered_mean", "modes_covered_std", "modes_covered_median", "all_modes_rate"} <= set(summary.columns)
    traj = pd.read_csv(pipeline / "results/tables/trajectories.csv")
    assert sorted(traj["step"].unique()) == [0, 20, 40]
    for name in (
        "points",
        "heatmap_main",
        "heatmap_success",
        "distributions",
        "trajectories",
        "d_outputs",
        "training_curves",
    ):
        png = pipeline / f"results/figures/8gaussians/{name}.png"
        assert png.stat().st_size > 10_000, name
    for loss in ("nonsaturating", "wgan-gp"):
        assert (pipeline / f"results/figures/8gaussians/cells/gan/{loss}.png").stat().st_size > 10_000
    for name in ("runs", "summary", "rankings", "loss_tracking", "baseline_check"):
        for fmt in ("csv", "md", "tex"):
            assert (pipeline / f"results/tables/{name}.{fmt}").stat().st_size > 100, (name, fmt)
    assert {"outcome", "modes_covered_best", "oscillation", "d_loss_rho", "step_to_modes_covered"} <= set(runs.columns)
    assert {"success_rate", "modes_covered_iqr", "modes_covered_gap_mean"} <= set(summary.columns)
    assert (pipeline / "results/runs/8gaussians/gan/wgan-gp/seed1/config.resolved.yaml").is_file()
    # outcomes placed by the calibration values, intervals on every number, provenance
    calibration = json.loads((pipeline / "results/calibration/8gaussians/points_200.json").read_text())
    assert calibration["real"]["mean"]["hq_fraction"] > 0.9 and len(calibration["noise"]["draws"]) == 3
    assert {"success_rate_lo", "success_rate_hi", "modes_covered_median_lo", "fid_mean_hi", "fid_sampling_sd"} <= set(
        summary.columns
    )
    assert {"bar_score", "code_version", "processor", "threads"} <= set(runs.columns)
    assert set(runs["outcome"]) <= set(OUTCOMES) and {"rank", "tied_with"} <= set(
        pd.read_csv(pipeline / "results/tables/rankings.csv").columns
    )
    assert json.loads((pipeline / "results/tables/provenance.json").read_text())["runs"] == 4


def compare_tables(a, b):
    """``python -m analysis.compare`` on the tables of pipeline folders ``a`` and ``b``."""
    return subprocess.run(
        [sys.executable, "-m", "analysis.compare", str(a / "results/tables"), str(b / "results/tables")],
        capture_output=True,
        text=True,
        env=snakemake_env(),
        cwd=ROOT,
    )


def test_a_folder_agrees_with_itself_and_with_a_rerun_at_two_threads(pipeline, tmp_path):
    """analysis.compare on the pipeline's tables: against a copy (agree), against the
    same config run again with 2 threads per training job (same config, other execution),
    and against tables whose runs record another config (refused)."""
    proc = compare_tables(pipeline, pipeline)
    assert proc.returncode == 0 and "**Verdict: agree.**" in proc.stdout, proc.stdout + proc.stderr
    other = tmp_path / "threads2"
    other.mkdir()
    (other / "config.yaml").write_text(yaml.safe_dump({**TINY, "train": {**TINY["train"], "threads": 2}}))
    snakemake(other)
    proc = compare_tables(pipeline, other)
    assert proc.returncode in (0, 1) and "train.threads: A 1 vs B 2" in proc.stdout, proc.stdout + proc.stderr
    longer = tmp_path / "steps60"
    shutil.copytree(pipeline / "results/tables", longer / "results/tables")
    runs = pd.read_csv(longer / "results/tables/runs.csv")
    runs.assign(**{"hp.train.steps": 60}).to_csv(longer / "results/tables/runs.csv", index=False)
    proc = compare_tables(pipeline, longer)
    assert proc.returncode == 2 and "hp.train.steps: A 40 vs B 60" in proc.stderr, proc.stdout + proc.stderr


def test_plot_or_analysis_option_change_touches_no_training_or_evaluation(pipeline):
    for section, change, rerun in (
        ("figures", {"dpi": 60, "seed_band": "iqr"}, {"figures": 1, "cell_figures": 1}),
        ("analysis", {"hold_points": 1}, {"aggregate": 1, "figures": 1, "cell_figures": 1}),
    ):
        changed = {**TINY, section: {**TINY.get(section, {}), **change}}
        (pipeline / "changed.yaml").write_text(yaml.safe_dump(changed))
        counts = rule_counts(pipeline, configfile="changed.yaml")
        assert counts == {**rerun, "all": 1, "total": sum(rerun.values()) + 1}, (section, counts)


def test_a_config_that_would_replace_runs_of_other_settings_says_so_and_its_own_folder_keeps_both(pipeline, tmp_path):
    longer = {**TINY, "train": {**TINY["train"], "steps": TINY["train"]["steps"] + 20}}
    (pipeline / "longer.yaml").write_text(yaml.safe_dump(longer))
    proc = snakemake(pipeline, "-n", configfile="longer.yaml")
    steps = f"train.steps: this config {longer['train']['steps']} vs the run there {TINY['train']['steps']}"
    note = [line for line in proc.stderr.splitlines() if "trained with other settings" in line]
    assert len(note) == 1 and note[0].startswith("note: 4 run folders of this config") and steps in note[0], note
    assert "--directory FOLDER" in note[0]
    # the same config in a folder of its own
    (tmp_path / "longer.yaml").write_text(yaml.safe_dump(longer))
    assert "trained with other settings" not in snakemake(tmp_path, "-n", configfile="longer.yaml").stderr
    assert "trained with other settings" not in snakemake(pipeline, "-n").stderr
    # a folder without a config/config.yaml of its own runs the suite's default config
    default = tmp_path / "default"
    default.mkdir()
    assert "Job stats" in snakemake(default, "-n", configfile=None).stdout


def test_report_builds(pipeline):
    snakemake(pipeline, "--report", "results/report.html")
    html = (pipeline / "results/report.html").read_text()
    assert len(html) > 100_000
    for name in (
        "heatmap_main.png",
        "heatmap_success.png",
        "d_outputs.png",
        "wgan-gp.png",
        "rankings.csv",
        "baseline_check.csv",
    ):
        assert name in html, name


def test_nothing_to_do_afterwards_and_a_deleted_run_retrains_its_population(pipeline):
    """A run's population (the cell's two seeds) trains again, and its evaluation job
    evaluates both runs again; then nothing is left to do. A run's deleted evaluation
    file is made again by its population's evaluation alone."""
    assert "Nothing to be done" in snakemake(pipeline, "-n").stdout
    run = pipeline / "results/runs/8gaussians/gan/wgan-gp/seed1"
    log = pipeline / "results/runs/8gaussians/gan/wgan-gp/seed0/train_log.csv"
    before = pd.read_csv(log).drop(columns="wall_time")
    shutil.rmtree(run)
    counts = rule_counts(pipeline)
    assert counts == {
        "aggregate": 1,
        "all": 1,
        "cell_figures": 1,
        "evaluate": 1,
        "figures": 1,
        "train": 1,
        "total": 6,
    }, counts
    proc = snakemake(pipeline)
    assert "population 8gaussians/gan/wgan-gp/p0: 2 members (gan x seed 0, 1), batched" in proc.stderr
    assert (run / "metrics.json").is_file()
    pd.testing.assert_frame_equal(pd.read_csv(log).drop(columns="wall_time"), before, check_exact=True)
    assert "Nothing to be done" in snakemake(pipeline, "-n").stdout
    marker = json.loads((pipeline / "results/evaluations/8gaussians/gan/wgan-gp/p0.json").read_text())
    assert marker["population"] == "8gaussians/gan/wgan-gp/p0"
    assert [m["files"][1] for m in marker["members"]] == [
        f"results/runs/8gaussians/gan/wgan-gp/seed{seed}/metrics.json" for seed in (0, 1)
    ]
    (run / "samples.npz").unlink()
    counts = rule_counts(pipeline)
    assert counts == {"aggregate": 1, "all": 1, "cell_figures": 1, "evaluate": 1, "figures": 1, "total": 5}, counts
    snakemake(pipeline)
    assert (run / "samples.npz").is_file() and "Nothing to be done" in snakemake(pipeline, "-n").stdout


def test_populations_and_two_datasets_end_to_end(tmp_path_factory):
    """The default config's shape: grid blocks, runs trained and evaluated a population to
    a job, and each dataset's cell figures drawn by its own job."""
    config = {
        **TINY,
        "train": {**TINY["train"], "population_size": 2},
        "grid": [
            {"datasets": ["8gaussians"], "variants": ["gan"], "losses": ["nonsaturating"], "seeds": [0, 1, 2]},
            {"datasets": ["25gaussians"], "variants": ["gan"], "losses": ["hinge"], "seeds": [0]},
        ],
    }
    workdir = tmp_path_factory.mktemp("populations")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    assert rule_counts(workdir) == {
        "train": 3,
        "evaluate": 3,
        "calibrate": 2,
        "aggregate": 1,
        "figures": 2,
        "cell_figures": 2,
        "all": 1,
        "total": 14,
    }
    snakemake(workdir)
    for run in (
        "8gaussians/gan/nonsaturating/seed0",
        "8gaussians/gan/nonsaturating/seed2",
        "25gaussians/gan/hinge/seed0",
    ):
        assert (workdir / "results/runs" / run / "metrics.json").is_file(), run
    marker = json.loads((workdir / "results/populations/8gaussians/gan/nonsaturating/p0.json").read_text())
    assert [(m["seed"], m["run"]) for m in marker["members"]] == [
        (0, "results/runs/8gaussians/gan/nonsaturating/seed0"),
        (1, "results/runs/8gaussians/gan/nonsaturating/seed1"),
    ]
    assert (workdir / "results/logs/train/8gaussians/gan/nonsaturating/p1.log").is_file()
    assert (workdir / "results/logs/evaluate/8gaussians/gan/nonsaturating/p1.log").is_file()
    for cell in ("8gaussians/cells/gan/nonsaturating.png", "25gaussians/cells/gan/hinge.png"):
        assert (workdir / "results/figures" / cell).stat().st_size > 10_000, cell


def test_bad_config_fails_before_any_job(tmp_path):
    bad = {**TINY, "grid": {**TINY["grid"], "losses": ["nonsaturating", "wgan_gp"]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake(tmp_path, check=False)
    assert proc.returncode != 0
    assert re.search(
        r"unknown loss 'wgan_gp'; choose one of: .*nonsaturating, rpgan, wgan, wgan-gp", proc.stdout + proc.stderr
    )
    assert not (tmp_path / "results").exists()


def test_lint_is_clean():
    proc = snakemake(ROOT, "--lint", configfile=None, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
