"""Overview figures of a dataset: heatmaps of the main metric and of the success
rate over the variant x loss cells, each with its interval, and the final metrics'
distributions over seeds with the median's interval and the calibration values."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.figures.common import (
    CALIBRATION_STYLE,
    OUTCOME_COLORS,
    PANEL_METRICS,
    cell_label,
    is_points,
    metric_label,
    reference_lines,
    save,
    spans_decades,
)
from analysis.stability import OUTCOMES
from metrics import higher_is_better


def _heatmap(
    summary: pd.DataFrame,
    values_col: str,
    annot_of,
    title: str,
    cbar: str,
    cmap: str,
    path: Path,
    opts: dict[str, Any],
    vmin=None,
    vmax=None,
) -> None:
    """A variant x loss heatmap; not-applicable cells say so."""
    ok = summary[summary["status"] != "not applicable"]
    fig, ax = plt.subplots(
        figsize=(max(7.0, 1.6 * summary["loss"].nunique() + 2.4), 0.9 * summary["label"].nunique() + 2.0)
    )
    values = summary.pivot(index="label", columns="loss", values=values_col).astype(float)
    annot = values.astype(object)
    for _, s in summary.iterrows():
        annot.loc[s["label"], s["loss"]] = "n/a" if s["status"] == "not applicable" else annot_of(s)
    sns.heatmap(
        values,
        annot=annot,
        fmt="",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        cbar_kws={"label": cbar},
        linewidths=0.5,
        ax=ax,
        annot_kws={"fontsize": 9},
    )
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("loss")
    ax.set_ylabel("variant")
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    if ok.empty:
        ax.text(0.5, 0.5, "no applicable cell", ha="center", va="center", transform=ax.transAxes)
    save(fig, path, opts["dpi"])


def plot_heatmaps(summary: pd.DataFrame, runs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """The main metric (median over seeds, IQR below) and the success rate."""
    dataset = summary["dataset"].iloc[0]
    main = runs["main_metric"].iloc[0]
    good = higher_is_better(main)
    limits = {}
    if main == "modes_covered":
        limits = {"vmin": 0, "vmax": float(runs["modes_total"].max())}

    def main_annot(s):
        if pd.isna(s[f"{main}_median"]):
            return "—"
        if pd.isna(s[f"{main}_median_lo"]):
            return f"{s[f'{main}_median']:.3g}"
        return f"{s[f'{main}_median']:.3g}\n[{s[f'{main}_median_lo']:.3g}, {s[f'{main}_median_hi']:.3g}]"

    _heatmap(
        summary,
        f"{main}_median",
        main_annot,
        f"{dataset}: final {metric_label(main, is_points(dataset))}, median over seeds [bootstrap interval]",
        f"{metric_label(main, is_points(dataset))} (median)",
        "viridis" if good is not False else "viridis_r",
        out / "heatmap_main.png",
        opts,
        **limits,
    )

    def success_annot(s):
        failed = "\n".join(f"{int(s[o])} {o}" for o in OUTCOMES[1:] if s[o])
        interval = f" [{s['success_rate_lo']:.0%}, {s['success_rate_hi']:.0%}]"
        return f"{int(s['converged'])}/{int(s['seeds'])}{interval}" + (f"\n{failed}" if failed else "")

    _heatmap(
        summary,
        "success_rate",
        success_annot,
        f"{dataset}: share of seeds that converged (held the quality bar to the end) [Wilson interval]",
        "success rate",
        "RdYlGn",
        out / "heatmap_success.png",
        opts,
        vmin=0,
        vmax=1,
    )


def plot_distributions(
    runs: pd.DataFrame, summary: pd.DataFrame, calibration: pd.DataFrame, out: Path, opts: dict[str, Any]
) -> None:
    """Final metrics across seeds: a box per cell with every seed as a dot, coloured by
    outcome, the median's bootstrap interval as a black bar, and the calibration
    values (held-out real, uniform noise, untrained G) as lines."""
    metrics = [m for m in PANEL_METRICS if m in runs and runs[m].notna().any()]
    points = is_points(runs["dataset"].iloc[0])
    runs = runs.assign(
        cell=[cell_label(v, loss, runs["label"].nunique()) for v, loss in zip(runs.label, runs.loss, strict=True)]
    )
    ncols = min(3, len(metrics))
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.2 * ncols, 0.32 * runs["cell"].nunique() * nrows + 2.2 * nrows), squeeze=False
    )
    for ax, m in zip(axes.flat, metrics, strict=False):
        sns.boxplot(data=runs, y="cell", x=m, ax=ax, color="0.9", showfliers=False)
        with seeded_global_numpy():  # seaborn jitters from NumPy's global stream: same data, same figure
            sns.stripplot(
                data=runs,
                y="cell",
                x=m,
                ax=ax,
                hue="outcome",
                palette=OUTCOME_COLORS,
                hue_order=OUTCOMES,
                size=6,
                jitter=0.15,
                legend=ax is axes.flat[0],
            )
        log = spans_decades(runs[m])
        if log:
            ax.set_xscale("log")
        median_intervals(ax, runs, summary, m)
        reference_lines(ax, calibration, m, vertical=True, log=log)
        ax.set_ylabel("")
        ax.set_xlabel("")
        ax.set_title(
            metric_label(m, points)
            + {True: " (higher is better)", False: " (lower is better)"}.get(higher_is_better(m), ""),
            fontsize=10,
        )
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_axis_off()
    height = fig.get_figheight()
    fig.suptitle(
        f"{runs['dataset'].iloc[0]}: final metrics across seeds (diverged runs have none); lines: calibration values",
        fontsize=11,
        y=1 - 0.08 / height,
        va="top",
    )
    legend_top, panels_top = 1 - 0.4 / height, 1 - 0.78 / height  # inches from the top: title, legend, panels
    if metrics:
        _distribution_legend(fig, axes.flat[0], legend_top)
    fig.tight_layout(rect=(0, 0, 1, panels_top))
    save(fig, out / "distributions.png", opts["dpi"])


def _distribution_legend(fig, ax, top: float) -> None:
    """Outcomes (from the first panel's strip plot), calibration lines and the median's
    interval: one legend for the figure, under its title and above every panel."""
    handles, labels = ax.get_legend_handles_labels()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    handles += [
        plt.Line2D([], [], lw=1.2, **{k: v for k, v in s.items() if k != "label"}) for s in CALIBRATION_STYLE.values()
    ]
    labels += [s["label"] for s in CALIBRATION_STYLE.values()]
    handles.append(plt.Line2D([], [], color="k", lw=2.5))
    labels.append("median's interval")
    fig.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, top), ncol=6, title=None, fontsize=8, frameon=False
    )


@contextmanager
def seeded_global_numpy(seed: int = 0):
    """NumPy's global random stream seeded inside, restored after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def median_intervals(ax, runs: pd.DataFrame, summary: pd.DataFrame, metric: str) -> None:
    """Each cell's median and its bootstrap interval, as a bar over the cell's row."""
    lo, hi = f"{metric}_median_lo", f"{metric}_median_hi"
    if lo not in summary:
        return
    rows = list(dict.fromkeys(runs["cell"]))  # the boxes' order, top to bottom
    for _, s in summary[summary["status"] != "not applicable"].iterrows():
        cell = cell_label(s["label"], s["loss"], runs["label"].nunique())
        if cell in rows and pd.notna(s[lo]):
            y = rows.index(cell)
            ax.plot([s[lo], s[hi]], [y, y], color="k", lw=2.5, solid_capstyle="butt", zorder=4)
            ax.plot([s[f"{metric}_median"]], [y], marker="|", ms=12, color="k", zorder=4)
