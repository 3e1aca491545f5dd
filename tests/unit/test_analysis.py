"""Tables and figures from real (tiny) runs, one of which diverges: the failed run is
a row of every table and a marked panel of the figures, not a crash or a gap. Every
run records its provenance and its final metrics under several sampling seeds; the
tables carry both, the calibration values and intervals."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import aggregate, figures, reference
from analysis import config as acfg
from analysis.figures import samples
from gans import config as gcfg
from gans.config import section_defaults
from gans.runtime import read_json, write_json
from gans.train import train
from metrics import calibration, calibration_files
from metrics.config import resolve_eval
from metrics.evaluate import evaluate
from tests.conftest import TINY


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    cfg = acfg.validate(copy.deepcopy(TINY))
    for seed, threshold in ((0, 1e6), (1, 1e-3)):  # seed 1 "diverges" at its first logged loss
        run = gcfg.resolve_run(cfg, "8gaussians", "gan", "nonsaturating", seed)
        run["train"]["divergence_threshold"] = threshold
        out = root / f"results/runs/8gaussians/gan/nonsaturating/seed{seed}"
        train(run, out, progress=False)
        evaluate(out, resolve_eval(cfg, "8gaussians"))
    ev = resolve_eval(cfg, "8gaussians")
    record = calibration.calibrate(gcfg.resolve_run(cfg, "8gaussians", "gan", "nonsaturating", 0), ev, draws=2)
    path = root / calibration_files.calibration_path("8gaussians", ev)
    path.parent.mkdir(parents=True)
    write_json(record, path)
    return root


def aggregated(runs_root):
    folders = sorted((runs_root / "results/runs").glob("*/*/*/seed*"))
    calibration_files = sorted((runs_root / "results/calibration").glob("*/*.json"))
    return aggregate.aggregate(folders, runs_root / "results/tables", [], {}, calibration_files)


def test_runs_record_provenance_and_sampling_seeds(runs_root):
    run = runs_root / "results/runs/8gaussians/gan/nonsaturating/seed0"
    summary, result = read_json(run / "train_summary.json"), read_json(run / "metrics.json")
    code = summary["provenance"]["code"]
    assert code["commit"] is None or len(code["commit"]) == 40
    assert summary["provenance"]["threads"] == torch.get_num_threads() and summary["provenance"]["cpu"]
    assert result["provenance"]["torch"] == torch.__version__
    # the final generator under 3 sampling seeds: the first is the trajectory's last point
    values = result["sampling"]["values"]
    assert len(result["sampling"]["seeds"]) == 3 and len(values["fid"]) == 3
    assert values["fid"][0] == pytest.approx(result["final"]["fid"])
    assert len(set(values["fid"])) == 3  # other noise, other samples
    assert read_json(runs_root / "results/runs/8gaussians/gan/nonsaturating/seed1/metrics.json")["sampling"] is None


def test_failed_run_is_a_row_of_every_table(runs_root):
    tables = aggregated(runs_root)
    runs = tables["runs"].set_index("seed")
    assert runs.loc[1, "status"] == "diverged" and runs.loc[1, "outcome"] == "diverged"
    assert pd.isna(runs.loc[1, "modes_covered"])  # no final value, but its best before diverging is kept
    assert runs.loc[0, "outcome"] != "diverged"
    s = tables["summary"].iloc[0]
    assert s["seeds"] == 2 and s["diverged"] == 1 and s["success_rate"] <= 0.5
    assert tables["rankings"]["seeds"].tolist() == [2]
    for name in aggregate.table_files():
        assert (runs_root / "results/tables" / name).is_file(), name
    assert "diverged" in (runs_root / "results/tables/runs.md").read_text()
    # one of the 2 seeds diverged: the median falls on "the worst", which reads as such, not -inf
    assert tables["rankings"]["median"].iloc[0] == -np.inf
    assert "| diverged |" in (runs_root / "results/tables/rankings.md").read_text().replace("  ", "")
    assert "inf" not in (runs_root / "results/tables/rankings.md").read_text()
    assert "\\begin{tabular}" in (runs_root / "results/tables/summary.tex").read_text()


def test_tables_carry_intervals_calibration_and_provenance(runs_root):
    tables = aggregated(runs_root)
    runs, s = tables["runs"].set_index("seed"), tables["summary"].iloc[0]
    assert runs.loc[0, "fid_sampling_sd"] > 0 and np.isnan(runs.loc[1, "fid_sampling_sd"])
    assert runs.loc[0, "threads"] == torch.get_num_threads() and runs.loc[0, "code_version"]
    assert 0 <= s["success_rate_lo"] <= s["success_rate"] <= s["success_rate_hi"] <= 1
    assert s["fid_sampling_sd"] == pytest.approx(runs.loc[0, "fid_sampling_sd"])  # one finished run
    cal = tables["calibration"].set_index(["kind", "metric"])["mean"]
    assert cal[("real", "hq_fraction")] > 0.9 and cal[("noise", "fid")] > cal[("real", "fid")]
    note = (runs_root / "results/tables/summary.md").read_text()
    assert "Calibration of 8gaussians (points, n = 200, mean of 2 draws)" in note and "Produced by code" in note
    prov = json.loads((runs_root / "results/tables/provenance.json").read_text())
    assert prov["runs"] == 2 and prov["evaluation"]["8gaussians"]["num_samples"] == 200
    assert (
        "rank = 1 + the number of cells significantly better" in (runs_root / "results/tables/rankings.md").read_text()
    )
    # the curated reference copy says where and with which code it was produced
    files = [runs_root / "results/tables" / n for n in ("summary.md", "runs.csv", "provenance.json")]
    reference.build(files, runs_root / "reference", {"grid": [TINY["grid"]]})
    readme = (runs_root / "reference/README.md").read_text()
    assert f"on {runs.loc[0, 'processor']} with 1 thread(s)" in readme and "analysis.compare" in readme
    assert f"Produced by code {runs.loc[0, 'code_version']}" in readme
    assert "of the default config" in readme and "snakemake --cores all reference" in readme
    reference.build(files, runs_root / "reference", {"grid": [TINY["grid"]]}, "config/x.yaml")
    readme = (runs_root / "reference/README.md").read_text()
    assert "run of `config/x.yaml`" in readme and "reference --forcerun aggregate --configfile config/x.yaml" in readme
    with pytest.raises(gcfg.ConfigError, match="no calibration values for dataset"):
        aggregate.aggregate(sorted((runs_root / "results/runs").glob("*/*/*/seed*")), runs_root / "x", [], {}, [])


def test_point_panels_show_the_high_quality_share_that_the_outcome_rests_on():
    from analysis.figures import samples

    row = pd.Series({"outcome": "did not learn", "modes_covered": 8, "modes_total": 8, "hq_fraction": 0.39})
    assert samples._outcome_note(row, points=True) == "DID NOT LEARN, 8/8 modes, hq 39%"
    row = pd.Series({"outcome": "diverged", "steps_completed": 120, "hq_fraction": 0.1})
    assert samples._outcome_note(row, points=True) == "DIVERGED at step 120"


def test_a_redrawn_figure_is_the_same_file(tmp_path):
    # the tracked reference tables: 6 seeds per cell, so the strip plot's jitter shows
    from analysis.figures import _load, load_calibration, plot_distributions

    tables = gcfg.ROOT / "results/reference/tables"
    runs, load = _load(tables, "8gaussians")
    opts = section_defaults("figures", {"dpi": 60})
    drawn = []
    for seed in (1, 2):
        np.random.seed(seed)  # whatever the global stream holds
        plot_distributions(runs, load("summary"), load_calibration(tables, "8gaussians"), tmp_path, opts)
        drawn.append((tmp_path / "distributions.png").read_bytes())
    assert drawn[0] == drawn[1]


def test_figures_mark_the_diverged_run(runs_root):
    opts = section_defaults("figures", {"dpi": 50, "max_points": 100})
    if not (runs_root / "results/tables/runs.csv").is_file():
        aggregated(runs_root)
    out = runs_root / "results/figures/8gaussians"
    figures.draw("8gaussians", runs_root / "results/tables", out, opts, runs_root)
    figures.draw_cells(
        "8gaussians", [("gan", "nonsaturating")], runs_root / "results/tables", out / "cells", opts, runs_root
    )
    for name in [f"{name}.png" for name in figures.FIGURES] + ["cells/gan/nonsaturating.png"]:
        assert (out / name).stat().st_size > 5_000, name
        assert (out / name).with_suffix(".pdf").read_bytes().startswith(b"%PDF"), "a PDF beside each PNG"
    with pytest.raises(SystemExit, match="no runs of 8gaussians / gan / wgan in"):  # before drawing any
        figures.draw_cells(
            "8gaussians",
            [("gan", "nonsaturating"), ("gan", "wgan")],
            runs_root / "results/tables",
            out / "x",
            opts,
            runs_root,
        )
    assert not (out / "x").exists()


def test_the_points_figure_shows_each_cells_first_seeds(monkeypatch, tmp_path):
    """20 seeds a row would shrink every panel: the figure keeps points_seeds of them and says so."""
    runs = pd.DataFrame(
        [
            {"dataset": "8gaussians", "label": "gan", "loss": loss, "seed": seed, "run": f"{loss}/{seed}"}
            for loss in ("hinge", "wgan")
            for seed in range(10, 15)
        ]
    )
    drawn, shown = {}, []
    monkeypatch.setattr(samples, "_run_samples", lambda root, row: None)
    monkeypatch.setattr(samples, "_is_images", lambda root, runs: False)
    monkeypatch.setattr(samples, "_outcome_note", lambda row, points: "converged")
    monkeypatch.setattr(samples, "samples_panel", lambda ax, data, row, opts, rng: shown.append(row["run"]))
    monkeypatch.setattr(samples, "save", lambda fig, path, dpi: drawn.update(fig=fig))
    samples.plot_points(runs, tmp_path, tmp_path, section_defaults("figures", {"points_seeds": 3}))
    assert shown == [f"{loss}/{seed}" for loss in ("hinge", "wgan") for seed in (10, 11, 12)]
    assert "the first 3 of 5 seeds of each cell" in drawn["fig"].get_suptitle()
    shown.clear()
    samples.plot_points(runs, tmp_path, tmp_path, section_defaults("figures", {"points_seeds": 8}))
    assert len(shown) == 10 and "seeds of each cell" not in drawn["fig"].get_suptitle()


def test_figures_name_metrics_for_a_reader():
    from analysis.figures.common import metric_label

    assert metric_label("fid") == "FID (Fréchet Inception distance)"
    assert metric_label("fid", points=True) == "Fréchet distance of the points"
    assert metric_label("isc") == "Inception score" and metric_label("f_score") == "F-score of precision and recall"
    assert metric_label("some_new_column") == "some new column"


def test_image_runs_get_a_sample_grid():
    import matplotlib.pyplot as plt
    import numpy as np

    images = np.full((5, 1, 4, 3), -1.0, dtype=np.float32)  # black 4x3 images
    images[2] = 1.0  # one white one
    grid = samples.image_grid(images, ncols=2)
    assert grid.shape == (3 * 5 - 1, 2 * 4 - 1)  # 3 rows x 2 columns, 1 px gaps
    assert grid[5:9, 0:3].min() == 1.0 and grid[0:4, 0:3].max() == 0.0  # image 2 is row 1, column 0
    assert grid[10:14, 4:7].min() == 1.0  # the empty sixth slot stays white (background)
    fig, ax = plt.subplots()
    data = {"steps": np.array([0, 10]), "fake_10": np.random.default_rng(0).uniform(-1, 1, (70, 3, 8, 8))}
    samples.samples_panel(
        ax, data, pd.Series({"outcome": "collapsed"}), section_defaults("figures", {"grid_side": 8}), None
    )
    shown = ax.get_images()[0].get_array()
    assert shown.shape == (8 * 9 - 1, 8 * 9 - 1, 3) and ax.get_facecolor() != (1, 1, 1, 1)
    plt.close(fig)
