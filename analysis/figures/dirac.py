"""The Dirac-GAN's phase portrait: each run's (theta, psi) trajectory at its evaluation
points, one panel per loss (rows) x regularizer (columns), coloured by the suite's
outcome label, with the equilibrium (0, 0), the quality bar's circle around it, and
what the theory expects in the title."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.figures.common import OUTCOME_COLORS, plt
from gans import layout

LIMIT = 2.3  # the axes' half-width: the start (1, 1), its circles and WGAN-GP's stops at theta = +-2 fit


def phase_portrait(rows: pd.DataFrame, out: Path, bar: float | None = None) -> None:
    """``rows``: analysis.dirac's table (loss, regularizer, expected, measured, agree, run)."""
    losses = list(dict.fromkeys(rows["loss"]))
    regs = sorted(set(rows["regularizer"]), key=lambda r: (r != "none", r))
    fig, axes = plt.subplots(
        len(losses), len(regs), figsize=(2.3 * len(regs), 2.3 * len(losses)), squeeze=False, sharex=True, sharey=True
    )
    for ax in axes.flat:
        ax.set_visible(False)
    for row in rows.itertuples(index=False):
        ax = axes[losses.index(row.loss), regs.index(row.regularizer)]
        ax.set_visible(True)
        _panel(ax, row, bar)
    for i, loss in enumerate(losses):
        axes[i, 0].set_ylabel(f"{loss}\npsi (D)")
    for j in range(len(regs)):
        axes[-1, j].set_xlabel("theta (G)")
    fig.suptitle(
        "Dirac-GAN phase portraits: (theta, psi) from the start (1, 1) (circle) to the end (square); "
        "star: equilibrium. Title: theory / suite's label",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _panel(ax, row, bar: float | None) -> None:
    traj = pd.read_csv(Path(row.run) / layout.METRICS_TABLE)
    theta, psi = traj["theta"].to_numpy(float), traj["psi"].to_numpy(float)
    color = OUTCOME_COLORS.get(row.measured, "black")
    ax.plot(np.clip(theta, -LIMIT, LIMIT), np.clip(psi, -LIMIT, LIMIT), color=color, lw=0.8)
    ax.plot(theta[0], psi[0], "o", color="black", ms=4)
    ax.plot(np.clip(theta[-1], -LIMIT, LIMIT), np.clip(psi[-1], -LIMIT, LIMIT), "s", color=color, ms=5)
    ax.plot(0, 0, "*", color="tab:green", ms=9)
    if bar:
        ax.add_patch(plt.Circle((0, 0), bar, fill=False, color="tab:green", lw=0.6, ls="--"))
    ax.axhline(0, color="0.85", lw=0.5, zorder=0)
    ax.axvline(0, color="0.85", lw=0.5, zorder=0)
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    ax.set_aspect("equal")
    mark = {"yes": "agree", "no": "DISAGREE", "-": "no prediction"}[row.agree]
    expect = {"converges": "converges", "does not converge": "no conv."}.get(row.expected, row.expected)
    ax.set_title(f"{row.regularizer}\n{expect} / {row.measured} ({mark})", fontsize=7.5, color=color)
