"""What a run's set-up adds to the tables: the suite's named deviations from the
paper set-up and the config's overrides (``deviations``), the Gaussian noise size
(``noise_dim``) and G's whole input (``latent_dim``: noise plus codes or labels), so
no comparison hides a set-up that differs from the paper's, or a latent size that
differs between cells (a plain GAN given a 14-dimensional latent collapses on
8gaussians where a 2-dimensional one covers every mode)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gans.config.setups import deviation_label

SETUP_COLUMNS = ["deviations", "noise_dim", "latent_dim"]


def setup_columns(cfg: dict[str, Any]) -> dict[str, Any]:
    """A resolved run config's set-up columns."""
    setup = cfg.get("setup")
    return {
        "deviations": deviation_label(setup),
        "noise_dim": cfg["noise_dim"],
        "latent_dim": (setup or {}).get("latent_dim", cfg["noise_dim"]),
    }


def with_setup(summary: pd.DataFrame, runs: pd.DataFrame, cell: list[str]) -> pd.DataFrame:
    """``summary`` with each cell's set-up columns (a cell's seeds share them)."""
    present = [c for c in SETUP_COLUMNS if c in runs]
    if not present or summary.empty:
        return summary
    per_cell = runs.groupby(cell, sort=False)[present].first().reset_index()
    return summary.merge(per_cell, on=cell, how="left")


def latent_note(runs: pd.DataFrame) -> str:
    """A warning for a table whose cells of one dataset differ in G's input size."""
    if "latent_dim" not in runs:
        return ""
    sizes = runs.groupby("dataset")["latent_dim"].unique()
    mixed = {d: sorted(int(x) for x in v) for d, v in sizes.items() if len(v) > 1}
    if not mixed:
        return ""
    listed = "; ".join(f"{d}: {', '.join(map(str, v))}" for d, v in mixed.items())
    return (
        f"G's input size (latent_dim) differs between cells ({listed}): compare such cells "
        "knowing that the latent size alone changes mode coverage."
    )
