"""Figures of one dataset from the aggregated tables and the runs' samples.

    python -m metrics.figures --dataset 8gaussians --tables results/tables --out results/figures/8gaussians

points.png (generated over real points with the discriminator's output as
contours, one panel per run), heatmap_modes.png (variant x loss), distributions.png
(final metrics across seeds), trajectories.png (metrics over training, median and
seed range) and training_curves.png (losses, D outputs, gradient norms).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from metrics import higher_is_better  # noqa: E402

RUN_DIR = "results/runs/{dataset}/{variant}/{loss}/seed{seed}"
# metrics shown in the distribution and trajectory panels, when present
PANEL_METRICS = ["modes_covered", "hq_fraction", "reverse_kl", "fid", "kid", "precision", "recall", "isc"]
LOG_COLUMNS = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"]


def _cell_label(variant: str, loss: str, n_variants: int) -> str:
    return loss if n_variants == 1 else f"{variant} · {loss}"


def _save(fig, path: Path, dpi: int) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def _spans_decades(values: pd.Series) -> bool:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    v = v[v > 0]
    return len(v) > 1 and v.max() / v.min() > 100


def plot_points(runs: pd.DataFrame, runs_root: Path, out: Path, opts: dict[str, Any]) -> None:
    """One panel per run: real points, generated points, D's output as contours."""
    cells = runs[["variant", "loss"]].drop_duplicates().values.tolist()
    seeds = sorted(runs["seed"].unique())
    n_variants = runs["variant"].nunique()
    fig, axes = plt.subplots(len(cells), len(seeds), figsize=(2.6 * len(seeds), 2.6 * len(cells)), squeeze=False)
    rng = np.random.default_rng(0)
    for i, (variant, loss) in enumerate(cells):
        for j, seed in enumerate(seeds):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            match = runs[(runs.variant == variant) & (runs.loss == loss) & (runs.seed == seed)]
            if match.empty:
                ax.set_axis_off()
                continue
            row = match.iloc[0]
            data = np.load(runs_root / RUN_DIR.format(**row[["dataset", "variant", "loss", "seed"]].to_dict()) / "samples.npz")
            last = int(data["steps"][-1])
            if "d_score" in data and np.isfinite(data["d_score"]).all():
                ax.contourf(data["grid_x"], data["grid_y"], data["d_score"], levels=12, cmap="RdBu_r", alpha=0.55)
                lim = (data["grid_x"][0], data["grid_x"][-1])
                ax.set_xlim(lim)
                ax.set_ylim(lim)
            real, fake = data["real"], data[f"fake_{last}"]
            if fake.ndim == 4:  # images: the final sample grid
                ax.imshow(image_grid(fake), cmap="gray" if fake.shape[1] == 1 else None)
            else:
                pick = rng.permutation(len(fake))[: opts["max_points"]]
                ax.scatter(real[pick, 0], real[pick, 1], s=2, c="0.25", alpha=0.5, linewidths=0)
                ax.scatter(fake[pick, 0], fake[pick, 1], s=2, c="tab:orange", alpha=0.7, linewidths=0)
            title = f"{_cell_label(variant, loss, n_variants)} · seed {seed}"
            if row["status"] == "diverged":
                title += f"\nDIVERGED at step {int(row['steps_completed'])}"
                ax.set_facecolor("#fde0dd")
            elif "modes_covered" in row and pd.notna(row["modes_covered"]):
                title += f"\n{int(row['modes_covered'])}/{int(row['modes_total'])} modes"
            ax.set_title(title, fontsize=9)
    what = "final generated samples" if fake.ndim == 4 else "generated (orange) over real (grey); background = D output (red = real)"
    fig.suptitle(f"{runs['dataset'].iloc[0]}: {what}", fontsize=11)
    _save(fig, out / "points.png", opts["dpi"])


def image_grid(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) -> one (H', W'[, C]) image for imshow."""
    import torch
    from torchvision.utils import make_grid

    grid = make_grid(torch.from_numpy(images), nrow=max(1, int(len(images) ** 0.5)), padding=1, pad_value=128)
    grid = grid.permute(1, 2, 0).numpy()
    return grid[..., 0] if images.shape[1] == 1 else grid


def plot_heatmap(summary: pd.DataFrame, out: Path, opts: dict[str, Any], metric: str = "modes_covered", name: str = "heatmap_modes.png") -> None:
    """Mean of a final metric per variant x loss; not-applicable cells say so."""
    col = f"{metric}_mean"
    fig, ax = plt.subplots(figsize=(1.3 * summary["loss"].nunique() + 2, 0.7 * summary["variant"].nunique() + 1.6))
    if col not in summary:
        ax.text(0.5, 0.5, f"no {metric} for this dataset", ha="center", va="center")
        ax.set_axis_off()
    else:
        values = summary.pivot(index="variant", columns="loss", values=col)
        std = summary.pivot(index="variant", columns="loss", values=f"{metric}_std")
        status = summary.pivot(index="variant", columns="loss", values="status")
        annot = values.copy().astype(object)
        for v in values.index:
            for loss in values.columns:
                if status.loc[v, loss] == "not applicable":
                    annot.loc[v, loss] = "n/a"
                elif pd.isna(values.loc[v, loss]):
                    annot.loc[v, loss] = "—"
                else:
                    s = std.loc[v, loss]
                    annot.loc[v, loss] = f"{values.loc[v, loss]:.3g}" + ("" if pd.isna(s) else f"\n±{s:.2g}")
        good = higher_is_better(metric)
        sns.heatmap(values.astype(float), annot=annot, fmt="", cmap="viridis" if good is not False else "viridis_r",
                    cbar_kws={"label": f"{metric} (mean over seeds)"}, linewidths=0.5, ax=ax, annot_kws={"fontsize": 9})
        ax.set_title(f"{summary['dataset'].iloc[0]}: {metric}, mean ± std over seeds")
        ax.set_xlabel("loss")
        ax.set_ylabel("variant")
        ax.tick_params(axis="x", rotation=30)
    _save(fig, out / name, opts["dpi"])


def plot_distributions(runs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """Final metrics across seeds: a box per cell with every seed as a dot."""
    metrics = [m for m in PANEL_METRICS if m in runs and runs[m].notna().any()]
    runs = runs.assign(cell=[_cell_label(v, l, runs["variant"].nunique()) for v, l in zip(runs.variant, runs.loss)])
    ncols = min(3, len(metrics))
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 0.32 * runs["cell"].nunique() * nrows + 2.2 * nrows), squeeze=False)
    for ax, m in zip(axes.flat, metrics):
        sns.boxplot(data=runs, y="cell", x=m, ax=ax, color="0.9", showfliers=False)
        sns.stripplot(data=runs, y="cell", x=m, ax=ax, hue="status", palette={"completed": "tab:blue", "diverged": "tab:red"},
                      hue_order=["completed", "diverged"], size=5, jitter=0.15, legend=ax is axes.flat[0])
        if _spans_decades(runs[m]):
            ax.set_xscale("log")
        ax.set_ylabel("")
        ax.set_title(m + {True: " (higher is better)", False: " (lower is better)"}.get(higher_is_better(m), ""), fontsize=10)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    fig.suptitle(f"{runs['dataset'].iloc[0]}: final metrics across seeds (diverged runs have none)", fontsize=11)
    fig.tight_layout()
    _save(fig, out / "distributions.png", opts["dpi"])


def _lines(table: pd.DataFrame, columns: list[str], out: Path, name: str, title: str, opts: dict[str, Any], half_line: set[str] = frozenset()) -> None:
    table = table.assign(cell=[_cell_label(v, l, table["variant"].nunique()) for v, l in zip(table.variant, table.loss)])
    columns = [c for c in columns if c in table and table[c].notna().any()]
    ncols = min(3, len(columns))
    nrows = int(np.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, columns):
        # median over seeds with the full seed range as the band
        sns.lineplot(data=table, x="step", y=c, hue="cell", estimator="median", errorbar=("pi", 100), ax=ax,
                     legend=ax is axes.flat[0])
        if _spans_decades(table[c]):
            ax.set_yscale("log")
        if c in half_line:
            ax.axhline(0.5, color="0.3", ls="--", lw=1)
        ax.set_title(c, fontsize=10)
    if columns:
        sns.move_legend(axes.flat[0], "upper left", bbox_to_anchor=(0, -0.18), ncol=3, title=None, fontsize=8)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save(fig, out / name, opts["dpi"])


def plot_trajectories(traj: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(traj, PANEL_METRICS, out, "trajectories.png",
           f"{traj['dataset'].iloc[0]}: metrics over training (median over seeds, band = seed range)", opts)


def plot_training_curves(logs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(logs, LOG_COLUMNS, out, "training_curves.png",
           f"{logs['dataset'].iloc[0]}: training logs; dashed = 0.5, the equilibrium D(x) = D(G(z)) of the JS losses", opts,
           half_line={"d_real", "d_fake"})


def draw(dataset: str, tables: Path, out: Path, opts: dict[str, Any], runs_root: Path = Path(".")) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sns.set_theme(context=opts.get("context", "notebook"), style="whitegrid")

    def load(name):
        table = pd.read_csv(tables / f"{name}.csv")
        return table[table["dataset"] == dataset]

    runs, summary = load("runs"), load("summary")
    if runs.empty:
        raise SystemExit(f"error: no runs of dataset '{dataset}' in {tables}/runs.csv")
    plot_points(runs, runs_root, out, opts)
    plot_heatmap(summary, out, opts)
    plot_distributions(runs, out, opts)
    plot_trajectories(load("trajectories"), out, opts)
    plot_training_curves(load("train_logs"), out, opts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--tables", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--options", default="{}", help="JSON plotting options (the config's figures section)")
    parser.add_argument("--runs-root", default=Path("."), type=Path, help="folder that holds results/runs")
    args = parser.parse_args(argv)
    opts = {"dpi": 120, "max_points": 1000, "context": "notebook", **json.loads(args.options)}
    draw(args.dataset, args.tables, args.out, opts, args.runs_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
