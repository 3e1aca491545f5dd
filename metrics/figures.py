"""Figures from the aggregated tables and the runs' samples.

    python -m metrics.figures --dataset 8gaussians --tables results/tables --out results/figures/8gaussians
    python -m metrics.figures --dataset 8gaussians --cell gan wgan --cell gan hinge --tables results/tables --out results/figures/8gaussians/cells

Per dataset: heatmap_main.png and heatmap_success.png (variant x loss: median final
main metric, success rate over seeds), distributions.png (final metrics across
seeds, each seed a dot coloured by its outcome), trajectories.png (metrics over
training, median and seed band), d_outputs.png (mean D(x) and D(G(z)) per loss
against the equilibrium value), training_curves.png (losses, gradient norms) and
points.png (generated over real points with D's contours, one panel per run).
Per cell (--cell, as many as given; drawn in one process): the seeds side by side, final samples over D's contours above
the main metric's trajectory, with collapse and divergence marked.
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
from metrics.stability import OUTCOMES  # noqa: E402

RUN_DIR = "results/runs/{dataset}/{variant}/{loss}/seed{seed}"
# metrics shown in the distribution and trajectory panels, when present
PANEL_METRICS = ["modes_covered", "hq_fraction", "reverse_kl", "fid", "kid", "precision", "recall", "isc"]
LOG_COLUMNS = ["d_loss", "g_loss", "d_grad_norm", "g_grad_norm"]
OUTCOME_COLORS = {"converged": "tab:blue", "oscillating": "tab:olive", "collapsed": "tab:purple", "diverged": "tab:red"}
OUTCOME_FACE = {"collapsed": "#ece2f0", "diverged": "#fde0dd"}


def _cell_label(variant: str, loss: str, n_variants: int) -> str:
    return loss if n_variants == 1 else f"{variant} · {loss}"


def _save(fig, path: Path, dpi: int) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def _spans_decades(values: pd.Series) -> bool:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    if (v <= 0).any():  # a log axis would hide the zeros
        return False
    return len(v) > 1 and v.max() / v.min() > 100


def _run_samples(runs_root: Path, row: pd.Series) -> Any:
    return np.load(runs_root / RUN_DIR.format(**row[["dataset", "variant", "loss", "seed"]].to_dict()) / "samples.npz")


def _outcome_note(row: pd.Series) -> str:
    """What happened to a run, for a panel title."""
    if row["outcome"] == "diverged":
        return f"DIVERGED at step {int(row['steps_completed'])}"
    modes = f"{int(row['modes_covered'])}/{int(row['modes_total'])} modes" if pd.notna(row.get("modes_covered")) else ""
    return f"{row['outcome'].upper() if row['outcome'] == 'collapsed' else row['outcome']}" + (f", {modes}" if modes else "")


def _mark_outcome(ax, outcome: str) -> None:
    """Tint and frame a panel whose run collapsed or diverged."""
    if outcome in OUTCOME_FACE:
        ax.set_facecolor(OUTCOME_FACE[outcome])
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_edgecolor(OUTCOME_COLORS[outcome])
            spine.set_linewidth(2.5)


def image_grid(images: np.ndarray, ncols: int) -> np.ndarray:
    """N x C x H x W images (uint8, or floats in [-1, 1]) tiled into one H x W (x 3)
    picture in [0, 1], 1 px apart."""
    n, c, h, w = images.shape
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * (h + 1) - 1, ncols * (w + 1) - 1, c), dtype=np.float32)
    unit = images / 255.0 if images.dtype == np.uint8 else (np.nan_to_num(images) + 1) / 2
    pictures = np.clip(unit, 0, 1).transpose(0, 2, 3, 1)
    for i, img in enumerate(pictures):
        r, k = divmod(i, ncols)
        grid[r * (h + 1): r * (h + 1) + h, k * (w + 1): k * (w + 1) + w] = img
    return grid[..., 0] if c == 1 else grid


def samples_panel(ax, data, row: pd.Series, opts: dict[str, Any], rng) -> None:
    """A run's final samples: points over real data and D's contours, or an image grid."""
    fake = data[f"fake_{int(data['steps'][-1])}"]
    if fake.ndim == 2 and fake.shape[1] == 2:
        scatter_panel(ax, data, row, opts, rng)
        return
    side = opts["grid_side"]
    ax.imshow(image_grid(fake[: side * side], side), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    _mark_outcome(ax, row["outcome"])


def scatter_panel(ax, data, row: pd.Series, opts: dict[str, Any], rng) -> None:
    """Real points (grey), the final generated points (orange), D's output as contours;
    the panel tinted where the run collapsed or diverged."""
    ax.set_xticks([])
    ax.set_yticks([])
    last = int(data["steps"][-1])
    if "d_score" in data and np.isfinite(data["d_score"]).all():
        ax.contourf(data["grid_x"], data["grid_y"], data["d_score"], levels=opts["contour_levels"], cmap="RdBu_r", alpha=0.55)
        lim = (data["grid_x"][0], data["grid_x"][-1])
        ax.set_xlim(lim)
        ax.set_ylim(lim)
    real, fake = data["real"], data[f"fake_{last}"]
    pick = rng.permutation(len(fake))[: opts["max_points"]]
    fake = fake[pick][np.isfinite(fake[pick]).all(1)]
    ax.scatter(real[pick, 0], real[pick, 1], s=2, c="0.25", alpha=0.5, linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:orange", alpha=0.7, linewidths=0)
    _mark_outcome(ax, row["outcome"])


def plot_points(runs: pd.DataFrame, runs_root: Path, out: Path, opts: dict[str, Any]) -> None:
    """One panel per run (cells in rows, seeds in columns)."""
    cells = runs[["variant", "loss"]].drop_duplicates().values.tolist()
    seeds = sorted(runs["seed"].unique())
    n_variants = runs["variant"].nunique()
    fig, axes = plt.subplots(len(cells), len(seeds), figsize=(2.6 * len(seeds), 2.7 * len(cells)), squeeze=False)
    rng = np.random.default_rng(0)
    for i, (variant, loss) in enumerate(cells):
        for j, seed in enumerate(seeds):
            ax = axes[i][j]
            match = runs[(runs.variant == variant) & (runs.loss == loss) & (runs.seed == seed)]
            if match.empty:
                ax.set_axis_off()
                continue
            row = match.iloc[0]
            samples_panel(ax, _run_samples(runs_root, row), row, opts, rng)
            ax.set_title(f"{_cell_label(variant, loss, n_variants)} · seed {seed}\n{_outcome_note(row)}", fontsize=9)
    fig.suptitle(f"{runs['dataset'].iloc[0]}: final generated points (orange) over real (grey)\n"
                 "background = D output (red = real); tinted = collapsed (purple) / diverged (red)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    _save(fig, out / "points.png", opts["dpi"])


def plot_cell(runs: pd.DataFrame, traj: pd.DataFrame, runs_root: Path, path: Path, opts: dict[str, Any]) -> None:
    """One cell's seeds side by side: final samples over D's contours, and the main
    metric along training with its best point and what happened marked."""
    runs = runs.sort_values("seed")
    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(3.0 * n, 6.0), squeeze=False, gridspec_kw={"height_ratios": [1.15, 1]})
    rng = np.random.default_rng(0)
    main = runs["main_metric"].iloc[0]
    lo, hi = traj[main].min(), traj[main].max()
    for j, (_, row) in enumerate(runs.iterrows()):
        samples_panel(axes[0][j], _run_samples(runs_root, row), row, opts, rng)
        axes[0][j].set_title(f"seed {row['seed']}: {_outcome_note(row)}", fontsize=9, color=OUTCOME_COLORS[row["outcome"]])
        ax = axes[1][j]
        t = traj[traj["seed"] == row["seed"]]
        ax.plot(t["step"], t[main], marker="o", ms=3, color=OUTCOME_COLORS[row["outcome"]])
        if pd.notna(row.get(f"{main}_best_step")):
            ax.plot([row[f"{main}_best_step"]], [row[f"{main}_best"]], marker="*", ms=12, color="gold", mec="k", label="best")
        if row["outcome"] == "diverged":
            ax.axvline(row["steps_completed"], color="tab:red", ls="--", label="diverged")
        if pd.notna(lo) and pd.notna(hi) and hi > lo:
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("step")
        ax.set_ylabel(main if j == 0 else "")
        if row["outcome"] == "diverged":
            ax.legend(fontsize=7, loc="best")
    r = runs.iloc[0]
    fig.suptitle(f"{r['dataset']} · {r['variant']} · {r['loss']}: final samples (orange) over real (grey), "
                 f"D output behind (red = real)\nbelow: {main} over training, star = best checkpoint", fontsize=10)
    fig.tight_layout()
    _save(fig, path, opts["dpi"])


def _heatmap(summary: pd.DataFrame, values_col: str, annot_of, title: str, cbar: str, cmap: str, path: Path,
             opts: dict[str, Any], vmin=None, vmax=None) -> None:
    """A variant x loss heatmap; not-applicable cells say so."""
    ok = summary[summary["status"] != "not applicable"]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * summary["loss"].nunique() + 2.4), 0.9 * summary["variant"].nunique() + 2.0))
    values = summary.pivot(index="variant", columns="loss", values=values_col).astype(float)
    annot = values.astype(object)
    for _, s in summary.iterrows():
        annot.loc[s["variant"], s["loss"]] = "n/a" if s["status"] == "not applicable" else annot_of(s)
    sns.heatmap(values, annot=annot, fmt="", cmap=cmap, vmin=vmin, vmax=vmax, cbar_kws={"label": cbar},
                linewidths=0.5, ax=ax, annot_kws={"fontsize": 9})
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("loss")
    ax.set_ylabel("variant")
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    if ok.empty:
        ax.text(0.5, 0.5, "no applicable cell", ha="center", va="center", transform=ax.transAxes)
    _save(fig, path, opts["dpi"])


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
        return f"{s[f'{main}_median']:.3g}\n[{s[f'{main}_q25']:.3g}, {s[f'{main}_q75']:.3g}]"

    _heatmap(summary, f"{main}_median", main_annot, f"{dataset}: final {main}, median [q25, q75] over seeds",
             f"{main} (median)", "viridis" if good is not False else "viridis_r", out / "heatmap_main.png", opts, **limits)

    def success_annot(s):
        failed = "\n".join(f"{int(s[o])} {o}" for o in OUTCOMES[1:] if s[o])
        return f"{int(s['converged'])}/{int(s['seeds'])}" + (f"\n{failed}" if failed else "")

    _heatmap(summary, "success_rate", success_annot, f"{dataset}: share of seeds that converged (no collapse, divergence or oscillation)",
             "success rate", "RdYlGn", out / "heatmap_success.png", opts, vmin=0, vmax=1)


def plot_distributions(runs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """Final metrics across seeds: a box per cell with every seed as a dot, coloured by outcome."""
    metrics = [m for m in PANEL_METRICS if m in runs and runs[m].notna().any()]
    runs = runs.assign(cell=[_cell_label(v, l, runs["variant"].nunique()) for v, l in zip(runs.variant, runs.loss)])
    ncols = min(3, len(metrics))
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 0.32 * runs["cell"].nunique() * nrows + 2.2 * nrows), squeeze=False)
    for ax, m in zip(axes.flat, metrics):
        sns.boxplot(data=runs, y="cell", x=m, ax=ax, color="0.9", showfliers=False)
        sns.stripplot(data=runs, y="cell", x=m, ax=ax, hue="outcome", palette=OUTCOME_COLORS,
                      hue_order=OUTCOMES, size=6, jitter=0.15, legend=ax is axes.flat[0])
        if _spans_decades(runs[m]):
            ax.set_xscale("log")
        ax.set_ylabel("")
        ax.set_title(m + {True: " (higher is better)", False: " (lower is better)"}.get(higher_is_better(m), ""), fontsize=10)
    if metrics:
        sns.move_legend(axes.flat[0], "lower left", bbox_to_anchor=(0, 1.08), ncol=4, title=None, fontsize=8, frameon=False)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    fig.suptitle(f"{runs['dataset'].iloc[0]}: final metrics across seeds (diverged runs have none)", fontsize=11)
    fig.tight_layout()
    _save(fig, out / "distributions.png", opts["dpi"])


def _band(opts: dict[str, Any]):
    return ("pi", 100) if opts["seed_band"] == "range" else ("pi", 50)


def _lines(table: pd.DataFrame, columns: list[str], out: Path, name: str, title: str, opts: dict[str, Any]) -> None:
    table = table.assign(cell=[_cell_label(v, l, table["variant"].nunique()) for v, l in zip(table.variant, table.loss)])
    columns = [c for c in columns if c in table and table[c].notna().any()]
    ncols = min(3, len(columns))
    nrows = int(np.ceil(len(columns) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, columns):
        sns.lineplot(data=table, x="step", y=c, hue="cell", hue_order=sorted(table["cell"].unique()), estimator="median",
                     errorbar=_band(opts), ax=ax, legend=ax is axes.flat[0])
        if _spans_decades(table[c]):
            ax.set_yscale("log")
        ax.set_title(c, fontsize=10)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.93 if nrows > 1 else 0.86))
    if columns:  # one legend for all panels, under the title
        handles, labels = axes.flat[0].get_legend_handles_labels()
        axes.flat[0].get_legend().remove()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965 if nrows > 1 else 0.93), ncol=min(8, len(labels)), frameon=False, fontsize=9)
    _save(fig, out / name, opts["dpi"])


def _band_name(opts: dict[str, Any]) -> str:
    return "seed range" if opts["seed_band"] == "range" else "interquartile range over seeds"


def plot_trajectories(traj: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(traj, PANEL_METRICS, out, "trajectories.png",
           f"{traj['dataset'].iloc[0]}: metrics over training (median over seeds, band = {_band_name(opts)})", opts)


def plot_training_curves(logs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    _lines(logs, LOG_COLUMNS, out, "training_curves.png",
           f"{logs['dataset'].iloc[0]}: losses and gradient norms (median over seeds, band = {_band_name(opts)})", opts)


def plot_d_outputs(logs: pd.DataFrame, runs: pd.DataFrame, out: Path, opts: dict[str, Any]) -> None:
    """Per loss, mean D(x) and D(G(z)) over training against the value D gives every
    sample at the equilibrium (0.5 for the JS losses; none for critics)."""
    cells = runs[["variant", "loss", "d_equilibrium"]].drop_duplicates(["variant", "loss"])
    n_variants = runs["variant"].nunique()
    ncols = min(3, len(cells))
    nrows = int(np.ceil(len(cells) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.2 * nrows), squeeze=False)
    long = logs.melt(id_vars=["variant", "loss", "seed", "step"], value_vars=["d_real", "d_fake"], var_name="output")
    long["output"] = long["output"].map({"d_real": "D(x)", "d_fake": "D(G(z))"})
    for ax, (_, cell) in zip(axes.flat, cells.iterrows()):
        part = long[(long.variant == cell["variant"]) & (long.loss == cell["loss"])]
        sns.lineplot(data=part, x="step", y="value", hue="output", hue_order=["D(x)", "D(G(z))"], estimator="median",
                     errorbar=_band(opts), ax=ax, palette={"D(x)": "tab:blue", "D(G(z))": "tab:orange"})
        eq = cell["d_equilibrium"]
        if pd.notna(eq):
            ax.axhline(eq, color="0.2", ls="--", lw=1, label=f"equilibrium {eq:g}")
            ax.set_title(f"{_cell_label(cell['variant'], cell['loss'], n_variants)} (probability)", fontsize=10)
        else:
            ax.set_title(f"{_cell_label(cell['variant'], cell['loss'], n_variants)} (raw critic score)", fontsize=10)
        ax.set_ylabel("mean D output")
        ax.legend(fontsize=8, title=None)
    for ax in list(axes.flat)[len(cells):]:
        ax.set_axis_off()
    fig.suptitle(f"{runs['dataset'].iloc[0]}: mean D(x) and D(G(z)) over training (median over seeds, band = {_band_name(opts)}); "
                 "dashed = D's value at the equilibrium p_g = p_data", fontsize=10)
    fig.tight_layout()
    _save(fig, out / "d_outputs.png", opts["dpi"])


FIGURE_FILES = ["heatmap_main.png", "heatmap_success.png", "distributions.png", "trajectories.png", "d_outputs.png",
                "training_curves.png", "points.png"]
DEFAULTS = {"dpi": 120, "max_points": 1000, "context": "notebook", "seed_band": "range", "contour_levels": 12, "grid_side": 8}


def _load(tables: Path, dataset: str):
    def load(name):
        table = pd.read_csv(tables / f"{name}.csv")
        return table[table["dataset"] == dataset]

    runs = load("runs")
    if runs.empty:
        raise SystemExit(f"error: no runs of dataset '{dataset}' in {tables}/runs.csv")
    return runs, load


def draw(dataset: str, tables: Path, out: Path, opts: dict[str, Any], runs_root: Path = Path(".")) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sns.set_theme(context=opts["context"], style="whitegrid")
    runs, load = _load(tables, dataset)
    logs = load("train_logs")
    plot_heatmaps(load("summary"), runs, out, opts)
    plot_distributions(runs, out, opts)
    plot_trajectories(load("trajectories"), out, opts)
    plot_training_curves(logs, out, opts)
    plot_d_outputs(logs, runs, out, opts)
    plot_points(runs, runs_root, out, opts)


def draw_cells(dataset: str, cells: list[tuple[str, str]], tables: Path, folder: Path, opts: dict[str, Any],
               runs_root: Path = Path(".")) -> list[Path]:
    """Each (variant, loss) cell's figure as folder/<variant>/<loss>.png, from one read of the tables."""
    sns.set_theme(context=opts["context"], style="whitegrid")
    runs, load = _load(tables, dataset)
    missing = [f"{v} / {l}" for v, l in cells if not ((runs.variant == v) & (runs.loss == l)).any()]
    if missing:  # before drawing any
        raise SystemExit(f"error: no runs of {dataset} / {', '.join(missing)} in {tables}/runs.csv")
    traj = load("trajectories")
    paths = []
    for variant, loss in cells:
        path = folder / variant / f"{loss}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pick = (runs.variant == variant) & (runs.loss == loss)
        plot_cell(runs[pick], traj[(traj.variant == variant) & (traj.loss == loss)], runs_root, path, opts)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--cell", nargs=2, action="append", metavar=("VARIANT", "LOSS"),
                        help="draw this cell's figure as --out/VARIANT/LOSS.png (repeat for more cells)")
    parser.add_argument("--tables", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="folder of the dataset's figures, or of its cell figures")
    parser.add_argument("--options", default="{}", help="JSON plotting options (the config's figures section)")
    parser.add_argument("--runs-root", default=Path("."), type=Path, help="folder that holds results/runs")
    args = parser.parse_args(argv)
    opts = {**DEFAULTS, **json.loads(args.options)}
    if args.cell:
        draw_cells(args.dataset, [tuple(c) for c in args.cell], args.tables, args.out, opts, args.runs_root)
    else:
        draw(args.dataset, args.tables, args.out, opts, args.runs_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
