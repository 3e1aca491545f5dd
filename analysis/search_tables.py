"""Tables of the search (docs/search.md), from each cell's selection, its search runs
and the runs of the best settings' new seeds (the aggregation's runs table):

  search_settings        every setting of every cell: its values, score, outcome, compute
  search_best            per cell: the best setting, what changed from the set-up and how
                         far, the share of settings that trained, the best setting over its
                         new seeds, the best score found at the dataset's equal compute
  search_budget          best score found against settings tried (and updates spent):
                         median and 5-95% band over orders of the draws, the set-up first
  search_expected_best   expected best score after k settings drawn at random from the
                         cell's N (exact, from order statistics), with a bootstrap band
                         (metrics/expected_best.py; Lucic et al. 2018, Fig. 4)
  search_baseline_check  is any loss better than the baseline, on the new seeds of the
                         best settings, scored as the search scored (at: final or best)

    python -m analysis.search_tables --out results/search/tables --compared results/tables/runs.csv \\
        --options JSON --selections SEL.json ... --runs RUN_DIR ...
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis import comparison, expected_best, search, stability
from analysis.aggregate import directions, main_metric
from analysis.config import analysis_options
from analysis.stability import CELL, OUTCOMES
from gans import compute, layout
from gans.config import search as gsearch
from gans.datasets import DATASETS
from gans.runtime import read_json
from gans.space import distance
from metrics import calibration_files as calib

TABLES = ["search_settings", "search_best", "search_budget", "search_expected_best", "search_baseline_check"]
TRAINS = ("converged", "oscillating")  # outcomes of a setting that trains (neither diverged nor collapsed)


def table_files() -> list[str]:
    return [f"{name}.{fmt}" for name in TABLES for fmt in ("csv", "md")]


def short(path: str) -> str:
    """A path as the tables name it (optimizer.betas.0 -> beta1, optimizer.lr_d -> lr_d)."""
    if path == "optimizer.betas.0":
        return "beta1"
    for prefix in ("optimizer.", "variant.params.", "loss.params.", "regularizers."):
        path = path.removeprefix(prefix)
    return path


def values_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{short(p)}={v:.3g}" if isinstance(v, float) else f"{short(p)}={v}" for p, v in values.items())


# -- the search runs ------------------------------------------------------------------
def run_outcome(run_dir: Path, opts: dict[str, Any], calibration: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A search run's outcome (as the aggregation classifies runs, against its dataset's
    calibration) and compute."""
    cfg = yaml.safe_load((run_dir / layout.RESOLVED_CONFIG).read_text())
    result = read_json(run_dir / layout.METRICS_FINAL)
    traj = pd.read_csv(run_dir / layout.METRICS_TABLE)
    log = pd.read_csv(run_dir / layout.TRAIN_LOG)
    dataset = cfg["dataset"]["name"]
    name, higher = main_metric(dataset, opts)
    measures = stability.run_measures(
        traj,
        log,
        result["status"],
        directions(traj.columns, {dataset: (name, higher)}),
        name,
        opts,
        calibration.get(dataset),
        DATASETS.get(dataset).modality,
    )
    return {
        "dataset": dataset,
        "label": cfg["variant"]["label"],
        "loss": cfg["loss"]["name"],
        "seed": cfg["seed"],
        "outcome": measures["outcome"],
        **compute.columns(result["train"], cfg),
    }


def setting_outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per setting, over its seeds' runs: the compute summed, and the outcome most of
    them had (a tie goes to the worse, later in OUTCOMES), with every seed's outcome
    counted in ``seed_outcomes``."""
    rows = []
    for key, g in outcomes.groupby(["dataset", "label", "loss"], sort=False):
        counts = g["outcome"].value_counts()
        worst_first = sorted(counts.index, key=lambda o: (-counts[o], -OUTCOMES.index(o)))
        rows.append(
            {
                **dict(zip(["dataset", "label", "loss"], key, strict=True)),
                "outcome": worst_first[0],
                "seed_outcomes": ", ".join(f"{o} {counts[o]}" for o in OUTCOMES if o in counts),
                **g[list(compute.COLUMNS)].sum().to_dict(),
            }
        )
    return pd.DataFrame(rows)


def settings_table(selections: list[dict], outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per setting of every cell."""
    rows = []
    for sel in selections:
        first, higher = sel["metrics"][0]
        finals = {e["index"]: e["scores"][first] for e in sel.get("finalist_scores", [])}
        for e in sel["settings"]:
            cell = search.search_columns(e["label"])
            rows.append(
                {
                    "dataset": sel["dataset"],
                    "variant": e["label"].partition("+")[0],
                    "setting": cell["setting"],
                    "loss": sel["loss"],
                    "index": e["index"],
                    "search_setting": cell["search_setting"],
                    "values": values_text(e["values"]),
                    "metric": first,
                    "higher_is_better": higher,
                    "at": sel["at"],
                    "score": e["scores"][first],
                    "finalist_score": finals.get(e["index"], math.nan),
                    "diverged": e["diverged"],
                    "selected": e["index"] == sel["best"]["index"],
                    "cell": sel["variant"],
                    "label": e["label"],
                    **{f"v.{p}": v for p, v in e["values"].items()},
                }
            )
    table = pd.DataFrame(rows).merge(setting_outcomes(outcomes), on=["dataset", "label", "loss"], how="left")
    return table.drop(columns=["label"])


def tuning_text(sel: dict[str, Any]) -> str:
    """How a selection chose its best, in words (gans.config.search.budget_text)."""
    finalists = len(sel.get("finalists", []))
    more = len(sel.get("finalist_seeds", [])) if finalists else 0
    return gsearch.budget_text(sel["budget"], len(sel.get("setting_seeds", [0])), finalists, more)


# -- best score found against the budget -------------------------------------------------
def _oriented(table: pd.DataFrame) -> np.ndarray:
    higher = bool(table["higher_is_better"].iloc[0])
    score = table["score"].astype(float).where(~table["diverged"].astype(bool))
    return stability.oriented(score, higher).fillna(-np.inf).to_numpy()


def _back(x: float, higher: bool) -> float:
    return math.nan if not np.isfinite(x) else float(x if higher else -x)


def orders(n: int, draws: int, seed: int) -> np.ndarray:
    """``draws`` orders of n settings, the set-up (0) first and the rest shuffled."""
    rng = np.random.default_rng(seed)
    return np.array([np.r_[0, 1 + rng.permutation(n - 1)] for _ in range(draws)], dtype=int)


def budget_table(settings: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """Per cell and number of settings tried: the best score found (median and 5-95%
    band over orders of the draws) and the updates and wall time spent (medians)."""
    rows = []
    for cell, g in settings.sort_values("index").groupby(CELL, sort=False):
        higher = bool(g["higher_is_better"].iloc[0])
        order = orders(len(g), draws, seed)
        best = np.maximum.accumulate(_oriented(g)[order], axis=1)
        updates = np.cumsum((g["d_updates"] + g["g_updates"]).to_numpy(float)[order], axis=1)
        wall = np.cumsum(g["wall_time_share_s"].to_numpy(float)[order], axis=1)
        for k in range(len(g)):
            lo, mid, hi = (np.quantile(best[:, k], q, method="inverted_cdf") for q in (0.05, 0.5, 0.95))
            band = sorted(_back(x, higher) for x in (lo, hi))
            rows.append(
                {
                    **dict(zip(CELL, cell, strict=True)),
                    "settings": k + 1,
                    "metric": g["metric"].iloc[0],
                    "best_median": _back(mid, higher),
                    "best_band_low": band[0],
                    "best_band_high": band[1],
                    "updates_median": float(np.median(updates[:, k])),
                    "wall_time_s_median": float(np.median(wall[:, k])),
                }
            )
    return pd.DataFrame(rows)


def equal_compute(settings: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """Per cell, the best score found within the updates the dataset's cheapest search
    spent in all (median over orders; at least the set-up counts)."""
    totals = settings.assign(u=settings["d_updates"] + settings["g_updates"]).groupby(CELL)["u"].sum()
    rows = []
    for cell, g in settings.sort_values("index").groupby(CELL, sort=False):
        budget = float(totals[totals.index.get_level_values("dataset") == cell[0]].min())
        order = orders(len(g), draws, seed)
        best = np.maximum.accumulate(_oriented(g)[order], axis=1)
        spent = np.cumsum((g["d_updates"] + g["g_updates"]).to_numpy(float)[order], axis=1)
        last = np.maximum((spent <= budget).sum(axis=1) - 1, 0)
        within = best[np.arange(len(order)), last]
        higher = bool(g["higher_is_better"].iloc[0])
        rows.append(
            {
                **dict(zip(CELL, cell, strict=True)),
                "equal_updates": budget,
                "settings_within": float(np.median(last + 1)),
                "best_within": _back(float(np.quantile(within, 0.5, method="inverted_cdf")), higher),
            }
        )
    return pd.DataFrame(rows)


# -- per cell: the best setting, and its new seeds --------------------------------------
def changes(sel: dict[str, Any]) -> tuple[str, float]:
    """What the best setting changed from the set-up, in words, and its distance (root
    mean square over the space's paths of the change in units of the range's width)."""
    set_up, best = sel["set_up"], sel["best"]["values"]
    words = []
    for path in sel["space"]:
        a, b = set_up[path], best[path]
        if a == b:
            continue
        ratio = f" (x{b / a:.3g})" if isinstance(a, float) and isinstance(b, float) and a > 0 and b > 0 else ""
        words.append(f"{short(path)} {a:.3g}->{b:.3g}{ratio}" if isinstance(b, float) else f"{short(path)} {a}->{b}")
    d = list(distance(sel["space"], set_up, best).values())
    return ("; ".join(words) or "none: the set-up is the best"), float(np.sqrt(np.mean(np.square(d))))


def at_metric(compared: pd.DataFrame, metric: str, at: str) -> pd.Series:
    return compared[f"{metric}_best" if at == "best" else metric]


def best_table(selections: list[dict], settings: pd.DataFrame, compared: pd.DataFrame, equal: pd.DataFrame):
    rows = []
    for sel in selections:
        first, higher = sel["metrics"][0]
        mine = settings[
            (settings.dataset == sel["dataset"]) & (settings.cell == sel["variant"]) & (settings.loss == sel["loss"])
        ]
        best = mine[mine["selected"]].iloc[0]
        cell = {k: best[k] for k in CELL}
        seeds = compared[
            (compared[CELL] == pd.Series(cell)).all(axis=1) & (compared["search_setting"] == best["search_setting"])
        ]
        values = at_metric(seeds, first, sel["at"]).astype(float)
        changed, dist = changes(sel)
        eq = equal[(equal[CELL] == pd.Series(cell)).all(axis=1)]
        counts = mine["outcome"].value_counts()
        rows.append(
            {
                **cell,
                "tuning": tuning_text(sel),
                "metric": f"{first} ({sel['at']})",
                "trains": f"{int(mine.outcome.isin(TRAINS).sum())}/{len(mine)}",
                **{f"settings_{o}": int(counts.get(o, 0)) for o in OUTCOMES},
                "best": best["search_setting"],
                "changed": changed,
                "distance": dist,
                "set_up_score": mine[mine["index"] == 0]["score"].iloc[0],
                "best_score": best["score"],
                "best_finalist_score": best["finalist_score"],
                "seeds_per_setting": len(sel.get("setting_seeds", [0])),
                "seeds": len(seeds),
                "median": values.median(),
                "q25": values.quantile(0.25),
                "q75": values.quantile(0.75),
                "success_rate": float((seeds["outcome"] == "converged").mean()) if len(seeds) else math.nan,
                "search_updates": float((mine["d_updates"] + mine["g_updates"]).sum()),
                "search_wall_time_s": float(mine["wall_time_share_s"].sum()),
                "best_at_equal_updates": eq["best_within"].iloc[0] if len(eq) else math.nan,
            }
        )
    return pd.DataFrame(rows)


def baseline_table(compared: pd.DataFrame, selections: list[dict], opts: dict[str, Any]):
    """The baseline check on the best settings' new seeds, scored at ``at``."""
    main = {s["dataset"]: s["metrics"][0][0] for s in selections}
    dirs = {s["metrics"][0][0]: s["metrics"][0][1] for s in selections}
    at = selections[0]["at"]
    runs = compared.copy()
    for m in set(main.values()):
        runs[m] = at_metric(compared, m, at)
    return comparison.baseline_check(
        runs, main, dirs, opts["baseline"], opts["alpha"], opts["correction"], opts["confidence"]
    )


def tables(
    selections, run_dirs, compared: pd.DataFrame, opts: dict[str, Any], calibration_files: list[Path] = ()
) -> dict[str, pd.DataFrame]:
    analysis = analysis_options(opts.get("analysis"))
    calibration = calib.load(calibration_files)
    outcomes = pd.DataFrame([run_outcome(Path(r), analysis, calibration) for r in run_dirs])
    settings = settings_table(selections, outcomes)
    draws, seed = opts.get("draws", 1000), opts.get("seed", 0)
    equal = equal_compute(settings, draws, seed)
    check, verdict = baseline_table(compared, selections, analysis)
    return {
        "search_settings": settings,
        "search_best": best_table(selections, settings, compared, equal),
        "search_budget": budget_table(settings, draws, seed),
        "search_expected_best": expected_best.table(settings, draws, analysis["confidence"], seed),
        "search_baseline_check": search.with_tuning(check, opts.get("tuning", []), compared),
        "verdict": verdict,
        "level": analysis["confidence"],
    }


NOTES = {
    "search_expected_best": "expected_best: the expected best score after k settings drawn at random without "
    "replacement from the cell's N (exact, from order statistics); band: {level:.0%} percentile bootstrap band "
    "(the settings resampled). A diverged setting counts as the worst score of its dataset's settings "
    "(p_all_diverged: the chance that all k drawn diverged).\n\n",
}


def write(out: Path, made: dict[str, Any]) -> None:
    """Each table as CSV (every column) and Markdown (the readable ones)."""
    out.mkdir(parents=True, exist_ok=True)
    hidden = ("v.", "higher_is_better", "cell")  # in the CSV only: values by path, the cell's label
    for name in TABLES:
        table = made[name]
        table.to_csv(out / f"{name}.csv", index=False)
        note = NOTES.get(name, "").format(level=made.get("level", 0.95))
        note = (made["verdict"] + "\n\n" if name == "search_baseline_check" else "") + note
        shown = table[[c for c in table if not c.startswith(hidden)]]
        (out / f"{name}.md").write_text(note + shown.to_markdown(index=False, floatfmt=".4g") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.search_tables", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--compared", required=True, type=Path, help="the aggregation's runs.csv (the best settings' seeds)"
    )
    parser.add_argument("--options", default="{}", help="JSON: analysis, tuning, draws, seed")
    parser.add_argument("--selections", nargs="+", required=True, type=Path)
    parser.add_argument("--runs", nargs="+", required=True, type=Path, help="every search run's folder")
    parser.add_argument(
        "--calibration", nargs="+", type=Path, default=[], help="every dataset's calibration file (metrics.calibration)"
    )
    args = parser.parse_args(argv)
    selections = [read_json(p) for p in args.selections]
    compared = pd.read_csv(args.compared, keep_default_na=False, na_values=[""])
    made = tables(selections, args.runs, compared, json.loads(args.options), args.calibration)
    write(args.out, made)
    print(made["search_best"].to_string(index=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
