"""What every figure shares: the metrics drawn, the outcome colours, saving."""

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
OUTCOME_COLORS = {"converged": "tab:blue", "oscillating": "tab:olive", "collapsed": "tab:purple", "diverged": "tab:red"}
OUTCOME_FACE = {"collapsed": "#ece2f0", "diverged": "#fde0dd"}


def cell_label(variant: str, loss: str, n_variants: int) -> str:
    return loss if n_variants == 1 else f"{variant} · {loss}"


def save(fig, path: Path, dpi: int) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def spans_decades(values: pd.Series) -> bool:
    v = values.replace([np.inf, -np.inf], np.nan).dropna()
    if (v <= 0).any():  # a log axis would hide the zeros
        return False
    return len(v) > 1 and v.max() / v.min() > 100
