"""Sample figures: each run's final samples (points over real data and D's
contours, or an image grid), per dataset and per cell."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.figures.common import (
    OUTCOME_COLORS,
    OUTCOME_FACE,
    calibration_value,
    cell_label,
    metric_label,
    reference_lines,
    save,
)
from gans import safe_io
from gans.layout import SAMPLES


def _run_samples(runs_root: Path, row: pd.Series) -> dict[str, np.ndarray]:
    """The arrays of a run's samples.npz the panels draw, read whole (the steps, the real
    samples, the last point's generated ones, D's grid). A file that cannot be read is
    set aside and the job ends naming it, so the next ``snakemake`` call evaluates the
    run again (the file is evaluation's) instead of failing here on every call."""
    path = runs_root / row["run"] / SAMPLES
    try:
        with np.load(path) as data:
            drawn = ["steps", "real", f"fake_{int(data['steps'][-1])}"]
            drawn += [k for k in ("grid_x", "grid_y", "d_score") if k in data]
            return {k: data[k] for k in drawn}
    except FileNotFoundError:
        raise
    except Exception as exc:  # zip, zlib and format errors of a file cut short or overwritten
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        damaged = safe_io.DamagedFile(path, f"cannot be read ({why})")
        raise SystemExit(f"error: {safe_io.retrain_message(damaged)}") from None


def _outcome_note(row: pd.Series, points: bool) -> str:
    """What happened to a run, for a panel title: the outcome, the modes and, for
    points, the high-quality share that separates 'all modes' from 'converged' (for
    images, the main metric)."""
    if row["outcome"] == "diverged":
        return f"DIVERGED at step {int(row['steps_completed'])}"
    shown = row["outcome"].upper() if row["outcome"] in OUTCOME_FACE else row["outcome"]
    if pd.notna(row.get("modes_covered")):
        shown += f", {int(row['modes_covered'])}/{int(row['modes_total'])} modes"
    if points and pd.notna(row.get("hq_fraction")):
        shown += f", hq {row['hq_fraction']:.0%}"
    elif not points and pd.notna(row.get(main := row.get("main_metric", ""))):
        shown += f", {main} {row[main]:.3g}"
    return shown


def _is_images(runs_root: Path, runs: pd.DataFrame) -> bool:
    data = _run_samples(runs_root, runs.iloc[0])
    return data[f"fake_{int(data['steps'][-1])}"].ndim == 4


def _calibration_values(calibration: pd.DataFrame, metric: str) -> str:
    """'held-out real 18.8, uniform noise 857' (empty when not calibrated)."""
    real, noise = (calibration_value(calibration, k, metric) for k in ("real", "noise"))
    if not (np.isfinite(real) and np.isfinite(noise)):
        return ""
    return f"held-out real {real:.3g}, uniform noise {noise:.3g}"


def _calibration_caption(calibration: pd.DataFrame, metric: str) -> str:
    """'fid: held-out real 18.8, uniform noise 857' (empty when not calibrated)."""
    values = _calibration_values(calibration, metric)
    return f"{metric}: {values}" if values else ""


def _mark_outcome(ax, outcome: str) -> None:
    """Tint and frame a panel whose run collapsed or diverged."""
    if outcome in OUTCOME_FACE:
        ax.set_facecolor(OUTCOME_FACE[outcome])
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_edgecolor(OUTCOME_COLORS[outcome])
            spine.set_linewidth(2.5)


def image_grid(images: np.ndarray, ncols: int) -> np.ndarray:
    """N x C x H x W images (uint8, or floats in [-1, 1]) tiled by torchvision's
    ``make_grid`` into one H x W (x 3) picture in [0, 1], 1 px apart on white."""
    import torch
    from torchvision.utils import make_grid

    c = images.shape[1]
    unit = images / 255.0 if images.dtype == np.uint8 else (np.nan_to_num(images) + 1) / 2
    tiles = torch.from_numpy(np.clip(unit, 0, 1).astype(np.float32))
    grid = make_grid(tiles, nrow=ncols, padding=1, pad_value=1.0)[:, 1:-1, 1:-1]  # no outer border
    picture = grid.permute(1, 2, 0).numpy()
    return picture[..., 0] if c == 1 else picture


def samples_panel(ax, data, row: pd.Series, opts: dict[str, Any], rng) -> None:
    """A run's final samples: points over real data and D's contours, or an image grid."""
    fake = data[f"fake_{int(data['steps'][-1])}"]
    if fake.ndim == 2 and fake.shape[1] == 2:
        scatter_panel(ax, data, row, opts, rng)
        return
    if fake.ndim == 2 and fake.shape[1] == 1:
        line_panel(ax, data, fake, row)
        return
    side = opts["grid_side"]
    ax.imshow(image_grid(fake[: side * side], side), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    _mark_outcome(ax, row["outcome"])


def line_panel(ax, data, fake: np.ndarray, row: pd.Series) -> None:
    """1-D data (the Dirac-GAN): the real points (grey line) and the final generated
    ones (orange) on one axis; the phase portrait (metrics.figures.dirac) shows the rest."""
    real = np.asarray(data["real"]).ravel()
    ax.axvline(float(np.median(real)), color="0.5", lw=2)
    ax.plot(fake.ravel(), np.zeros(len(fake)), "o", color="tab:orange", ms=4)
    extent = max(1.0, float(np.nanmax(np.abs(np.concatenate([real, fake.ravel()])))) * 1.2)
    ax.set_xlim(-extent, extent)
    ax.set_yticks([])
    _mark_outcome(ax, row["outcome"])


def scatter_panel(ax, data, row: pd.Series, opts: dict[str, Any], rng) -> None:
    """Real points (grey), the final generated points (orange), D's output as contours;
    the panel tinted where the run collapsed or diverged."""
    ax.set_xticks([])
    ax.set_yticks([])
    last = int(data["steps"][-1])
    if "d_score" in data and np.isfinite(data["d_score"]).all():
        ax.contourf(
            data["grid_x"], data["grid_y"], data["d_score"], levels=opts["contour_levels"], cmap="RdBu_r", alpha=0.55
        )
        lim = (data["grid_x"][0], data["grid_x"][-1])
        ax.set_xlim(lim)
        ax.set_ylim(lim)
    real, fake = data["real"], data[f"fake_{last}"]
    pick = rng.permutation(len(fake))[: opts["max_points"]]
    fake = fake[pick][np.isfinite(fake[pick]).all(1)]
    ax.scatter(real[pick, 0], real[pick, 1], s=2, c="0.25", alpha=0.5, linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:orange", alpha=0.7, linewidths=0)
    ax.set_aspect("equal", adjustable="box")  # the plane as it is: a square grid stays square
    _mark_outcome(ax, row["outcome"])


def plot_points(
    runs: pd.DataFrame, runs_root: Path, out: Path, opts: dict[str, Any], calibration: pd.DataFrame | None = None
) -> None:
    """One panel per run (cells in rows, seeds in columns; each cell's first
    ``points_seeds`` seeds): points or an image grid; images get a first row with real
    test images to compare with."""
    cells = runs[["label", "loss"]].drop_duplicates().values.tolist()
    every = sorted(runs["seed"].unique())
    seeds = every[: opts["points_seeds"]]
    n_variants = runs["label"].nunique()
    top = int(_is_images(runs_root, runs))  # a row of real images above the runs
    width = max(2.6 * len(seeds), 7.8)  # room for the title beside a single seed
    title = _samples_title(runs, runs_root, calibration)
    if len(seeds) < len(every):
        title += f"\nthe first {len(seeds)} of {len(every)} seeds of each cell; every seed: cells/<variant>/<loss>.png"
    # wrapped to the figure's width, and given its own height, so one row of panels keeps its shape
    title = "\n".join(textwrap.fill(line, int(width / 0.085)) for line in title.split("\n"))
    title_height = 0.25 * (title.count("\n") + 1) + 0.2  # inches
    fig, axes = plt.subplots(
        len(cells) + top,
        len(seeds),
        figsize=(width, 2.7 * (len(cells) + top) + title_height),
        squeeze=False,
        layout="constrained",
    )
    rng = np.random.default_rng(0)
    if top:
        real_panel(axes[0], _run_samples(runs_root, runs.iloc[0]), opts)
    for i, (variant, loss) in enumerate(cells):
        for j, seed in enumerate(seeds):
            ax = axes[i + top][j]
            match = runs[(runs.label == variant) & (runs.loss == loss) & (runs.seed == seed)]
            if match.empty:
                ax.set_axis_off()
                continue
            row = match.iloc[0]
            samples_panel(ax, _run_samples(runs_root, row), row, opts, rng)
            note = _outcome_note(row, points=not top)
            ax.set_title(f"{cell_label(variant, loss, n_variants)} · seed {seed}\n{note}", fontsize=9)
    fig.suptitle(title, fontsize=11)
    sample_legend(fig, points=not top)
    save(fig, out / "points.png", opts["dpi"])


def real_panel(axes_row, data, opts: dict[str, Any]) -> None:
    """Real test images in the first panel of a row (the others left blank)."""
    side = opts["grid_side"]
    axes_row[0].imshow(image_grid(data["real"][: side * side], side), cmap="gray", vmin=0, vmax=1)
    axes_row[0].set_xticks([])
    axes_row[0].set_yticks([])
    axes_row[0].set_title("real test images\n(for comparison)", fontsize=9, color="tab:green")
    for ax in axes_row[1:]:
        ax.set_axis_off()


def _samples_title(runs: pd.DataFrame, runs_root: Path, calibration: pd.DataFrame | None, cell: str = "") -> str:
    """What the sample panels show, said for points or for images."""
    dataset = runs["dataset"].iloc[0] + (f" · {cell}" if cell else "")
    if not _is_images(runs_root, runs):
        hq = _calibration_values(calibration, "hq_fraction") if calibration is not None else ""
        return (
            f"{dataset}: final generated points over real ones, D's output behind (key below)"
            "\nhq = share of high-quality points (near a mode); converged = every mode and an hq share near real data's"
            + (f" ({hq})" if hq else "")
            + ", held to the end"
        )
    caption = _calibration_caption(calibration, runs["main_metric"].iloc[0]) if calibration is not None else ""
    return f"{dataset}: final generated images, one grid per run (outcome above each; key below)" + (
        f"\n{caption}" if caption else ""
    )


def sample_legend(fig, points: bool) -> None:
    """The key of the sample panels under the figure: the points' colours, D's
    background and the tints of runs that collapsed, did not learn, hopped or diverged."""
    from matplotlib.patches import Patch

    handles, labels = [], []
    if points:
        for colour, label in (("0.25", "real points"), ("tab:orange", "generated points")):
            handles.append(plt.Line2D([], [], ls="", marker="o", ms=5, color=colour))
            labels.append(label)
        handles += [
            Patch(color=plt.get_cmap("RdBu_r")(0.85), alpha=0.55),
            Patch(color=plt.get_cmap("RdBu_r")(0.15), alpha=0.55),
        ]
        labels += ["D says real", "D says generated"]
    for outcome, face in OUTCOME_FACE.items():
        handles.append(Patch(facecolor=face, edgecolor=OUTCOME_COLORS[outcome], lw=2))
        labels.append(outcome + (" (never at the bar)" if outcome == "did not learn" else ""))
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    where = (
        {"loc": "outside lower center"}
        if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
        else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0)}
    )
    fig.legend(handles, labels, ncol=4, fontsize=8, frameon=False, **where)


def plot_cell(
    runs: pd.DataFrame,
    traj: pd.DataFrame,
    runs_root: Path,
    path: Path,
    opts: dict[str, Any],
    calibration: pd.DataFrame | None = None,
) -> None:
    """One cell's seeds side by side: final samples (points over D's contours, or an
    image grid), and the main metric along training with its best point, the
    calibration values and what happened marked."""
    runs = runs.sort_values("seed")
    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(3.0 * n, 6.0), squeeze=False, gridspec_kw={"height_ratios": [1.15, 1]})
    rng = np.random.default_rng(0)
    points = not _is_images(runs_root, runs)
    main = runs["main_metric"].iloc[0]
    lo, hi = traj[main].min(), traj[main].max()
    if calibration is not None:  # room for the calibration lines
        marks = [calibration_value(calibration, k, main) for k in ("real", "noise")]
        lo, hi = np.nanmin([lo, *marks]), np.nanmax([hi, *marks])
    for j, (_, row) in enumerate(runs.iterrows()):
        samples_panel(axes[0][j], _run_samples(runs_root, row), row, opts, rng)
        axes[0][j].set_title(
            f"seed {row['seed']}: {_outcome_note(row, points)}", fontsize=9, color=OUTCOME_COLORS[row["outcome"]]
        )
        ax = axes[1][j]
        t = traj[traj["seed"] == row["seed"]]
        ax.plot(t["step"], t[main], marker="o", ms=3, color=OUTCOME_COLORS[row["outcome"]])
        if pd.notna(row.get(f"{main}_best_step")):
            ax.plot(
                [row[f"{main}_best_step"]],
                [row[f"{main}_best"]],
                marker="*",
                ms=12,
                color="gold",
                mec="k",
                label="best",
            )
        if row["outcome"] == "diverged":
            ax.axvline(row["steps_completed"], color="tab:red", ls="--", label="diverged")
        if pd.notna(lo) and pd.notna(hi) and hi > lo:
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)
        if calibration is not None:
            reference_lines(ax, calibration, main, vertical=False)
        ax.set_xlim(0, traj["step"].max())  # one x-range: every seed's full length
        ax.set_xlabel("step")
        ax.set_ylabel(metric_label(main, points) if j == 0 else "")
        if row["outcome"] == "diverged":
            ax.legend(fontsize=7, loc="best")
    r = runs.iloc[0]
    fig.suptitle(
        _samples_title(runs, runs_root, calibration, f"{r['label']} · {r['loss']}")
        + f"\nbelow: {metric_label(main, points)} over training, star = best checkpoint, lines = calibration values",
        fontsize=10,
    )
    fig.tight_layout()
    sample_legend(fig, points)
    save(fig, path, opts["dpi"])
