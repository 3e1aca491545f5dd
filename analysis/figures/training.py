"""Training figures: metrics along training, the losses and gradient norms, and D's
mean outputs against the equilibrium value, as medians over seeds with a band."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.figures.common import (
    CALIBRATION_STYLE,
    LOG_COLUMNS,
    PANEL_METRICS,
    cell_label,
    is_points,
    metric_label,
    reference_lines,
    save,
    spans_decades,
)


def _band(opts: dict[str, Any]):
    return ("pi", 100) if opts["seed_band"] == "range" else ("pi", 50)


def _lines(
    table: pd.DataFrame,
    columns: list[str],
    out: Path,
    name: str,
    title: str,
    opts: dict[str, Any],
    calibration: pd.DataFrame | None = None,
) -> None:
    table = table.assign(
        cell=[cell_label(v, loss, table["label"].nunique()) for v, loss in zip(table.label, table.loss, strict=True)]
    )
    columns = [c for c in columns if c in table and table[c].notna().any()]
    ncols = min(3, len(columns))
    nrows = int(np.ceil(len(columns) / ncols))
    # one x-range for every panel: the steps of the longest run
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows), squeeze=False, sharex=True)
    points = "dataset" in table and is_points(table["dataset"].iloc[0])
    for ax, c in zip(axes.flat, columns, strict=False):
        sns.lineplot(
            data=table,
            x="step",
            y=c,
            hue="cell",
            hue_order=sorted(table["cell"].unique()),
            estimator="median",
            errorbar=_band(opts),
            ax=ax,
            legend=ax is axes.flat[0],
        )
        log = spans_decades(table[c])
        if log:
            ax.set_yscale("log")
        if calibration is not None:
            reference_lines(ax, calibration, c, vertical=False, log=log)
        ax.set_title(metric_label(c, points), fontsize=10)
        ax.set_ylabel("")
        ax.tick_params(labelbottom=True)
    for ax in list(axes.flat)[len(columns) :]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.93 if nrows > 1 else 0.86))
    if columns:  # one legend for all panels, under the title
        handles, labels = axes.flat[0].get_legend_handles_labels()
        axes.flat[0].get_legend().remove()
        if calibration is not None:  # the calibration lines' key, beside the cells'
            handles += [
                plt.Line2D([], [], lw=1.2, **{k: v for k, v in style.items() if k != "label"})
                for style in CALIBRATION_STYLE.values()
            ]
            labels += [style["label"] for style in CALIBRATION_STYLE.values()]
        fig.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.965 if nrows > 1 else 0.93),
            ncol=min(8, len(labels)),
            frameon=False,
            fontsize=9,
        )
    save(fig, out / name, opts["dpi"])


def _band_name(opts: dict[str, Any]) -> str:
    return "seed range" if opts["seed_band"] == "range" else "interquartile range over seeds"


def plot_trajectories(traj: pd.DataFrame, calibration: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(
        traj,
        PANEL_METRICS,
        out,
        "trajectories.png",
        f"{traj['dataset'].iloc[0]}: metrics over training (median over seeds, band = {_band_name(opts)})",
        opts,
        calibration,
    )


def plot_training_curves(logs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(
        logs,
        LOG_COLUMNS,
        out,
        "training_curves.png",
        f"{logs['dataset'].iloc[0]}: losses and gradient norms (median over seeds, band = {_band_name(opts)})",
        opts,
    )


def plot_d_outputs(logs: pd.DataFrame, runs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """Per loss, mean D(x) and D(G(z)) over training against the value D gives every
    sample at the equilibrium (0.5 for the JS losses; none for critics)."""
    cells = runs[["label", "loss", "d_equilibrium"]].drop_duplicates(["label", "loss"])
    n_variants = runs["label"].nunique()
    ncols = min(3, len(cells))
    nrows = int(np.ceil(len(cells) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.2 * nrows), squeeze=False, sharex=True)
    long = logs.melt(id_vars=["label", "loss", "seed", "step"], value_vars=["d_real", "d_fake"], var_name="output")
    long["output"] = long["output"].map({"d_real": "D(x)", "d_fake": "D(G(z))"})
    for ax, (_, cell) in zip(axes.flat, cells.iterrows(), strict=False):
        part = long[(long.label == cell["label"]) & (long.loss == cell["loss"])]
        sns.lineplot(
            data=part,
            x="step",
            y="value",
            hue="output",
            hue_order=["D(x)", "D(G(z))"],
            estimator="median",
            errorbar=_band(opts),
            ax=ax,
            palette={"D(x)": "tab:blue", "D(G(z))": "tab:orange"},
        )
        eq = cell["d_equilibrium"]
        if pd.notna(eq):
            ax.axhline(eq, color="0.2", ls="--", lw=1, label=f"equilibrium {eq:g}")
            ax.set_title(f"{cell_label(cell['label'], cell['loss'], n_variants)} (probability)", fontsize=10)
        else:
            ax.set_title(f"{cell_label(cell['label'], cell['loss'], n_variants)} (raw critic score)", fontsize=10)
        ax.set_ylabel("mean D output")
        ax.legend(fontsize=8, title=None)
    for ax in list(axes.flat)[len(cells) :]:
        ax.set_axis_off()
    fig.suptitle(
        f"{runs['dataset'].iloc[0]}: mean D(x) and D(G(z)) over training (median over seeds, band = {_band_name(opts)}); "
        "dashed = D's value at the equilibrium p_g = p_data",
        fontsize=10,
    )
    fig.tight_layout()
    save(fig, out / "d_outputs.png", opts["dpi"])


# each dataset figure (drawn by ``draw``) and its section of the report; the rules
# take the list from here, and workflow/report/<name>.rst holds its caption
