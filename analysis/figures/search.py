"""Figures of the search (docs/search.md), one set per dataset, from its tables:

  budget.png      best score found against settings tried and against updates spent,
                  one line per cell (median over orders of the draws, the set-up first;
                  band: 5-95%), as Lucic et al. 2018's Fig. 4
  best_seeds.png  each cell's best setting over its new seeds (box and one dot per seed,
                  coloured by outcome), beside the search's own scores (over its seeds) of the
                  set-up and of the best, as their Fig. 3/5
  trainable.png   the share of each cell's settings by outcome: how much of the space trains
  score_vs_budget.png  expected best score after k settings drawn at random from the
                  cell's N, one curve per cell with its bootstrap band, as their Fig. 4

    python -m analysis.figures.search --dataset 8gaussians --tables results/search/tables \\
        --out results/search/figures/8gaussians
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.figures.common import OUTCOME_COLORS, cell_label, save
from analysis.stability import CELL, OUTCOMES
from gans.config import section_defaults

# the figures each dataset gets, by file name (the rules read this list)
FIGURES = ("budget", "best_seeds", "trainable", "score_vs_budget")


def _labels(table: pd.DataFrame) -> pd.Series:
    cells = table["variant"] + np.where(table["setting"] == "default", "", "+" + table["setting"])
    return pd.Series(
        [cell_label(c, loss, cells.nunique()) for c, loss in zip(cells, table["loss"], strict=True)], index=table.index
    )


def plot_budget(budget: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    budget = budget.assign(cell=_labels(budget))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    palette = dict(zip(budget["cell"].unique(), sns.color_palette("tab10", budget["cell"].nunique()), strict=True))
    for cell, g in budget.groupby("cell", sort=False):
        for ax, x in zip(axes, ("settings", "updates_median"), strict=True):
            ax.plot(g[x], g["best_median"], marker="o", ms=3, color=palette[cell], label=cell)
            ax.fill_between(g[x], g["best_band_low"], g["best_band_high"], color=palette[cell], alpha=0.12)
    metric = budget["metric"].iloc[0]
    axes[0].set_xlabel("settings tried (the set-up first)")
    axes[1].set_xlabel("updates spent (D + G, median over orders)")
    _log_ticks(axes[1])
    axes[0].set_ylabel(f"best {metric} found")
    axes[0].xaxis.get_major_locator().set_params(integer=True)
    axes[1].legend(fontsize=8, loc="best")
    fig.suptitle(
        f"{budget['dataset'].iloc[0]}: best {metric} found against budget "
        "(median and 5-95% band over orders of the draws)",
        fontsize=11,
    )
    save(fig, out / "budget.png", opts["dpi"])


def _log_ticks(ax) -> None:
    """A log x-axis labelled at 1, 2, 5 x 10^n in short form (5k, 20k, 1M), minor ticks unlabelled:
    matplotlib's default labels minor ticks too when the range spans about a decade, and they overlap."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.EngFormatter(sep=""))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def plot_score_vs_budget(curves: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """Expected best score after k random settings, one line and band per cell."""
    curves = curves.assign(cell=_labels(curves))
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    palette = dict(zip(curves["cell"].unique(), sns.color_palette("tab10", curves["cell"].nunique()), strict=True))
    for cell, g in curves.groupby("cell", sort=False):
        ax.plot(g["settings"], g["expected_best"], marker="o", ms=3, color=palette[cell], label=cell)
        ax.fill_between(g["settings"], g["band_low"], g["band_high"], color=palette[cell], alpha=0.12)
    metric = curves["metric"].iloc[0]
    ax.set_xlabel("k: settings drawn at random from the cell's search")
    ax.set_ylabel(f"expected best {metric}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, loc="best")
    n = int(curves["of"].max())
    ax.set_title(
        f"{curves['dataset'].iloc[0]}: expected best {metric} after k of {n} settings\n"
        f"(exact, from order statistics; band: {curves['confidence'].iloc[0]:.0%} bootstrap over the settings)",
        fontsize=10,
    )
    save(fig, out / "score_vs_budget.png", opts["dpi"])


def plot_best_seeds(best: pd.DataFrame, compared: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    best = best.assign(cell=_labels(best))
    metric, _, at = best["metric"].iloc[0].partition(" (")
    column = f"{metric}_best" if at.startswith("best") else metric
    rows = []
    for _, b in best.iterrows():
        seeds = compared[(compared[CELL] == b[CELL]).all(axis=1) & (compared["search_setting"] == b["best"])]
        rows += [
            {"cell": b["cell"], "value": v, "outcome": o} for v, o in zip(seeds[column], seeds["outcome"], strict=True)
        ]
    seeds = pd.DataFrame(rows)
    order = list(best["cell"])
    fig, ax = plt.subplots(figsize=(max(7.0, 0.9 * len(order) + 2.0), 4.8))
    if not seeds.empty:
        sns.boxplot(data=seeds, x="cell", y="value", order=order, color="0.9", width=0.5, showfliers=False, ax=ax)
        for outcome in OUTCOMES:
            pick = seeds[seeds["outcome"] == outcome]
            if len(pick):
                sns.stripplot(
                    data=pick,
                    x="cell",
                    y="value",
                    order=order,
                    color=OUTCOME_COLORS[outcome],
                    size=6,
                    jitter=0.12,
                    ax=ax,
                    label=f"new seed: {outcome}",
                )
    xs = np.arange(len(order))
    n = int(best["seeds_per_setting"].max()) if "seeds_per_setting" in best else 1
    searched = f"search, {n} seed" if n == 1 else f"search, mean of {n} seeds"
    ax.scatter(xs + 0.3, best["set_up_score"], marker="x", color="0.3", zorder=5, label=f"set-up ({searched})")
    ax.scatter(
        xs + 0.3,
        best["best_score"],
        marker="D",
        facecolor="none",
        edgecolor="k",
        zorder=5,
        label=f"best setting ({searched})",
    )
    if "best_finalist_score" in best and best["best_finalist_score"].notna().any():
        ax.scatter(
            xs + 0.3,
            best["best_finalist_score"],
            marker="D",
            color="k",
            zorder=6,
            label="best setting (mean over its finalist seeds too)",
        )
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    ax.set_xlabel("")
    ax.set_ylabel(f"{metric} ({at.rstrip(')') or 'final'})")
    ax.tick_params(axis="x", rotation=30)
    k = int(best["seeds"].max()) if len(best) else 0
    ax.set_title(f"{best['dataset'].iloc[0]}: each cell's best setting over {k} new seeds", fontsize=11)
    save(fig, out / "best_seeds.png", opts["dpi"])


def plot_trainable(best: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    best = best.assign(cell=_labels(best))
    counts = best.set_index("cell")[[f"settings_{o}" for o in OUTCOMES]]
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(best) + 1.6))
    left = np.zeros(len(shares))
    for o in OUTCOMES:
        ax.barh(shares.index, shares[f"settings_{o}"], left=left, color=OUTCOME_COLORS[o], label=o)
        left += shares[f"settings_{o}"].to_numpy()
    for y, trains in enumerate(best["trains"]):
        ax.text(1.01, y, f"trains {trains}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of the settings tried")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.15 - 0.3 / max(len(best), 1)))
    ax.set_title(f"{best['dataset'].iloc[0]}: outcome of every setting of the search", fontsize=11)
    save(fig, out / "trainable.png", opts["dpi"])


def draw(dataset: str, tables: Path, compared: Path, out: Path, opts: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sns.set_theme(context=opts["context"], style="whitegrid")

    def load(path):
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
        return table[table["dataset"] == dataset].reset_index(drop=True)

    best = load(tables / "search_best.csv")
    if best.empty:
        raise SystemExit(f"error: no cell of dataset '{dataset}' in {tables}/search_best.csv")
    plot_budget(load(tables / "search_budget.csv"), out, opts)
    plot_best_seeds(best, load(compared), out, opts)
    plot_trainable(best, out, opts)
    curves = load(tables / "search_expected_best.csv")
    plot_score_vs_budget(curves, out, opts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.figures.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--tables", required=True, type=Path, help="the search's tables")
    parser.add_argument(
        "--compared", default=Path("results/tables/runs.csv"), type=Path, help="the aggregation's runs.csv"
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--options", default="{}", help="JSON plotting options (the config's figures section)")
    args = parser.parse_args(argv)
    opts = section_defaults("figures", json.loads(args.options))
    draw(args.dataset, args.tables, args.compared, args.out, opts)
    return 0


if __name__ == "__main__":
    main()
