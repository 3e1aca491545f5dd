"""Figures from the aggregated tables and the runs' samples.

    python -m analysis.figures --dataset 8gaussians --tables results/tables --out results/figures/8gaussians
    python -m analysis.figures --dataset 8gaussians --cell gan wgan --cell gan hinge --tables results/tables --out results/figures/8gaussians/cells

Per dataset: heatmap_main.png and heatmap_success.png (variant x loss: median final
main metric and success rate over seeds, each with its interval), distributions.png
(final metrics across seeds, each seed a dot coloured by its outcome, the median's
interval, the calibration values as lines), trajectories.png (metrics over
training, median and seed band, calibration lines), d_outputs.png (mean D(x) and
D(G(z)) per loss against the equilibrium value), training_curves.png (losses,
gradient norms) and points.png (one panel per run: generated over real points with
D's contours, or a grid of generated images).
Per cell (--cell, as many as given; drawn in one process): the seeds side by side,
final samples above the main metric's trajectory, with the outcome marked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pandas as pd
import seaborn as sns

from analysis.figures.common import load_calibration
from analysis.figures.overview import plot_distributions, plot_heatmaps
from analysis.figures.samples import plot_cell, plot_points
from analysis.figures.training import plot_d_outputs, plot_training_curves, plot_trajectories
from gans.config import section_defaults
from gans.config.sweep import join_label

FIGURES = {
    "heatmap_main": "1 overview",
    "heatmap_success": "1 overview",
    "distributions": "1 overview",
    "trajectories": "2 training",
    "d_outputs": "2 training",
    "training_curves": "2 training",
    "points": "3 samples",
}


def _load(tables: Path, dataset: str):
    def load(name):
        table = pd.read_csv(tables / f"{name}.csv", keep_default_na=False, na_values=[""])
        table = table[table["dataset"] == dataset].copy()
        # a cell's name on the figures: its grid label (variant, then its setting)
        return table.assign(label=[join_label(v, s) for v, s in zip(table["variant"], table["setting"], strict=True)])

    runs = load("runs")
    if runs.empty:
        raise SystemExit(f"error: no runs of dataset '{dataset}' in {tables}/runs.csv")
    return runs, load


def draw(dataset: str, tables: Path, out: Path, opts: dict[str, Any], runs_root: Path = Path(".")) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sns.set_theme(context=opts["context"], style="whitegrid")
    runs, load = _load(tables, dataset)
    logs = load("train_logs")
    summary = load("summary")
    calibration = load_calibration(tables, dataset)
    plot_heatmaps(summary, runs, out, opts)
    plot_distributions(runs, summary, calibration, out, opts)
    plot_trajectories(load("trajectories"), calibration, out, opts)
    plot_training_curves(logs, out, opts)
    plot_d_outputs(logs, runs, out, opts)
    plot_points(runs, runs_root, out, opts, calibration)


def draw_cells(
    dataset: str,
    cells: list[tuple[str, str]],
    tables: Path,
    folder: Path,
    opts: dict[str, Any],
    runs_root: Path = Path("."),
) -> list[Path]:
    """Each (variant, loss) cell's figure as folder/<variant>/<loss>.png, from one read of the tables."""
    sns.set_theme(context=opts["context"], style="whitegrid")
    runs, load = _load(tables, dataset)
    missing = [f"{v} / {loss}" for v, loss in cells if not ((runs.label == v) & (runs.loss == loss)).any()]
    if missing:  # before drawing any
        raise SystemExit(f"error: no runs of {dataset} / {', '.join(missing)} in {tables}/runs.csv")
    traj = load("trajectories")
    calibration = load_calibration(tables, dataset)
    paths = []
    for variant, loss in cells:
        path = folder / variant / f"{loss}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pick = (runs.label == variant) & (runs.loss == loss)
        plot_cell(runs[pick], traj[(traj.label == variant) & (traj.loss == loss)], runs_root, path, opts, calibration)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument(
        "--cell",
        nargs=2,
        action="append",
        metavar=("VARIANT", "LOSS"),
        help="draw this cell's figure as --out/VARIANT/LOSS.png (repeat for more cells)",
    )
    parser.add_argument("--tables", required=True, type=Path)
    parser.add_argument(
        "--out", required=True, type=Path, help="folder of the dataset's figures, or of its cell figures"
    )
    parser.add_argument("--options", default="{}", help="JSON plotting options (the config's figures section)")
    parser.add_argument("--runs-root", default=Path("."), type=Path, help="folder that holds results/runs")
    args = parser.parse_args(argv)
    opts = section_defaults("figures", json.loads(args.options))
    if args.cell:
        draw_cells(args.dataset, [tuple(c) for c in args.cell], args.tables, args.out, opts, args.runs_root)
    else:
        draw(args.dataset, args.tables, args.out, opts, args.runs_root)
    return 0
