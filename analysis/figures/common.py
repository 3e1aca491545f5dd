"""What every figure shares: the metrics drawn, the outcome colours, the calibration
values as reference lines, saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from metrics import metric_columns  # noqa: E402

# metrics shown in the distribution and trajectory panels, when present: every
# column a registered metric declares (its spread, such as kid_std, left out)
PANEL_METRICS = metric_columns()
LOG_COLUMNS = ["d_loss", "g_loss", "d_grad_norm", "g_grad_norm"]
OUTCOME_COLORS = {
    "converged": "tab:blue",
    "undertrained": "tab:cyan",
    "oscillating": "tab:olive",
    "collapsed": "tab:purple",
    "mode hopping": "tab:pink",
    "did not learn": "tab:gray",
    "diverged": "tab:red",
}
OUTCOME_FACE = {"collapsed": "#ece2f0", "diverged": "#fde0dd", "did not learn": "#e8e8e8", "mode hopping": "#fbe3f0"}
# the calibration values drawn as reference lines (metrics.calibration's kinds)
CALIBRATION_STYLE = {
    "real": {"color": "tab:green", "ls": "--", "label": "held-out real"},
    "noise": {"color": "tab:red", "ls": ":", "label": "uniform noise"},
    "untrained": {"color": "0.35", "ls": "-.", "label": "untrained G"},
}


def load_calibration(tables: Path, dataset: str) -> pd.DataFrame:
    """The dataset's calibration values (calibration.csv: kind, metric, mean, ...)."""
    path = tables / "calibration.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["dataset", "kind", "metric", "mean"])
    table = pd.read_csv(path)
    return table[table["dataset"] == dataset]


def calibration_value(calibration: pd.DataFrame, kind: str, metric: str) -> float:
    hit = calibration[(calibration["kind"] == kind) & (calibration["metric"] == metric)]["mean"]
    return float(hit.iloc[0]) if len(hit) else float("nan")


def reference_lines(ax, calibration: pd.DataFrame, metric: str, vertical: bool, log: bool = False) -> None:
    """The calibration values of ``metric`` as lines across the panel (labelled, for a legend)."""
    for kind, style in CALIBRATION_STYLE.items():
        v = calibration_value(calibration, kind, metric)
        if not np.isfinite(v) or (log and v <= 0):
            continue
        line = ax.axvline if vertical else ax.axhline
        line(v, lw=1.2, zorder=0.5, color=style["color"], ls=style["ls"])  # unlabelled: legends name them once


# what a reader sees instead of a column's id; "fid" on 2-D points is not Inception's FID
METRIC_LABELS = {
    "fid": "FID (Fréchet Inception distance)",
    "kid": "KID (kernel Inception distance)",
    "isc": "Inception score",
    "precision": "precision",
    "recall": "recall",
    "f_score": "F-score of precision and recall",
    "density": "density",
    "coverage": "coverage",
    "modes_covered": "modes covered",
    "hq_fraction": "share of high-quality samples",
    "reverse_kl": "KL(modes ‖ uniform)",
    "class_accuracy": "class accuracy",
    "class_accuracy_min": "worst class's accuracy",
    "modes_per_class": "modes per class",
    "d_loss": "D loss",
    "g_loss": "G loss",
    "d_grad_norm": "D gradient norm",
    "g_grad_norm": "G gradient norm",
}
POINT_LABELS = {
    "fid": "Fréchet distance of the points",
    "kid": "kernel distance of the points (KID)",
}


def is_points(dataset: str) -> bool:
    from gans.datasets import DATASETS

    return DATASETS.get(dataset).modality == "points"


def metric_label(column: str, points: bool = False) -> str:
    """A column's name for a reader: ``f_score`` -> 'F-score of precision and recall';
    ``fid`` on 2-D points -> 'Fréchet distance of the points' (no Inception features)."""
    return (POINT_LABELS if points else {}).get(column) or METRIC_LABELS.get(column, column.replace("_", " "))


def cell_label(variant: str, loss: str, n_variants: int) -> str:
    return loss if n_variants == 1 else f"{variant} · {loss}"


def save(fig, path: Path, dpi: int) -> None:
    """The PNG at ``path`` (what the rules and the report list) and a PDF beside it, for print."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    fig.savefig(Path(path).with_suffix(".pdf"), bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)


def spans_decades(values: pd.Series) -> bool:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    if (v <= 0).any():  # a log axis would hide the zeros
        return False
    return len(v) > 1 and v.max() / v.min() > 100
