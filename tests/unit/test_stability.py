"""Stability measures on constructed trajectories, and statistics over seeds on a
constructed table, against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import comparison, contrasts, intervals, stability
from gans.config import section_defaults

DIRS = {"modes_covered": True, "hq_fraction": True, "fid": False}
OPTS = section_defaults("analysis")  # the schema's defaults: all modes, half the real data's high-quality share
# a constructed calibration record: real data has 99% of its samples within 3 stds of a mode
CALIBRATION = {
    "dataset": "8gaussians",
    "real": {"mean": {"hq_fraction": 0.99, "fid": 0.01, "modes_covered": 8}},
    "noise": {"mean": {"hq_fraction": 0.004, "fid": 10.0, "modes_covered": 1}},
}
ALL = "0 1 2 3 4 5 6 7"


def trajectory(modes, hq=None, total=8, fid=None, sets=None):
    """Evaluation points every 250 steps; high-quality share 0.8 (past the bar) unless given."""
    steps = [250 * i for i in range(len(modes))]
    traj = pd.DataFrame({"step": steps, "modes_covered": modes, "modes_total": total})
    traj["hq_fraction"] = hq if hq is not None else [0.0] + [0.8] * (len(modes) - 1)
    first = [" ".join(map(str, range(int(m)))) if m == m else "" for m in modes]  # modes 0..m-1 (NaN: none)
    traj["modes_set"] = sets if sets is not None else first
    if fid is not None:
        traj["fid"] = fid
    return traj


def log_for(traj, d_loss=None):
    """A training log every 125 steps (two rows per evaluation interval)."""
    steps = np.arange(125, traj["step"].max() + 1, 125)
    return pd.DataFrame({"step": steps, "d_loss": d_loss if d_loss is not None else np.ones(len(steps)), "g_loss": 0.5})


def measures(
    traj, log=None, status="completed", main="modes_covered", modality="points", calibration=CALIBRATION, **opts
):
    return stability.run_measures(
        traj, log_for(traj) if log is None else log, status, DIRS, main, {**OPTS, **opts}, calibration, modality
    )


def test_steady_run_that_reaches_the_bar_converges():
    traj = trajectory([0, 6, 8, 8, 8, 8, 8], fid=[2.0, 0.5, 0.2, 0.1, 0.08, 0.04, 0.05])
    m = measures(traj)
    assert (m["diverged"], m["collapsed"], m["converged"], m["outcome"]) == (False, False, True, "converged")
    assert m["learned"] and m["held_bar"] and m["step_to_bar"] == 500
    # the bar score: the smaller of 8/8 modes and (0.8 / 0.99) / 0.5 of the high-quality share
    assert m["bar_score"] == pytest.approx(1.0)
    assert m["modes_covered_best"] == 8 and m["modes_covered_best_step"] == 500  # first step at the best
    assert m["fid_best"] == 0.04 and m["fid_best_step"] == 1250
    assert m["oscillation"] == 0.0 and m["modes_covered_lost"] == 0
    assert m["step_to_modes_covered"] == 500  # 'all' = every one of the 8 modes
    assert m["step_to_fid"] == 1250  # first at or under the default bound 0.05


def test_a_steady_run_that_never_reached_the_bar_did_not_learn():
    """Steady, all modes, but 10% of its samples near one: far below half the real
    data's 99%. A rule without a quality bar calls it 'converged, 8/8'."""
    m = measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.1, 0.1, 0.1, 0.1, 0.1]))
    assert m["outcome"] == "did not learn" and not m["converged"] and not m["learned"]
    assert m["bar_score"] == pytest.approx(0.1 / 0.99 / 0.5) and np.isnan(m["step_to_bar"])
    # high quality, but one mode short at every point: also not learned
    assert measures(trajectory([0, 7, 7, 7, 7, 7]))["outcome"] == "did not learn"
    # noise: the odd sample on a mode, never the bar
    noise = trajectory([1, 2, 1, 2, 1], hq=[0.004] * 5, sets=["3", "0 5", "1", "2 6", "4"])
    assert measures(noise)["outcome"] != "converged"
    # a laxer bar, by the config: 10% of the real share is enough
    lax = {"points": {"modes": 1.0, "hq_share": 0.1, "fid_position": None}, "images": OPTS["quality_bar"]["images"]}
    assert measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.1, 0.1, 0.1, 0.1, 0.1]), quality_bar=lax)["outcome"] == (
        "converged"
    )


def test_a_run_that_learned_and_lost_modes_collapsed():
    m = measures(trajectory([0, 8, 8, 8, 3, 2, 2]))
    assert m["collapsed"] and m["learned"] and not m["diverged"] and m["outcome"] == "collapsed"
    assert m["modes_covered_lost"] == 6 and m["modes_covered_lost_share"] == pytest.approx(0.75)
    # the same loss of modes in a run that never reached the bar is not a collapse: it never learned
    assert measures(trajectory([0, 8, 8, 8, 3, 2, 2], hq=[0] + [0.2] * 6))["outcome"] == "did not learn"
    # all modes at low quality, then high quality on 7 of 8: it dropped a mode (a partial collapse),
    # though all modes and the quality were never met at one point
    dropped = measures(trajectory([0, 8, 8, 7, 7], hq=[0, 0.4, 0.41, 0.61, 0.7]))
    assert dropped["outcome"] == "collapsed" and not dropped["learned"]
    # learned, then lost the bar's quality but kept its modes: oscillating, not collapsed
    kept = measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.8, 0.8, 0.8, 0.3, 0.3]))
    assert kept["outcome"] == "oscillating" and kept["learned"] and not kept["held_bar"]


def test_mode_hopping_needs_few_modes_that_move():
    sets = ["", "0 1", "4 5", "2 7", "3 6", "0 4"]
    hopping = measures(trajectory([0, 2, 2, 2, 2, 2], sets=sets))
    assert hopping["outcome"] == "mode hopping" and hopping["mode_turnover"] == pytest.approx(1.0)
    stuck = measures(trajectory([0, 2, 2, 2, 2, 2], sets=["", "0 1", "0 1", "0 1", "0 1", "0 1"]))
    assert stuck["outcome"] == "did not learn" and stuck["mode_turnover"] == 0.0
    # stray samples landing on changing modes, off the modes otherwise (noise-like): not hopping
    stray = measures(trajectory([0, 2, 2, 2, 2, 2], hq=[0, 0.01, 0.02, 0.01, 0.02, 0.01], sets=sets))
    assert stray["outcome"] == "did not learn" and stray["mode_turnover"] == pytest.approx(1.0)
    # half the modes change between points: Jaccard distance of {0,1,2,3} and {2,3,4,5} is 4/6
    half = stability.outcomes.mode_turnover(trajectory([0, 4, 4], sets=["", "0 1 2 3", "2 3 4 5"]))
    assert half == pytest.approx(4 / 6)


def test_a_run_still_improving_at_its_last_point_is_undertrained():
    rising = measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.1, 0.2, 0.3, 0.4, 0.45]))
    assert rising["outcome"] == "undertrained" and rising["improving"] and not rising["learned"]
    # it reached the bar only at its last point: not held over hold_points = 2
    assert measures(trajectory([0, 8, 8, 8, 8], hq=[0, 0.1, 0.2, 0.35, 0.6]))["outcome"] == "undertrained"
    assert measures(trajectory([0, 8, 8, 8, 8], hq=[0, 0.1, 0.2, 0.35, 0.6]), hold_points=1)["outcome"] == "converged"
    # flat, or rising but below its own earlier best: not improving
    assert measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.3, 0.3, 0.3, 0.3, 0.3]))["outcome"] == "did not learn"
    fell = measures(trajectory([0, 8, 8, 8, 8, 8], hq=[0, 0.45, 0.1, 0.2, 0.3, 0.31]))
    assert not fell["improving"] and fell["outcome"] == "did not learn"


def test_fid_position_between_noise_and_real_places_image_runs():
    """Images: FID's place on a log scale between noise (857) and held-out real (18.8),
    the digits LeNet's values; a run at 628 (noise-like samples) did not learn."""
    noise, real = 857.0, 18.8
    assert stability.outcomes.fid_position(noise, noise, real) == pytest.approx(0.0)
    assert stability.outcomes.fid_position(real, noise, real) == pytest.approx(1.0)
    assert stability.outcomes.fid_position(math.sqrt(noise * real), noise, real) == pytest.approx(0.5)
    calibration = {
        "dataset": "digits",
        "real": {"mean": {"fid": real, "hq_fraction": 0.5}},
        "noise": {"mean": {"fid": noise, "hq_fraction": 0.0}},
    }

    def images(fid, modes, hq):
        traj = pd.DataFrame({"step": [0, 100, 200, 300], "fid": fid, "modes_covered": modes, "modes_total": 10})
        return measures(traj.assign(hq_fraction=hq), main="fid", modality="images", calibration=calibration)

    noisy = images([1300.0, 700.0, 640.0, 628.0], [0, 10, 10, 10], [0, 0.4, 0.4, 0.4])
    assert noisy["outcome"] == "did not learn" and noisy["bar_score"] == pytest.approx(
        stability.outcomes.fid_position(628.0, noise, real) / 0.5
    )
    good = images([1300.0, 300.0, 90.0, 80.0], [0, 9, 10, 10], [0, 0.2, 0.3, 0.3])
    assert good["outcome"] == "converged" and good["step_to_bar"] == 200


def test_a_bar_without_its_calibration_value_is_an_error():
    with pytest.raises(stability.outcomes.CalibrationError, match="'real' hq_fraction of 8gaussians"):
        measures(trajectory([0, 8, 8]), calibration={"dataset": "8gaussians", "real": {"mean": {}}})


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


def test_collapse_by_lost_progress_on_the_main_metric():
    # FID the main metric: 2.0 -> 0.1 and back to 1.2, losing 1.1 of its 1.9 of progress
    traj = trajectory([0, 8, 8, 8], fid=[2.0, 0.1, 0.1, 1.2])
    m = measures(traj, main="fid")
    assert m["fid_lost_share"] == pytest.approx(1.1 / 1.9) and m["outcome"] == "converged"  # the bar still holds
    m = measures(traj.assign(hq_fraction=[0, 0.8, 0.8, 0.1]), main="fid")
    assert m["outcome"] == "collapsed"
    laxer = {"max_modes_fraction": 0.75, "max_drop": 0.6}
    assert measures(traj.assign(hq_fraction=[0, 0.8, 0.8, 0.1]), main="fid", collapse=laxer)["outcome"] == "oscillating"


def test_oscillation_measure():
    m = measures(trajectory([0, 25, 15, 25, 15, 25, 20], total=25))
    # last 4 points 25, 15, 25, 20: moves -10, +10, -5; (25 - |-5|) / 2 = 10 of it
    # reverses itself, over a progress of 25 modes
    assert m["oscillation_abs"] == pytest.approx(10.0)
    assert m["oscillation"] == pytest.approx(10.0 / 25)
    # learned (25 of 25 at step 250), then lost the bar, but ends on 20 of 25 modes (more than
    # collapse.max_modes_fraction) having lost 5 of its 25 of progress: oscillating, not collapsed
    assert m["outcome"] == "oscillating"
    assert measures(trajectory([0, 3, 6, 8, 8], total=8))["oscillation"] == 0.0  # monotone: no oscillation


def test_d_loss_rank_correlation_with_the_main_metric():
    traj = trajectory([0, 2, 4, 6, 8], fid=[2.0, 1.0, 0.5, 0.2, 0.1])
    rising = np.arange(8, dtype=float)  # two log rows per interval, rising with quality
    assert measures(traj, log_for(traj, rising))["d_loss_rho"] == pytest.approx(1.0)
    assert measures(traj, log_for(traj, -rising))["d_loss_rho"] == pytest.approx(-1.0)
    # the same with FID as the main metric: lower FID is better, so the sign is kept
    assert measures(traj, log_for(traj, rising), main="fid")["d_loss_rho"] == pytest.approx(1.0)
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
    # intervals: Wilson for 2 of 4 seeds, the seed range for the median of 3 values
    assert (s["success_rate_lo"], s["success_rate_hi"]) == pytest.approx(intervals.wilson(2, 4))
    assert (s["modes_covered_median_lo"], s["modes_covered_median_hi"]) == (2.0, 9.0)


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
    r = comparison.rankings(runs, {"d": "modes_covered"}, DIRS).set_index("loss")
    # medians: a 6, b 2 (the diverged seed counts as worst), c 6, d 6; ties broken by success, then IQR
    assert list(r.index) == ["c", "a", "d", "b"] and list(r["order"]) == [1, 2, 2, 4]
    assert r.loc["b", "median"] == 2.0 and r.loc["a", "iqr"] == 1.0
    # with 3 seeds the median's interval is the seed range: every pair overlaps, all tie
    assert (r.loc["a", "median_lo"], r.loc["a", "median_hi"]) == (5.0, 7.0) and r.loc["c", "median_lo"] == 6.0
    assert r.loc["b", "median_lo"] == -np.inf and r.loc["b", "median_hi"] == 8.0  # reaches the diverged run
    assert list(r["rank"]) == [1, 1, 1, 1] and (r["better_than"] == 0).all()
    assert r.loc["c", "tied_with"] == "gan / a; gan / d; gan / b"


def test_rankings_of_a_lower_is_better_metric_list_interval_ends_low_first():
    runs = cells({"a": [250, 240, 260], "b": [30, 20, 25]}).rename(columns={"modes_covered": "fid"})
    r = comparison.rankings(runs, {"d": "fid"}, DIRS).set_index("loss")
    assert (r.loc["a", "median_lo"], r.loc["a", "median"], r.loc["a", "median_hi"]) == (240, 250, 260)
    assert (r.loc["a", "q25"], r.loc["a", "q75"]) == (245, 255) and r.loc["a", "iqr"] == 10
    # 3 seeds against 3: the smallest two-sided Mann-Whitney p is 0.1, so no rank can differ
    assert list(r.index) == ["b", "a"] and list(r["rank"]) == [1, 1]
    more = cells({"a": [250, 240, 260, 255, 245, 251], "b": [30, 20, 25, 22, 28, 26]}).rename(
        columns={"modes_covered": "fid"}
    )
    r = comparison.rankings(more, {"d": "fid"}, DIRS).set_index("loss")
    assert r.loc["b", "rank"] == 1 and r.loc["a", "rank"] == 2 and r.loc["b", "better_than"] == 1


def test_rankings_say_which_differences_are_significant_after_correction():
    runs = cells({"e": [8] * 8, "f": [1, 2] * 4, "g": [2, 1] * 4, "h": [8, 1, 8, 8, 1, 8, 8, 1]})
    pairs = contrasts.cell_pairs(runs, {"d": "modes_covered"}, DIRS)
    r = comparison.rankings(runs, {"d": "modes_covered"}, DIRS, pairs=pairs).set_index("loss")
    # e above f and g: p 3e-4 each, x 6 pairs (Holm) still <= 0.05; h's three 1s tie it with all
    assert r.loc["e", "rank"] == 1 and r.loc["e", "better_than"] == 2
    assert r.loc["f", "rank"] == 2 and r.loc["g", "rank"] == 2 and r.loc["h", "rank"] == 1
    assert r.loc["f", "tied_with"] == "gan / h; gan / g" and r.loc["e", "tied_with"] == "gan / h"
    ef = pairs[(pairs.a == "gan / e") & (pairs.b == "gan / f")].iloc[0]
    assert ef["significant"] == "a better" and ef["cliffs_delta"] == 1.0 and ef["p_adj"] > ef["p"]
    # the same cells with 4 seeds each: significant before the correction, not after
    few = cells({"e": [8] * 4, "f": [1, 2] * 2, "g": [2, 1] * 2, "h": [8, 1, 8, 8]})
    few_pairs = contrasts.cell_pairs(few, {"d": "modes_covered"}, DIRS)
    assert (few_pairs["p"] <= 0.05).any() and (few_pairs["significant"] == "").all()
    # success rates carry Wilson intervals: 8 of 8
    assert r.loc["e", "success_rate_lo"] == pytest.approx(intervals.wilson(8, 8)[0])


def test_baseline_check_answers_from_the_data():
    both = pd.concat([cells({"nonsaturating": [1, 2, 3], "x": [5, 6, 7], "y": [2, 3, 1]}, ds) for ds in ("d1", "d2")])
    table, text = comparison.baseline_check(
        both, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.05
    )
    x = table[table.loss == "x"]
    assert x["p_better"].tolist() == pytest.approx([0.05, 0.05])  # 1 / C(6, 3)
    # 8 one-sided tests in the table (2 losses x 2 datasets x 2 directions): Holm multiplies the smallest by 8
    assert x["p_better_adj"].tolist() == pytest.approx([0.4, 0.4]) and (x["verdict"] == "no clear difference").all()
    assert "no difference can be significant" in text and "Holm-Bonferroni over all 8 tests" in text
    assert x[["median_lo", "median_hi", "baseline_median_lo", "baseline_median_hi"]].iloc[0].tolist() == [5, 7, 1, 3]
    assert x["cliffs_delta"].tolist() == [1.0, 1.0] and x["success_diff"].tolist() == [0.0, 0.0]
    # 6 seeds each: 1 / C(12, 6) x 8 < 0.05
    six = pd.concat(
        [cells({"nonsaturating": [1, 2, 3] * 2, "x": [5, 6, 7] * 2, "y": [2, 3, 1] * 2}, ds) for ds in ("d1", "d2")]
    )
    table, text = comparison.baseline_check(
        six, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.05
    )
    assert (table[table.loss == "x"]["verdict"] == "better").all()
    assert (table[table.loss == "y"]["verdict"] == "no clear difference").all()
    assert text.startswith("Yes: x beat nonsaturating in all 2")
    # Benjamini-Hochberg: the same raw p, adjusted as scipy does
    bh, text = comparison.baseline_check(
        both, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.05, "bh"
    )
    raw = np.r_[bh["p_better"], bh["p_worse"]]
    assert np.r_[bh["p_better_adj"], bh["p_worse_adj"]] == pytest.approx(stats.false_discovery_control(raw))
    assert "Benjamini-Hochberg" in text
    # x better in only one dataset: no longer consistent
    mixed = pd.concat(
        [
            cells({"nonsaturating": [1, 2, 3] * 2, "x": [5, 6, 7] * 2}, "d1"),
            cells({"nonsaturating": [5, 6, 7] * 2, "x": [1, 2, 3] * 2}, "d2"),
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
        mixed, {"d1": "modes_covered", "d2": "modes_covered"}, DIRS, "nonsaturating", 0.001
    )
    assert "no difference can be significant" in text and comparison.min_p_value(3, 3) == pytest.approx(0.05)


def test_loss_tracking_with_intervals():
    runs = cells({"l": [1, 2, 3, 4]}).assign(d_loss_rho=[0.9, 0.6, 0.2, math.nan])
    t = comparison.loss_tracking(runs, 0.5).iloc[0]
    assert (t["runs"], t["runs_with_rho"], t["rho_median"]) == (4, 3, 0.6)
    assert (t["rho_median_lo"], t["rho_median_hi"]) == (0.2, 0.9)  # three runs: their range
    assert t["tracking_share"] == pytest.approx(2 / 3)
    assert (t["tracking_share_lo"], t["tracking_share_hi"]) == pytest.approx(intervals.wilson(2, 3))


def test_one_seed_has_no_interval_and_ties_with_everyone():
    r = comparison.rankings(cells({"a": [5], "b": [3]}), {"d": "modes_covered"}, DIRS).set_index("loss")
    assert np.isnan(r.loc["a", "median_lo"]) and list(r["rank"]) == [1, 1] and r.loc["a", "tied_with"] == "gan / b"
    from analysis.table_views import rankings_view

    assert rankings_view(r.reset_index()).set_index("loss").loc["a", "median_lo"] == ""  # not "diverged"


def test_a_loss_that_wins_most_pairs_at_the_ceiling_is_better_though_the_medians_tie():
    """Both medians at every mode (8): the Mann-Whitney test and Cliff's delta still say
    which loss covers all modes more often, and the verdict follows them."""
    runs = cells({"nonsaturating": [8] * 11 + [1, 2, 3, 4, 5, 6, 7, 2, 3], "x": [8] * 20})
    table, _ = comparison.baseline_check(runs, {"d": "modes_covered"}, DIRS, "nonsaturating", 0.05)
    row = table.iloc[0]
    assert row["median"] == row["baseline_median"] == 8 and row["better_by"] == 0
    assert row["cliffs_delta"] > 0.4 and row["p_better_adj"] <= 0.05 and row["verdict"] == "better"
