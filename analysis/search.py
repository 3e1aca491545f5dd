"""The search's selection: which setting of a cell is its best (the Snakemake
checkpoint of the search; gans/config/search.py draws the settings).

    python -m analysis.search --options JSON --out selection.json RUN_DIR [RUN_DIR ...]
    python -m analysis.search --after selection.json --options JSON --out final.json RUN_DIR ...

Each run of a setting is scored by its metrics at its final evaluation point
(``at: final``) or at the point where ``select_by`` is best (``at: best``), the
other metrics (``tie_break``) read at that same point; a setting's score is the mean
of its seeds' (``seeds_per_setting``), so one lucky seed does not pick it. A setting
with a run that diverged ranks below every setting without one; among the rest the
higher score wins (lower, for a lower-is-better metric), a run without a value
counts as the worst, ties go to the next metric, and the last tie to the lower
setting index, so the set-up (setting 0) wins its ties.

With ``finalists: K`` the selection also names the K best settings in that order; once
they have trained their more seeds, the final selection (``--after``) ranks them the
same way by their mean over all their seeds, and its best is the cell's best.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.config import ranking_metrics
from analysis.stability import CELL
from gans import config as gcfg
from gans import layout, safe_io
from gans.config import search
from gans.runtime import read_json, write_json


def options(config: dict, dataset: str, label: str, loss: str) -> dict[str, Any]:
    """What the selection of one cell needs (the checkpoint's params)."""
    s = config["search"]
    run = gcfg.resolve_run(config, dataset, label, loss, s["train_seed"])
    # without finalists the options (the checkpoint's params) stay what they were
    finalists = {"finalists": s["finalists"], "finalist_seeds": search.finalist_seeds(config)} if s["finalists"] else {}
    return {
        "dataset": dataset,
        "variant": label,
        "loss": loss,
        "budget": s["budget"],
        "at": s["at"],
        "metrics": ranking_metrics(config, dataset),
        "seeds": search.best_seeds(config),
        "setting_seeds": search.setting_seeds(config),
        **finalists,
        "space": search.cell_space(config, dataset, label, loss, run),
    }


# -- scoring and selection ------------------------------------------------------------
def _oriented(value: Any, higher: bool) -> float:
    """Larger is better; a missing or non-finite value is the worst."""
    x = float(value) if value is not None else math.nan
    return -math.inf if not math.isfinite(x) else (x if higher else -x)


def score(run_dir: Path, metrics: list[tuple[str, bool]], at: str) -> dict[str, Any]:
    """One search run's setting, status and scores (at its final or best point)."""
    cfg = yaml.safe_load((run_dir / layout.RESOLVED_CONFIG).read_text())
    result = read_json(run_dir / layout.METRICS_FINAL)
    traj = pd.read_csv(run_dir / layout.METRICS_TABLE).sort_values("step")
    diverged = result["status"] == "diverged"
    if at == "final":
        row = {} if diverged else result["final"]
        step = None if diverged else result["final_step"]
    else:
        rows = traj.to_dict("records")
        best = max(rows, key=lambda r: tuple(_oriented(r.get(m), hb) for m, hb in metrics))
        row, step = best, int(best["step"])
    first = metrics[0][0]
    return {
        "index": cfg["search"]["index"],
        "label": cfg["variant"]["label"],
        "seed": cfg["seed"],
        "values": cfg["search"]["values"],
        "status": result["status"],
        "diverged": diverged or (at == "final" and not math.isfinite(_oriented(row.get(first), True))),
        "step": step,
        "scores": {m: (None if row.get(m) is None or pd.isna(row.get(m)) else float(row[m])) for m, _ in metrics},
    }


def _mean(values: list[float | None]) -> float | None:
    """The mean of the seeds' values; None (the worst) if any is missing or not finite."""
    if any(v is None or not math.isfinite(v) for v in values):
        return None
    return float(sum(values) / len(values))


def setting(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A setting scored over its seeds' scored runs (``score``): each metric's mean,
    diverged if any seed diverged; with one seed, that run's entry."""
    runs = sorted(runs, key=lambda r: r["seed"])
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    return {
        **{k: first[k] for k in ("index", "label", "values")},
        "seeds": [r["seed"] for r in runs],
        "status": ", ".join(dict.fromkeys(r["status"] for r in runs)),
        "diverged": any(r["diverged"] for r in runs),
        "step": None,
        "scores": {m: _mean([r["scores"][m] for r in runs]) for m in first["scores"]},
        "runs": runs,
    }


def rank_key(entry: dict[str, Any], metrics: list[tuple[str, bool]]) -> tuple:
    return (
        not entry["diverged"],
        *(_oriented(entry["scores"].get(m), hb) for m, hb in metrics),
        -entry["index"],
    )


def select(entries: list[dict[str, Any]], metrics: list[tuple[str, bool]]) -> dict[str, Any]:
    """The best setting among scored ones (see the module's docstring)."""
    return max(entries, key=lambda e: rank_key(e, metrics))


def scored_settings(
    run_dirs: list[Path], metrics: list[tuple[str, bool]], at: str, indices: list[int], seeds: list[int], what: str
) -> list[dict[str, Any]]:
    """The settings ``indices`` scored over their runs, which must be each of them at
    each of ``seeds``."""
    by_index: dict[int, list[dict[str, Any]]] = {}
    for r in run_dirs:
        run = score(Path(r), metrics, at)
        by_index.setdefault(run["index"], []).append(run)
    if sorted(by_index) != sorted(indices):
        raise ValueError(f"expected {what}, got the settings {sorted(by_index)}")
    for index, runs in by_index.items():
        if sorted(r["seed"] for r in runs) != seeds:
            raise ValueError(f"expected setting {index} at the seeds {seeds}, got {sorted(r['seed'] for r in runs)}")
    return [setting(by_index[i]) for i in indices]


def _named(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("index", "label", "values")}


def selection(run_dirs: list[Path], opts: dict[str, Any]) -> dict[str, Any]:
    metrics = [tuple(m) for m in opts["metrics"]]
    seeds, budget = opts.get("setting_seeds", [0]), opts["budget"]
    what = f"the settings 0..{budget - 1} of one cell"
    entries = scored_settings(run_dirs, metrics, opts["at"], list(range(budget)), seeds, what)
    ranked = sorted(entries, key=lambda e: rank_key(e, metrics), reverse=True)
    chosen = {
        **{k: opts[k] for k in ("dataset", "variant", "loss", "budget", "at", "seeds", "space")},
        "setting_seeds": seeds,
        "metrics": metrics,
        "best": _named(ranked[0]),
        "set_up": entries[0]["values"],
        "settings": entries,
    }
    if opts.get("finalists"):
        chosen["finalists"] = [_named(e) for e in ranked[: opts["finalists"]]]
    return chosen


def _selection(path: Path) -> dict[str, Any]:
    """A selection file's content; DamagedFile when it cannot be read whole."""
    content = safe_io.read_record(path, {"best": dict})
    if "label" not in content["best"]:
        raise safe_io.DamagedFile(path, "lacks its best setting's label")
    return content


def set_aside_damaged(paths: list[str | Path]) -> list[str]:
    """Set aside each selection file that cannot be read (cut short, edited), before
    Snakemake builds its graph, so that the selection is made again; a line per file."""
    return safe_io.set_aside_unreadable(paths, _selection, "and the selection is made again")


def read_selection(path: str | Path, opts: dict[str, Any]) -> dict[str, Any] | None:
    """A cell's selection file, when it was made with ``opts``; None when there is none
    or another config's is left there."""
    path = Path(path)
    if not path.is_file():
        return None
    content = _selection(path)
    return content if made_with(content, opts) else None


def made_with(chosen: dict[str, Any], opts: dict[str, Any]) -> bool:
    """Whether a selection file was made with these options (its checkpoint's params),
    so that what it names is of this config: one left by another config is not read."""
    wanted, chosen = json.loads(json.dumps(opts)), json.loads(json.dumps(chosen))  # tuples as the file's lists
    recorded = {
        **chosen,
        "finalists": len(chosen.get("finalists", [])),
        "setting_seeds": chosen.get("setting_seeds", [0]),
    }
    wanted = {**wanted, "finalists": wanted.get("finalists", 0)}
    if "finalist_seeds" not in chosen:  # a first selection: its finalists train after it
        wanted.pop("finalist_seeds", None)
    return all(recorded.get(key) == value for key, value in wanted.items())


def final_selection(first: dict[str, Any], run_dirs: list[Path], opts: dict[str, Any]) -> dict[str, Any]:
    """The best of the first selection's finalists, each scored over all its seeds
    (the settings' and its own); the first selection's other entries are kept."""
    metrics = [tuple(m) for m in first["metrics"]]
    seeds = sorted(first["setting_seeds"] + opts["finalist_seeds"])
    indices = [f["index"] for f in first["finalists"]]
    entries = scored_settings(run_dirs, metrics, first["at"], indices, seeds, f"the finalists {indices}")
    return {
        **first,
        "first_best": first["best"],
        "best": _named(select(entries, metrics)),
        "finalist_seeds": opts["finalist_seeds"],
        "finalist_scores": entries,
    }


# -- hooks of the aggregation: search runs in their cell's columns, how cells were tuned ---
def search_columns(label: str) -> dict[str, Any]:
    """A search run's table columns, from its label: its cell's setting (the part after
    the variant in the cell's label) and the search setting apart (search-<i>);
    nothing for other runs."""
    parsed = search.parse_label(label)
    if not parsed:
        return {}
    return {"setting": gcfg.split_label(parsed[0])[1], "search_setting": f"search-{parsed[1]}"}


def with_tuning(table: pd.DataFrame, entries: list[dict[str, str]], runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """``table`` with a ``tuning`` column after ``loss``: how each cell's setting was
    chosen (gans.config.search.tuning), with the chosen search setting in brackets
    (from ``table``'s or ``runs``' search_setting column)."""
    if not entries or table.empty or "loss" not in table:
        return table
    text = {(e["dataset"], *gcfg.split_label(e["variant"]), e["loss"]): e["tuning"] for e in entries}
    source = table if "search_setting" in table else runs
    chosen = {}
    if source is not None and "search_setting" in source:
        chosen = {tuple(k): v for *k, v in source[[*CELL, "search_setting"]].dropna().itertuples(index=False)}
    keys = list(zip(*(table[c] for c in CELL), strict=True))
    if "search_setting" in table:
        chosen_of = table["search_setting"].tolist()
    else:
        chosen_of = [chosen.get(k) for k in keys]
    tuning = [text.get(k, "") + (f" ({c})" if isinstance(c, str) else "") for k, c in zip(keys, chosen_of, strict=True)]
    out = table.drop(columns=["tuning"], errors="ignore")
    out.insert(list(out.columns).index("loss") + 1, "tuning", tuning)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="the cell's search runs (settings 0 .. budget-1, each seed)")
    parser.add_argument("--options", required=True, help="JSON: the cell's selection options")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--after", type=Path, help="the first selection: pick the best of its finalists")
    args = parser.parse_args(argv)
    opts = json.loads(args.options)
    chosen = final_selection(read_json(args.after), args.runs, opts) if args.after else selection(args.runs, opts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(chosen, args.out)
    best = chosen["best"]
    print(
        f"{chosen['dataset']}/{chosen['variant']}/{chosen['loss']}: best {best['label']} {best['values']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
