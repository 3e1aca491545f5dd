"""Did a comparison of two result folders (analysis.compare) have the power to disagree?

Overlapping intervals are agreement only when the intervals are narrow enough to have
missed each other. Per cell: the widest interval of either folder (success rate, main
metric), and a note when the cell's agreement says little:

  both at 0       no seed converged in either folder (0/6 vs 0/6 agree whatever the truth)
  both at 100%    every seed converged in both
  wide            a success-rate interval wider than the bound (default 0.5: a 95% Wilson
                  interval that wide cannot separate a success rate of 0.2 from one of 0.8)
  no interval     the main metric has no interval in either folder (one seed)
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from analysis.contrasts import join_cell

MAX_WIDTH = 0.5  # the documented default of --max-width


def _width(lo: float, hi: float) -> float:
    return hi - lo if not (math.isnan(lo) or math.isnan(hi)) else math.nan


def cell_power(x: pd.Series, y: pd.Series, success: tuple, main: tuple, bound: float) -> dict[str, Any]:
    """One cell's widest intervals and its note. ``success``, ``main``: the (value, lo,
    hi) intervals of folder A and of B."""
    widths = {name: [_width(*i[1:]) for i in pair] for name, pair in (("success", success), ("main", main))}
    notes = []
    converged = (int(x["converged"]), int(y["converged"]))
    seeds = (int(x["seeds"]), int(y["seeds"]))
    if converged == (0, 0):
        notes.append("both at 0")
    elif converged == seeds:
        notes.append("both at 100%")
    widest = max((w for w in widths["success"] if not math.isnan(w)), default=math.nan)
    if widest > bound:
        notes.append(f"wide (> {bound:g})")
    widest_main = max((w for w in widths["main"] if not math.isnan(w)), default=math.nan)
    if math.isnan(widest_main):
        notes.append("no interval")
    return {"widest success": round(widest, 3), "widest main": round(widest_main, 3), "power note": ", ".join(notes)}


def power(cells: pd.DataFrame, bound: float) -> tuple[str, str]:
    """(adequate | low, the sentence that says where the agreement says little)."""
    flagged = cells[cells["power note"] != ""]
    widest = cells["widest success"].max()
    if flagged.empty:
        return "adequate", (
            f"Every cell's success-rate intervals are at most {bound:g} wide (widest: {widest:.2f}), no cell is "
            "at 0 or 100% in both folders, and every main metric has an interval: an agreement here could have "
            "been a disagreement."
        )
    groups: dict[str, list[str]] = {}
    for _, r in flagged.iterrows():
        for note in r["power note"].split(", "):
            groups.setdefault(note, []).append(f"{r['dataset']} {join_cell(r)}")
    where = "; ".join(f"{note} in {', '.join(names)}" for note, names in groups.items())
    return "low", (
        f"In {len(flagged)} of {len(cells)} cells the agreement says little: {where} (widest success-rate "
        f"interval: {widest:.2f}; bound {bound:g}). Agreement there is a lack of evidence, not evidence of "
        "agreement: add seeds, or train until runs converge."
    )
