"""Stability measures on constructed trajectories, and statistics over seeds on a
constructed table, against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from gans.config import section_defaults
from metrics import comparison, stability

DIRS = {"modes_covered": True, "fid": False}
OPTS = section_defaults("analysis")  # the schema's defaults


def trajectory(modes, total=8, fid=None):
    steps = [250 * i for i in range(len(modes))]
    traj = pd.DataFrame({"step": steps, "modes_covered": modes, "modes_total": total})
    if fid is not None:
        traj["fid"] = fid
    return traj


def log_for(traj, d_loss=None):
    """A training log every 125 steps (two rows per evaluation interval)."""
    steps = np.arange(125, traj["step"].max() + 1, 125)
    return pd.DataFrame({"step": steps, "d_loss": d_loss if d_loss is not None else np.ones(len(steps)), "g_loss": 0.5})


def measures(traj, log=None, status="completed", main="modes_covered", **opts):
    return stability.run_measures(traj, log_for(traj) if log is None else log, status, DIRS, main, {**OPTS, **opts})


def test_steady_run_converges():
    traj = trajectory([0, 6, 8, 8, 8, 8, 8], fid=[2.0, 0.5, 0.2, 0.1, 0.08, 0.04, 0.05])
    m = measures(traj)
    assert (m["diverged"], m["collapsed"], m["converged"], m["outcome"]) == (False, False, True, "converged")
    assert m["modes_covered_best"] == 8 and m["modes_covered_best_step"] == 500  # first step at the best
    assert m["fid_best"] == 0.04 and m["fid_best_step"] == 1250
    assert m["oscillation"] == 0.0 and m["modes_covered_lost"] == 0
    assert m["step_to_modes_covered"] == 500  # 'all' = every one of the 8 modes
    assert m["step_to_fid"] == 1250  # first at or under the default bound 0.05


def test_diverged_run_by_status_or_by_its_log():
    traj = trajectory([0, 4, 6, math.nan])
    m = measures(traj, status="diverged")
    assert m["diverged"] and not m["collapsed"] and not m["converged"] and m["outcome"] == "diverged"
    assert m["modes_covered_best"] == 6 and m["modes_covered_best_step"] == 500
    assert math.isnan(m["oscillation"])
    # training completed, but its log shows a NaN loss or one beyond the threshold
    finite = trajectory([0, 8, 8, 8, 8, 8])
    n = len(log_for(finite))
    assert measures(finite)["outcome"] == "converged"
    for bad in (math.nan, -math.inf, 1e7):
        d = np.ones(n)
        d[3] = bad
        assert measures(finite, log_for(finite, d))["outcome"] == "diverged"
    assert measures(finite, log_for(finite, np.full(n, 1e7)), divergence_threshold=1e8)["outcome"] == "converged"


def test_collapsed_run_by_few_modes_and_by_lost_progress():
    m = measures(trajectory([0, 8, 8, 8, 3, 2, 2]))
    assert m["collapsed"] and not m["diverged"] and m["outcome"] == "collapsed"
    assert m["modes_covered_lost"] == 6 and m["modes_covered_lost_share"] == pytest.approx(0.75)
    # no mode counts here: FID, lower is better, went 2.0 -> 0.1 and back to 1.2, losing 1.1 of 1.9
    traj = pd.DataFrame({"step": [0, 250, 500, 750], "fid": [2.0, 0.1, 0.1, 1.2]})
    m = stability.run_measures(traj, log_for(traj), "completed", DIRS, "fid", OPTS)
    assert m["fid_lost_share"] == pytest.approx(1.1 / 1.9) and m["outcome"] == "collapsed"
    m = stability.run_measures(
        traj,
        log_for(traj),
        "completed",
        DIRS,
        "fid",
        {**OPTS, "collapse": {"max_modes_fraction": 0.75, "max_drop": 0.6}},
    )
    assert m["outcome"] == "oscillating"  # not collapsed under a laxer drop, but far from steady


def test_oscillating_run():
    m = measures(trajectory([0, 25, 15, 25, 15, 25, 20], total=25))
    # last 4 points 25, 15, 25, 20: moves -10, +10, -5; (25 - |-5|) / 2 = 10 of it
    # reverses itself, over a progress of 25 modes
    assert m["oscillation_abs"] == pytest.approx(10.0)
    assert m["oscillation"] == pytest.approx(10.0 / 25)
    assert (m["diverged"], m["collapsed"], m["converged"], m["outcome"]) == (False, False, False, "oscillating")
    assert m["step_to_modes_covered"] == 250
    assert measures(trajectory([0, 25, 15, 25, 15, 25, 20], total=25), steady_tolerance=0.5)["outcome"] == "converged"


def test_a_run_still_climbing_is_not_oscillating():
    m = measures(trajectory([0, 3, 6, 8, 8], total=8))  # coarse evaluation points, monotone
    assert m["oscillation"] == 0.0 and m["outcome"] == "converged"


def test_d_loss_rank_correlation_with_the_main_metric():
    traj = trajectory([0, 2, 4, 6, 8], fid=[2.0, 1.0, 0.5, 0.2, 0.1])
    rising = np.arange(8, dtype=float)  # two log rows per interval, rising with quality
    assert measures(traj, log_for(traj, rising))["d_loss_rho"] == pytest.approx(1.0)
    assert measures(traj, log_for(traj, -rising))["d_loss_rho"] == pytest.approx(-1.0)
    # the same with FID as the main metric: lower FID is better, so the sign is kept
    assert stability.run_measures(traj, log_for(traj, rising), "completed", DIRS, "fid", OPTS)[
        "d_loss_rho"
    ] == pytest.approx(1.0)
    assert math.isnan(measures(trajectory([8, 8, 8, 8]))["d_loss_rho"])  # constant metric: undefined


def constructed_runs():
    rows = [  # one cell, four seeds: three finished, one diverged (no final value)
        ("converged", 2.0, 4.0, 0.30, 0.20),
        ("collapsed", 4.0, 6.0, 0.10, 0.10),
        ("converged", 9.0, 9.0, 0.20, 0.05),
        ("diverged", math.nan, 5.0, math.nan, 0.40),
    ]
    return pd.DataFrame(
        [
            {
                "dataset": "d",
                "variant": "gan",
                "setting": "default",
                "loss": "l",
                "seed": i,
                "outcome": o,
                "modes_covered": f,
                "modes_covered_best": b,
                "fid": fid,
                "fid_best": fb,
                "modes_total": 9,
            }
            for i, (o, f, b, fid, fb) in enumerate(rows)
        ]
    )


def test_seed_summary_matches_hand_computation():
    s = comparison.seed_summary(constructed_runs(), DIRS).iloc[0]
    assert s["seeds"] == 4 and (s["converged"], s["collapsed"], s["diverged"], s["oscillating"]) == (2, 1, 1, 0)
    assert s["success_rate"] == 0.5
    assert s["all_modes_rate"] == 0.25  # only seed 2 covers all 9
    # modes over the three finished seeds: 2, 4, 9
    assert s["modes_covered_mean"] == pytest.approx(5.0)
    assert s["modes_covered_std"] == pytest.approx(math.sqrt(13.0))  # ((-3)^2 + (-1)^2 + 4^2) / 2
    assert s["modes_covered_median"] == 4.0
    assert (s["modes_covered_q25"], s["modes_covered_q75"], s["modes_covered_iqr"]) == pytest.approx((3.0, 6.5, 3.5))
    # best - final: 2, 2, 0 (higher is better); final - best for FID: 0.1, 0, 0.15
    assert s["modes_covered_gap_mean"] == pytest.approx(4 / 3) and s["modes_covered_gap_median"] == 2.0
    assert s["fid_gap_mean"] == pytest.approx(0.25 / 3) and s["fid_gap_median"] == pytest.approx(0.1)


def cells(values, dataset="d"):
    return pd.DataFrame(
        [
            {
                "dataset": dataset,
                "variant": "gan",
                "setting": "default",
                "loss": loss,
                "seed": i,
                "modes_covered": v,
                "converged": not math.isnan(v),
            }
            for loss, vs in values.items()
            for i, v in enumerate(vs)
        ]
    )


def test_rankings_by_median_with_failures_as_worst():
    runs = cells({"a": [5, 6, 7], "b": [8, 2, math.nan], "c": [6, 6, 6], "d": [7, 5, 6]})
    r = comparison.rankings(runs, {"d": "modes_covered"}, DIRS)
    # medians: a 6, b 2 (the diverged seed counts as worst), c 6, d 6; ties broken by success, then IQR
    assert list(r["loss"]) == ["c", "a", "d", "b"] and list(r["rank"]) == [1, 2, 2, 4]
    assert r.set_index("loss").loc["b", "median"] == 2.0 and r.set_index("loss").loc["a", "iqr"] == 1.0


def test_baseline_check_answers_from_the_data():
    both = pd.concat([cells({"nonsaturating": [1, 2, 3], "x": [5, 6, 7], "y": [2, 3, 1]}, ds) for ds in ("d1", "d2")])
    table, text = comparison.baseline_check(
        both, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.05
    )
    x = table[table.loss == "x"]
    assert (x["verdict"] == "better").all() and x["p_better"].tolist() == pytest.approx([0.05, 0.05])  # 1 / C(6, 3)
    assert (table[table.loss == "y"]["verdict"] == "no clear difference").all()
    assert text.startswith("Yes: x beat nonsaturating in all 2")
    # x better in only one dataset: no longer consistent
    mixed = pd.concat(
        [
            cells({"nonsaturating": [1, 2, 3], "x": [5, 6, 7]}, "d1"),
            cells({"nonsaturating": [5, 6, 7], "x": [1, 2, 3]}, "d2"),
        ]
    )
    _, text = comparison.baseline_check(
        mixed, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.05
    )
    assert (
        text.startswith("No loss is consistently better than nonsaturating")
        and "worse than nonsaturating: x in 1" in text
    )
    _, text = comparison.baseline_check(
        mixed, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.01
    )
    assert "no difference can be significant" in text and comparison.min_p_value(3, 3) == pytest.approx(0.05)
