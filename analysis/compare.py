"""Do two result folders of the same config agree within their intervals?

    python -m analysis.compare results/tables other/results/tables [--out comparison.md] [--max-width 0.5]

A and B are tables folders (what ``analysis.aggregate`` writes: runs.csv, summary.csv,
rankings.csv, provenance.json). The command first checks that they come from the same
config: the same runs (dataset x variant x setting x loss x seed), the same resolved
run configs (every hp.* column) apart from how a run was executed (threads, device,
population size, precision, ...: listed as execution differences), the same evaluation
configs and analysis options. Folders of different configs are refused, naming the
difference (exit status 2).

Then, per cell: do the success rates' Wilson intervals overlap, do the main metric's
bootstrap intervals of the median overlap, do the other metrics' intervals of the
mean overlap, and did the outcome counts change; per dataset, which significant
orderings of the rankings changed (a pair of cells significantly ordered in one
folder and tied or reversed in the other), and how many single runs changed outcome
(expected across machines: per-seed results do not replicate). The verdict:

  agree               every headline interval (success rate, main metric) overlaps,
                      and no significant ordering is reversed
  agree on headlines  as above, but some other metric's intervals do not overlap
  disagree            a headline interval does not overlap, or an ordering is reversed

Beside the verdict, its power (analysis.power): per cell the widest interval of either
folder and a note where agreement says little (both at 0 or 100%, a success-rate
interval wider than --max-width, default 0.5, no interval of the main metric); "low"
when any cell has a note, else "adequate".

Exit status 0 when the folders agree (on headlines or fully), 1 when they disagree
(the power does not change it).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import intervals, power
from analysis.comparison import join_cell
from analysis.stability import CELL
from analysis.table_folder import RUN, Damaged, load
from gans.config.run import first_difference
from metrics import higher_is_better

# hp.* columns that say how a run was executed, not what it computes: they may differ
EXECUTION_KEYS = [
    f"hp.train.{k}"
    for k in ("threads", "device", "population_size", "checkpoint_every", "channels_last", "precision", "random_draws")
]


class Refused(ValueError):
    """The two folders do not hold the same config's results."""


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y):
        return True
    return x == y


def config_differences(a: dict[str, Any], b: dict[str, Any], limit: int = 8) -> list[str]:
    """What makes the two folders results of different configs (empty: the same)."""
    keys_a = set(map(tuple, a["runs"][RUN].astype(str).values))
    keys_b = set(map(tuple, b["runs"][RUN].astype(str).values))
    out = (
        [f"runs only in A: {', '.join('/'.join(k) for k in sorted(keys_a - keys_b)[:limit])}"]
        if keys_a - keys_b
        else []
    )
    if keys_b - keys_a:
        out.append(f"runs only in B: {', '.join('/'.join(k) for k in sorted(keys_b - keys_a)[:limit])}")
    if out:
        return out
    ra, rb = (t["runs"].astype({"seed": str}).set_index(RUN).sort_index() for t in (a, b))
    hp = sorted((c for c in set(ra.columns) | set(rb.columns) if c.startswith("hp.")), key=str)
    for col in hp:
        if col in EXECUTION_KEYS:
            continue
        if col not in ra or col not in rb:
            out.append(f"{col} is set only in {'A' if col in ra else 'B'}")
            continue
        diff = [k for k in ra.index if not _same(ra.at[k, col], rb.at[k, col])]
        if diff:
            k = diff[0]
            va, vb = (_plain(t.at[k, col]) for t in (ra, rb))
            out.append(f"{col}: A {va!r} vs B {vb!r} (in {len(diff)} runs, e.g. {'/'.join(k)})")
    evaluations = comparable_evaluations(a["provenance"]["evaluation"], b["provenance"]["evaluation"])
    # an analysis option only one folder records came with a later code version
    sa, sb = a["provenance"]["analysis"], b["provenance"]["analysis"]
    analyses = tuple({k: v for k, v in s.items() if k in sa and k in sb} for s in (sa, sb))
    for section, (pa, pb) in zip(("evaluation", "analysis"), (evaluations, analyses), strict=True):
        if pa != pb:
            out.append(f"{section}: {first_difference(pa, pb)}")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def comparable_evaluations(a: dict[str, Any], b: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides' evaluation configs without the metrics only one side measures (and
    those metrics' settings): a metric added to the defaults leaves the others comparable."""
    from metrics import METRICS

    a, b = copy.deepcopy(a), copy.deepcopy(b)
    for dataset in set(a) & set(b):
        ea, eb = a[dataset], b[dataset]
        if not (isinstance(ea, dict) and isinstance(eb, dict)):
            continue
        common = [m for m in ea.get("metrics", []) if m in eb.get("metrics", [])]
        for ev in (ea, eb):
            if "metrics" in ev:
                ev["metrics"] = [m for m in ev["metrics"] if m in common]
            for name in [k for k in ev if k in METRICS.names() and k not in common]:
                del ev[name]
    return a, b


def _plain(v):
    """A numpy scalar as the Python value it holds (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def execution_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """How the two were produced differently (allowed: that is what a comparison tests)."""
    out = []
    for col in EXECUTION_KEYS:
        va = sorted(set(map(str, a["runs"].get(col, pd.Series(dtype=str)))))
        vb = sorted(set(map(str, b["runs"].get(col, pd.Series(dtype=str)))))
        if va != vb:
            out.append(f"{col.removeprefix('hp.')}: A {', '.join(va)} vs B {', '.join(vb)}")
    pa, pb = a["provenance"]["analysis"], b["provenance"]["analysis"]
    for name, mine, other in (("A", pa, pb), ("B", pb, pa)):
        added = sorted(set(mine) - set(other))
        if added:
            out.append(f"analysis options recorded only in {name} (a later code version): {', '.join(added)}")
    for key in ("code_versions", "processors", "threads", "torch"):
        pa, pb = a["provenance"].get(key), b["provenance"].get(key)
        if pa != pb:
            out.append(f"{key}: A {', '.join(pa or [])} vs B {', '.join(pb or [])}")
    return out


def cell_table(a: dict[str, Any], b: dict[str, Any], bound: float = power.MAX_WIDTH) -> pd.DataFrame:
    """Per cell: success rates, main metric medians and other metrics' means of A and
    B with their intervals, whether each pair overlaps, the outcome counts, and the
    widest intervals with a note where the agreement says little (analysis.power)."""
    from analysis.stability import OUTCOMES

    sa, sb = (t["summary"].set_index(CELL) for t in (a, b))
    main = {r["dataset"]: r["metric"] for _, r in a["rankings"].iterrows()}
    rows = []
    for cell in sa.index:
        x, y, m = sa.loc[cell], sb.loc[cell], main[cell[0]]
        row: dict[str, Any] = dict(zip(CELL, cell, strict=True))
        row["seeds"] = f"{int(x['seeds'])} / {int(y['seeds'])}"
        pairs = {}
        for name, col in (("success", "success_rate"), ("main", f"{m}_median")):
            ia, ib = pairs[name] = tuple(_interval(s, col) for s in (x, y))
            row[f"{name} A"], row[f"{name} B"] = (intervals.interval_text(*i) for i in (ia, ib))
            row[f"{name} overlap"] = intervals.overlap(ia[1:], ib[1:])
        row.update(power.cell_power(x, y, pairs["success"], pairs["main"], bound))
        row["main metric"] = m
        others = [c.removesuffix("_mean_lo") for c in sa.columns if c.endswith("_mean_lo")]
        others = [c for c in others if c != m and higher_is_better(c) is not None]  # the metrics
        apart = [
            c
            for c in others
            if intervals.overlap(_interval(x, c + "_mean")[1:], _interval(y, c + "_mean")[1:]) is False
        ]
        row["other metrics apart"] = ", ".join(apart)
        count = lambda s: ", ".join(f"{int(s[o])} {o}" for o in OUTCOMES if o in s and s[o])  # noqa: E731
        row["outcomes A"], row["outcomes B"] = count(x), count(y)
        row["outcomes changed"] = row["outcomes A"] != row["outcomes B"]
        rows.append(row)
    return pd.DataFrame(rows)


def _interval(s: pd.Series, col: str) -> tuple[float, float, float]:
    base = col.removesuffix("_median").removesuffix("_mean")
    stat = "median" if col.endswith("_median") else "mean" if col.endswith("_mean") else None
    lo, hi = (f"{base}_{stat}_lo", f"{base}_{stat}_hi") if stat else (f"{col}_lo", f"{col}_hi")
    return tuple(float(s[c]) if c in s and pd.notna(s[c]) else np.nan for c in (col, lo, hi))


def ordering_changes(a: dict[str, Any], b: dict[str, Any]) -> pd.DataFrame:
    """Pairs of cells significantly ordered (the rankings' corrected tests: not tied)
    in one folder whose order is tied or reversed in the other."""
    rows = []
    for dataset, ra in a["rankings"].groupby("dataset"):
        rb = b["rankings"][b["rankings"]["dataset"] == dataset]
        oa, ob = _orders(ra), _orders(rb)
        for pair in sorted(set(oa) | set(ob)):
            if oa.get(pair) != ob.get(pair):
                rows.append(
                    {
                        "dataset": dataset,
                        "better": pair[0],
                        "worse": pair[1],
                        "in A": oa.get(pair, "tie"),
                        "in B": ob.get(pair, "tie"),
                    }
                )
    table = pd.DataFrame(rows, columns=["dataset", "better", "worse", "in A", "in B"])
    table["reversed"] = [
        (r["in A"] == "better" and r["in B"] == "worse") or (r["in A"] == "worse" and r["in B"] == "better")
        for _, r in table.iterrows()
    ]
    return table


def _orders(rankings: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(x, y) -> 'better' when x is significantly better than y (the rankings' test:
    y is not among x's tied_with, and x comes first by the median), 'worse' when
    significantly worse; pairs the rankings tie are left out. Pairs are named in
    alphabetical order, so both folders' orderings meet in one key."""
    names = [join_cell(r) for _, r in rankings.iterrows()]
    tied = [set(filter(None, str(t).split("; "))) if pd.notna(t) else set() for t in rankings["tied_with"]]
    order = rankings["order"].astype(float).to_numpy()
    out = {}
    for i in range(len(names)):
        for j in range(len(names)):
            if names[i] < names[j] and names[j] not in tied[i] and order[i] != order[j]:
                out[(names[i], names[j])] = "better" if order[i] < order[j] else "worse"
    return out


def runs_changed(a: dict[str, Any], b: dict[str, Any]) -> tuple[int, int]:
    """Runs whose outcome differs between A and B, of all runs."""
    ra, rb = (t["runs"].astype({"seed": str}).set_index(RUN)["outcome"] for t in (a, b))
    return int((ra != rb.reindex(ra.index)).sum()), len(ra)


def _apart(overlap) -> bool:
    """An interval pair known not to overlap (not: one that could not be compared)."""
    return overlap is not None and not pd.isna(overlap) and not bool(overlap)


def verdict(cells: pd.DataFrame, orders: pd.DataFrame) -> tuple[str, str]:
    """(agree | agree on headlines | disagree, the sentence that says why)."""
    apart = [
        f"{r['dataset']} {join_cell(r)} ({', '.join(n for n in ('success', 'main') if _apart(r[f'{n} overlap']))})"
        for _, r in cells.iterrows()
        if _apart(r["success overlap"]) or _apart(r["main overlap"])
    ]
    untested = int(cells["main overlap"].isna().sum())
    reversed_pairs = orders[orders["reversed"]] if len(orders) else orders
    note = (
        f" ({untested} cells have no interval of the main metric, one seed: only their success rates were compared)"
        if untested
        else ""
    )
    if apart or len(reversed_pairs):
        reasons = ([f"headline intervals do not overlap in {', '.join(apart)}"] if apart else []) + (
            [f"{len(reversed_pairs)} significant orderings reversed"] if len(reversed_pairs) else []
        )
        return "disagree", "The folders disagree: " + "; ".join(reasons) + "." + note
    secondary = cells[cells["other metrics apart"] != ""]
    if len(secondary):
        where = "; ".join(f"{r['dataset']} {join_cell(r)}: {r['other metrics apart']}" for _, r in secondary.iterrows())
        return "agree on headlines", (
            f"Success rates and main metrics agree within their intervals in all {len(cells)} cells, and no "
            f"significant ordering is reversed; other metrics' intervals do not overlap in: {where}." + note
        )
    return "agree", (
        f"Every cell's intervals overlap ({len(cells)} cells: success rate, main metric and every other metric), "
        "and no significant ordering is reversed." + note
    )


def compare(folder_a: Path, folder_b: Path, bound: float = power.MAX_WIDTH) -> tuple[str, str]:
    """(verdict, a Markdown report); raises Refused for folders of different configs.
    ``bound``: the success-rate interval width above which a cell's agreement is
    reported as saying little (analysis.power)."""
    a, b = load(folder_a), load(folder_b)
    differences = config_differences(a, b)
    if differences:
        raise Refused(
            f"{folder_a} and {folder_b} hold results of different configs; a comparison needs the same config:\n  "
            + "\n  ".join(differences)
        )
    cells = cell_table(a, b, bound)
    orders = ordering_changes(a, b)
    changed, total = runs_changed(a, b)
    word, sentence = verdict(cells, orders)
    power_word, power_sentence = power.power(cells, bound)
    execution = execution_differences(a, b)
    lines = [
        f"# Comparison of {folder_a} (A) and {folder_b} (B)",
        "",
        f"**Verdict: {word}.** {sentence}",
        "",
        f"**Power: {power_word}.** {power_sentence}",
        "",
        "Same config: same runs, same resolved run configs, evaluation configs and analysis options.",
        "Execution differences: " + ("; ".join(execution) if execution else "none recorded") + ".",
        f"Single runs whose outcome changed: {changed} of {total} (per-seed results are not expected to replicate "
        "across machines; the intervals are).",
        "",
        "## Cells",
        "",
        cells.to_markdown(index=False),
        "",
        "## Significant orderings that changed",
        "",
        orders.to_markdown(index=False)
        if len(orders)
        else "None: every pair of cells ordered in one folder is ordered the same way in the other.",
        "",
    ]
    return word, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="a tables folder (results/tables)")
    parser.add_argument("b", type=Path, help="another tables folder of the same config")
    parser.add_argument("--out", type=Path, help="also write the report here (Markdown)")
    parser.add_argument(
        "--max-width",
        type=float,
        default=power.MAX_WIDTH,
        help="a success-rate interval wider than this makes a cell's agreement uninformative (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    problem = option_problem(args)
    if problem:
        parser.exit(2, f"error: {problem}\n")
    try:
        word, report = compare(args.a, args.b, args.max_width)
    except (Refused, Damaged, FileNotFoundError) as exc:
        parser.exit(2, f"error: {exc}\n")
    if args.out:
        args.out.write_text(report)
    print(report)
    return 0 if word != "disagree" else 1


def option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with --out or --max-width (None: nothing), known before comparing."""
    if not 0 < args.max_width <= 1:
        return f"--max-width {args.max_width}: a success-rate interval's width, above 0 and at most 1"
    if args.out is None:
        return None
    if args.out.is_dir():
        return f"--out {args.out} is a folder; give a file to write, such as {args.out / 'comparison.md'}"
    parent = args.out.parent
    if not parent.is_dir():
        return f"--out {args.out}: {parent} is {'not a folder' if parent.exists() else 'no folder'} to write into"
    return None


if __name__ == "__main__":
    sys.exit(main())
