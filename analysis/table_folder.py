"""A tables folder of analysis.aggregate read whole, as analysis.compare needs it:
each table with the columns compare reads, filled on every row, each row named once,
as many runs as provenance.json counts; a file that is not so is named as damaged
(cut short, edited, or not the aggregation's), before anything is compared."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.records import PROVENANCE
from analysis.stability import CELL
from gans.runtime import JSON_KINDS

RUN = [*CELL, "seed"]


class Damaged(ValueError):
    """A file of a tables folder that is not what analysis.aggregate writes."""


# per table: the columns compare reads that every row fills, and the keys that name a row once
TABLES = {
    "runs.csv": ([*RUN, "outcome"], RUN),
    "summary.csv": ([*CELL, "status", "seeds"], CELL),
    "rankings.csv": ([*CELL, "metric", "order"], CELL),
}
# columns compare reads that may be empty
OPTIONAL_VALUES = {"rankings.csv": ["tied_with"]}
NUMERIC = {"summary.csv": ["seeds"], "rankings.csv": ["order"]}


def load(folder: Path) -> dict[str, Any]:
    """A tables folder's runs, applicable summary rows, rankings and provenance; raises
    Damaged, naming the file and what is wrong with it, for one that cannot be compared."""
    missing = [n for n in (*TABLES, PROVENANCE) if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a tables folder of analysis.aggregate: it lacks {', '.join(missing)}")
    provenance = read_provenance(folder / PROVENANCE)
    runs, summary, rankings = (read_table(folder / name) for name in TABLES)
    check_complete(folder, runs, summary, rankings, provenance)
    return {
        "runs": runs,
        "summary": summary[summary["status"] != "not applicable"].reset_index(drop=True),
        "rankings": rankings,
        "provenance": provenance,
    }


def damaged(path: Path, what: str) -> Damaged:
    return Damaged(f"{path} is damaged or not a table of analysis.aggregate ({what})")


def read_provenance(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise damaged(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise damaged(path, f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise damaged(path, f"it holds {JSON_KINDS.get(type(record), 'null')}, not a JSON object")
    wrong = [key for key in ("evaluation", "analysis") if not isinstance(record.get(key), dict)]
    if wrong:
        raise damaged(path, f"no object under {', '.join(wrong)}")
    return record


def read_table(path: Path) -> pd.DataFrame:
    """One of TABLES, checked: UTF-8 CSV, every line complete, the columns compare
    reads present and filled, each row's key given once."""
    filled, key = TABLES[path.name]
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise damaged(path, "not UTF-8 text") from None
    if not text.strip():
        raise damaged(path, "empty")
    # pandas ends every line with a newline: a file without one was cut short
    if not text.endswith("\n"):
        raise damaged(path, "its last line is incomplete: the file was cut short")
    try:
        table = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise damaged(path, f"not a CSV table: {str(exc).strip()}") from None
    lacking = [c for c in [*filled, *OPTIONAL_VALUES.get(path.name, [])] if c not in table]
    if lacking:
        raise damaged(path, f"missing columns {', '.join(lacking)}")
    if table.empty:
        raise damaged(path, "no rows")
    blank = table[filled].isna()
    if blank.any(axis=None):
        row = int(blank.any(axis=1).to_numpy().argmax())
        columns = [c for c in filled if blank.at[row, c]]
        raise damaged(path, f"line {row + 2} has no value in {', '.join(columns)}")
    text_in = [c for c in NUMERIC.get(path.name, []) if not pd.api.types.is_numeric_dtype(table[c])]
    if text_in:
        raise damaged(path, f"column {', '.join(text_in)} holds text where numbers belong")
    twice = table[table.duplicated(key)]
    if len(twice):
        raise damaged(path, f"{'/'.join(map(str, twice.iloc[0][key]))} has more than one row")
    return table


def check_complete(
    folder: Path, runs: pd.DataFrame, summary: pd.DataFrame, rankings: pd.DataFrame, provenance: dict[str, Any]
) -> None:
    """The tables hold every run provenance.json counts, a summary row for every cell
    of the runs and a ranking for every dataset: a file cut at a line end is caught too."""
    recorded = provenance.get("runs")
    if isinstance(recorded, int) and recorded != len(runs):
        raise damaged(folder / "runs.csv", f"it holds {len(runs)} of the {recorded} runs {PROVENANCE} counts")
    cells = set(map(tuple, summary[CELL].astype(str).values))
    lacking = sorted(set(map(tuple, runs[CELL].astype(str).values)) - cells)
    if lacking:
        raise damaged(folder / "summary.csv", f"no row for cell {'/'.join(lacking[0])} of runs.csv")
    applicable = summary[summary["status"] != "not applicable"]
    unranked = sorted(set(applicable["dataset"].astype(str)) - set(rankings["dataset"].astype(str)))
    if unranked:
        raise damaged(folder / "rankings.csv", f"no row for dataset {', '.join(unranked)} of summary.csv")
