"""The search's selection on constructed results (ties, a diverged best, at: best
against at: final), the tuning column, and the protocol's tables (budget curves,
distance from the set-up) against values worked out by hand."""

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import config as acfg
from analysis import search
from analysis import search_tables as st
from gans import layout
from gans.space import distance
from tests.conftest import TINY

MODES = [("modes_covered", True), ("reverse_kl", False)]


def make_run(root, index, modes, kl, status="completed", steps=(0, 100, 200), seed=0, **more):
    """A search run folder with the files the selection reads: its trajectory of
    modes_covered and reverse_kl (and any ``more`` metric) at ``steps``, its status and
    resolved config."""
    run = root / f"gan+search-{index}" / f"seed{seed}"
    run.mkdir(parents=True)
    cfg = {
        "seed": seed,
        "variant": {"name": "gan", "params": {}, "label": f"gan+search-{index}"},
        "search": {"index": index, "values": {"optimizer.lr_d": 1e-4 * (index + 1)}},
    }
    (run / layout.RESOLVED_CONFIG).write_text(yaml.safe_dump(cfg))
    traj = pd.DataFrame({"step": list(steps), "modes_covered": modes, "reverse_kl": kl, **more})
    traj.to_csv(run / layout.METRICS_TABLE, index=False)
    last = {"modes_covered": modes[-1], "reverse_kl": kl[-1], **{k: v[-1] for k, v in more.items()}}
    diverged = status == "diverged"
    result = {
        "status": status,
        "reason": None,
        "final_step": None if diverged else steps[-1],
        "final": {k: None for k in last} if diverged else last,
    }
    (run / layout.METRICS_FINAL).write_text(json.dumps(result))
    return run


def options(budget, at="final", metrics=MODES):
    return {
        "dataset": "8gaussians",
        "variant": "gan",
        "loss": "nonsaturating",
        "budget": budget,
        "at": at,
        "metrics": metrics,
        "seeds": [1, 2, 3],
        "space": {"optimizer.lr_d": {"log_uniform": [1e-5, 1e-2]}},
    }


def best_index(runs, **kw):
    return search.selection(runs, options(len(runs), **kw))["best"]["index"]


def test_the_higher_score_wins_and_ties_go_to_the_next_metric(tmp_path):
    runs = [
        make_run(tmp_path, 0, [0, 5, 7], [1.0, 0.5, 0.4]),
        make_run(tmp_path, 1, [0, 6, 8], [1.0, 0.5, 0.30]),
        make_run(tmp_path, 2, [0, 7, 8], [1.0, 0.5, 0.20]),  # the same modes, a lower reverse KL
        make_run(tmp_path, 3, [0, 2, 3], [1.0, 0.9, 0.01]),
    ]
    assert best_index(runs) == 2


def test_a_complete_tie_goes_to_the_lower_index_so_the_set_up_wins_its_ties(tmp_path):
    runs = [make_run(tmp_path, i, [0, 8, 8], [1.0, 0.2, 0.2]) for i in range(3)]
    assert best_index(runs) == 0
    assert best_index(runs[1:] + runs[:1]) == 0  # whatever order the folders come in


def test_a_diverged_run_ranks_below_every_run_that_did_not(tmp_path):
    runs = [
        make_run(tmp_path, 0, [0, 2, 3], [1.0, 0.9, 0.9]),
        make_run(tmp_path, 1, [0, 8, 8], [1.0, 0.1, 0.1], status="diverged"),  # best trajectory, then diverged
        make_run(tmp_path, 2, [0, 4, 5], [1.0, 0.7, 0.6]),
    ]
    for at in ("final", "best"):
        chosen = search.selection(runs, options(3, at=at))
        assert chosen["best"]["index"] == 2
        assert [s["diverged"] for s in chosen["settings"]] == [False, True, False]


def test_a_non_finite_final_value_counts_as_diverged(tmp_path):
    runs = [make_run(tmp_path, 0, [0, 3, 3], [1.0, 0.5, 0.5]), make_run(tmp_path, 1, [0, 8, math.nan], [1, 0.1, 0.1])]
    chosen = search.selection(runs, options(2))
    assert chosen["best"]["index"] == 0 and chosen["settings"][1]["diverged"]


def test_when_every_setting_diverged_the_set_up_is_kept(tmp_path):
    runs = [make_run(tmp_path, i, [0, 8 - i, 8], [1.0, 0.1, 0.1], status="diverged") for i in range(3)]
    assert best_index(runs, at="final") == 0
    assert best_index(runs, at="best") == 0  # ranked by their best points before diverging: 8 modes for all


def test_at_best_scores_the_best_point_and_at_final_the_last(tmp_path):
    """One setting peaks then collapses, another climbs steadily: the final point picks
    the steady one, the best point the peak (compare_gan's choice), the tie-breaker read
    at that same point."""
    runs = [
        make_run(tmp_path, 0, [0, 8, 2], [1.0, 0.05, 2.0]),  # peaks at 100, collapses
        make_run(tmp_path, 1, [0, 5, 7], [1.0, 0.5, 0.3]),  # steady
    ]
    final, best = search.selection(runs, options(2, at="final")), search.selection(runs, options(2, at="best"))
    assert final["best"]["index"] == 1 and best["best"]["index"] == 0
    assert best["settings"][0]["step"] == 100 and best["settings"][0]["scores"] == {
        "modes_covered": 8,
        "reverse_kl": 0.05,
    }
    assert final["settings"][0]["scores"] == {"modes_covered": 2, "reverse_kl": 2.0}


def test_by_default_a_tie_at_every_mode_goes_to_the_setting_nearer_the_quality_bar(tmp_path):
    """Two settings cover every mode; the one with more points near a mode wins even
    though the other fills the modes more evenly (lower reverse KL)."""
    config = acfg.validate({**copy.deepcopy(TINY), "search": {"budget": 2}})
    metrics = acfg.ranking_metrics(config, "8gaussians")
    assert [m for m, _ in metrics[:3]] == ["modes_covered", "hq_fraction", "reverse_kl"]
    runs = [
        make_run(tmp_path, 0, [0, 8, 8], [1.0, 0.1, 0.02], hq_fraction=[0.0, 0.3, 0.35]),  # even, spread out
        make_run(tmp_path, 1, [0, 8, 8], [1.0, 0.2, 0.05], hq_fraction=[0.0, 0.5, 0.7]),  # tight on the modes
    ]
    assert best_index(runs, metrics=[m for m in metrics if m[0] != "fid"]) == 1


def two_seeds(budget, **kw):
    return {**options(budget, **kw), "setting_seeds": [0, 1]}


def test_with_several_seeds_a_setting_is_scored_by_its_mean_not_its_luckiest_seed(tmp_path):
    """Setting 1 covers every mode with seed 0 and 3 with seed 1; setting 2 covers 7 with
    both. Seed 0 alone picks setting 1; both seeds pick setting 2, and the settings
    carry the means and each run."""
    runs = {
        0: [make_run(tmp_path, 0, [0, 5, 5], [1.0, 0.5, 0.5], seed=s) for s in (0, 1)],
        1: [make_run(tmp_path, 1, [0, 8, m], [1.0, 0.1, 0.1], seed=s) for s, m in ((0, 8), (1, 3))],
        2: [make_run(tmp_path, 2, [0, 7, 7], [1.0, 0.2, k], seed=s) for s, k in ((0, 0.2), (1, 0.4))],
    }
    assert search.selection([r[0] for r in runs.values()], options(3))["best"]["index"] == 1
    chosen = search.selection([d for r in runs.values() for d in r], two_seeds(3))
    assert chosen["best"]["index"] == 2 and chosen["setting_seeds"] == [0, 1]
    mean = chosen["settings"][2]
    assert mean["seeds"] == [0, 1] and mean["scores"] == pytest.approx({"modes_covered": 7.0, "reverse_kl": 0.3})
    assert chosen["settings"][1]["scores"]["modes_covered"] == pytest.approx(5.5)
    assert [r["seed"] for r in mean["runs"]] == [0, 1]


def test_a_setting_with_one_diverged_seed_ranks_below_every_setting_without_one(tmp_path):
    runs = [make_run(tmp_path, 0, [0, 4, 4], [1.0, 0.5, 0.5], seed=s) for s in (0, 1)]
    runs += [make_run(tmp_path, 1, [0, 8, 8], [1.0, 0.1, 0.1], seed=0)]
    runs += [make_run(tmp_path, 1, [0, 8, 8], [1.0, 0.1, 0.1], seed=1, status="diverged")]
    chosen = search.selection(runs, two_seeds(2))
    assert chosen["best"]["index"] == 0 and chosen["settings"][1]["diverged"]
    assert chosen["settings"][1]["status"] == "completed, diverged"
    assert chosen["settings"][1]["scores"]["modes_covered"] is None  # a seed without a value: the worst


def test_the_selection_needs_every_seed_of_every_setting(tmp_path):
    runs = [make_run(tmp_path, i, [0, 8, 8], [1.0, 0.5, 0.5], seed=0) for i in (0, 1)]
    runs.append(make_run(tmp_path, 0, [0, 8, 8], [1.0, 0.5, 0.5], seed=1))
    with pytest.raises(ValueError, match=r"setting 1 at the seeds \[0, 1\], got \[0\]"):
        search.selection(runs, two_seeds(2))


def test_a_lower_is_better_metric_selects_the_lowest(tmp_path):
    runs = [make_run(tmp_path, i, [0, 8, 8], [1.0, 0.5, kl]) for i, kl in enumerate([0.3, 0.1, 0.2])]
    assert best_index(runs, metrics=[("reverse_kl", False)]) == 1


def test_the_selection_needs_every_setting_of_the_cell(tmp_path):
    runs = [make_run(tmp_path, i, [0, 8, 8], [1.0, 0.5, 0.5]) for i in (0, 2)]
    with pytest.raises(ValueError, match="expected the settings 0..2"):
        search.selection(runs, options(3))


def test_the_tuning_column_names_the_chosen_search_setting():
    entries = [
        {"dataset": "8gaussians", "variant": "gan", "loss": "wgan", "tuning": "best of 8 settings"},
        {"dataset": "8gaussians", "variant": "gan", "loss": "hinge", "tuning": "paper set-up, untuned"},
    ]
    runs = pd.DataFrame(
        {
            "dataset": ["8gaussians"] * 3,
            "variant": ["gan"] * 3,
            "setting": ["default"] * 3,
            "loss": ["wgan", "wgan", "hinge"],
            "search_setting": ["search-5", "search-5", None],
            "seed": [1, 2, 0],
        }
    )
    out = search.with_tuning(runs, entries)
    assert list(out.columns).index("tuning") == list(out.columns).index("loss") + 1
    assert out["tuning"].tolist() == ["best of 8 settings (search-5)"] * 2 + ["paper set-up, untuned"]
    summary = runs.drop(columns=["search_setting", "seed"]).drop_duplicates()
    assert search.with_tuning(summary, entries, runs)["tuning"].tolist() == [
        "best of 8 settings (search-5)",
        "paper set-up, untuned",
    ]
    assert search.search_columns("gan+fast+search-12") == {"setting": "fast", "search_setting": "search-12"}
    assert search.search_columns("gan+fast") == {}


def settings_of(scores, updates, diverged=None):
    n = len(scores)
    return pd.DataFrame(
        {
            "dataset": "8gaussians",
            "variant": "gan",
            "setting": "default",
            "loss": "wgan",
            "index": range(n),
            "metric": "modes_covered",
            "higher_is_better": True,
            "score": scores,
            "diverged": diverged or [False] * n,
            "d_updates": updates,
            "g_updates": [0] * n,
            "wall_time_share_s": [1.0] * n,
        }
    )


def test_budget_curves_start_at_the_set_up_and_end_at_the_best_of_all():
    table = st.budget_table(settings_of([3, 8, 5, 1, 6], [10] * 5, diverged=[False, False, False, True, False]), 500, 0)
    assert table["settings"].tolist() == [1, 2, 3, 4, 5]
    first, last = table.iloc[0], table.iloc[-1]
    assert first["best_median"] == first["best_band_low"] == first["best_band_high"] == 3  # the set-up alone
    assert last["best_median"] == last["best_band_low"] == last["best_band_high"] == 8  # every setting tried
    assert (np.diff(table["best_median"]) >= 0).all() and table["updates_median"].tolist() == [10, 20, 30, 40, 50]
    # with two settings tried: the set-up and one of the 4 others at random: 8 in a quarter of the orders
    assert table.iloc[1]["best_band_high"] == 8 and table.iloc[1]["best_band_low"] == 3


def test_orders_keep_the_set_up_first_and_shuffle_the_rest():
    orders = st.orders(6, 200, 0)
    assert (orders[:, 0] == 0).all() and all(sorted(o) == list(range(6)) for o in orders)
    assert len({tuple(o) for o in orders}) > 50


def test_equal_compute_counts_what_fits_in_the_cheapest_search():
    cheap = settings_of([2, 4], [10, 10]).assign(loss="hinge")  # 20 updates in all
    dear = settings_of([3, 8, 8], [10, 100, 100])  # only the set-up fits in 20
    table = st.equal_compute(pd.concat([cheap, dear], ignore_index=True), 100, 0).set_index("loss")
    assert table.loc["hinge", "best_within"] == 4 and table.loc["wgan", "best_within"] == 3
    assert (table["equal_updates"] == 20).all()


def test_changes_and_distance_in_units_of_the_range():
    space = {
        "optimizer.lr_d": {"log_uniform": [1e-5, 1e-2]},
        "n_critic": {"int": [1, 5]},
        "variant.params.pack": {"choice": [2, 3, 4]},
    }
    set_up = {"optimizer.lr_d": 1e-4, "n_critic": 1, "variant.params.pack": 2}
    best = {"optimizer.lr_d": 1e-3, "n_critic": 5, "variant.params.pack": 2}
    d = distance(space, set_up, best)
    assert d == pytest.approx({"optimizer.lr_d": 1 / 3, "n_critic": 1.0, "variant.params.pack": 0.0})
    sel = {"space": space, "set_up": set_up, "best": {"values": best}}
    words, rms = st.changes(sel)
    assert words == "lr_d 0.0001->0.001 (x10); n_critic 1->5"
    assert rms == pytest.approx(math.sqrt((1 / 9 + 1) / 3))
    assert st.changes({**sel, "best": {"values": set_up}}) == ("none: the set-up is the best", 0.0)


def test_a_settings_outcome_is_most_of_its_seeds_and_a_tie_goes_to_the_worse():
    compute = {"d_updates": 10, "g_updates": 5, "samples_seen": 100, "wall_time_share_s": 1.5}
    runs = pd.DataFrame(
        [
            {"dataset": "8gaussians", "label": "gan+search-0", "loss": "wgan", "seed": s, "outcome": o, **compute}
            for s, o in enumerate(["converged", "collapsed", "converged"])
        ]
        + [
            {"dataset": "8gaussians", "label": "gan+search-1", "loss": "wgan", "seed": s, "outcome": o, **compute}
            for s, o in enumerate(["converged", "diverged"])
        ]
    )
    table = st.setting_outcomes(runs).set_index("label")
    assert table.loc["gan+search-0", "outcome"] == "converged"
    assert table.loc["gan+search-0", "seed_outcomes"] == "converged 2, collapsed 1"
    assert table.loc["gan+search-1", "outcome"] == "diverged"
    assert table.loc["gan+search-0", "d_updates"] == 30 and table.loc["gan+search-1", "wall_time_share_s"] == 3.0
