"""The search's finalists (search.finalists): their seeds, populations and selection,
and the tables' columns, on configs and constructed results."""

import copy
import math

import pandas as pd
import pytest

from analysis import config as acfg
from analysis import search
from analysis import search_tables as st
from gans.config import ConfigError
from gans.config import populations as gpop
from gans.config import search as gsearch
from tests.conftest import TINY
from tests.unit.test_search_select import make_run, options


def searched(**section):
    cfg = copy.deepcopy(TINY)
    cfg["grid"] = {**cfg["grid"], "losses": ["nonsaturating"], "seeds": [0]}
    cfg["search"] = {"budget": 5, "seeds_for_best": 3, **section}
    cfg["train"] = {**cfg["train"], "population_size": 4}
    return acfg.validate(cfg)


def test_finalists_train_their_seeds_after_the_settings_and_before_the_best():
    plain, final = searched(seeds_per_setting=2), searched(seeds_per_setting=2, finalists=3, seeds_per_finalist=5)
    assert gsearch.finalist_seeds(plain) == [] and gsearch.best_seeds(plain) == [2, 3, 4]
    assert gsearch.setting_seeds(final) == [0, 1]
    assert gsearch.finalist_seeds(final) == [2, 3, 4, 5, 6] and gsearch.best_seeds(final) == [7, 8, 9]
    assert gsearch.runs(final) == gsearch.runs(plain)  # the settings' runs are the same
    assert {e["tuning"] for e in gsearch.tuning(final)} == {
        "best of 5 settings (2 seeds each); of its 3 finalists on 5 more seeds"
    }


def test_more_finalists_than_settings_is_refused_naming_the_valid_range():
    with pytest.raises(ConfigError, match=r"search.finalists.*6 finalists of 5 settings; choose 0 to 5"):
        searched(finalists=6)


def test_each_finalist_has_populations_known_by_id_before_the_selection():
    config = searched(finalists=2, seeds_per_finalist=5)
    ids = gpop.finalist_ids(config, "8gaussians", "gan", "nonsaturating")
    cell = "8gaussians/gan/nonsaturating"
    assert ids == [f"{cell}/final{j}-{k}" for j in range(2) for k in range(2)]  # 5 seeds in chunks of 4
    assert gpop.late_ids(config) == ids + [f"{cell}/best0"]
    assert gpop.finalist_rank(ids[3]) == 1 and gpop.finalist_rank(f"{cell}/best0") is None
    chunk = gpop.late_population(config, ids[3], "gan+search-4")
    assert [(r["variant"], r["seed"]) for r in chunk.runs] == [("gan+search-4", 5)]
    assert chunk.cfgs[0]["search"]["index"] == 4
    best = gpop.late_population(config, f"{cell}/best0", "gan+search-2")
    assert [r["seed"] for r in best.runs] == [6, 7, 8]
    assert gpop.cell_of(ids[0]) == {"dataset": "8gaussians", "variant": "gan", "loss": "nonsaturating"}


def finalist_options(budget, finalists, finalist_seeds):
    return {**options(budget), "setting_seeds": [0], "finalists": finalists, "finalist_seeds": finalist_seeds}


def test_the_final_pick_is_the_finalist_with_the_best_mean_over_all_its_seeds(tmp_path):
    """Seed 0: setting 1 covers every mode, setting 2 seven, setting 0 five: the finalists
    are 1 and 2 in that order. Over seeds 1 and 2 setting 1 covers 3 and 4, setting 2
    covers 7 and 8: the final pick is setting 2, the first selection's runner-up."""
    first_runs = [
        make_run(tmp_path, 0, [0, 5, 5], [1.0, 0.5, 0.5]),
        make_run(tmp_path, 1, [0, 8, 8], [1.0, 0.1, 0.1]),
        make_run(tmp_path, 2, [0, 7, 7], [1.0, 0.2, 0.2]),
    ]
    opts = finalist_options(3, 2, [1, 2])
    first = search.selection(first_runs, opts)
    assert first["best"]["index"] == 1 and [f["index"] for f in first["finalists"]] == [1, 2]
    more = [make_run(tmp_path, 1, [0, 8, m], [1.0, 0.1, 0.1], seed=s) for s, m in ((1, 3), (2, 4))]
    more += [make_run(tmp_path, 2, [0, 7, m], [1.0, 0.2, 0.2], seed=s) for s, m in ((1, 7), (2, 8))]
    final = search.final_selection(first, first_runs[1:] + more, opts)
    assert final["best"]["index"] == 2 and final["first_best"]["index"] == 1
    scores = {e["index"]: e["scores"]["modes_covered"] for e in final["finalist_scores"]}
    assert scores == pytest.approx({1: 5.0, 2: 22 / 3})
    assert final["settings"] == first["settings"]  # the first selection's scores are kept
    # a finalist's missing seed is refused, naming the seeds it needs
    with pytest.raises(ValueError, match=r"expected setting 2 at the seeds \[0, 1, 2\], got \[0, 1\]"):
        search.final_selection(first, first_runs[1:] + more[:3], opts)
    with pytest.raises(ValueError, match=r"expected the finalists \[1, 2\], got the settings \[1\]"):
        search.final_selection(first, [first_runs[1], *more[:2]], opts)


def test_a_selection_is_read_only_when_made_with_the_configs_options(tmp_path):
    """A later call reads a selection file as written only if it was made with the
    options the config now gives its checkpoint (another budget, seeds or finalists: not)."""
    runs = [make_run(tmp_path, i, [0, m, m], [1.0, 0.5, 0.5]) for i, m in enumerate((5, 8, 7))]
    more = [make_run(tmp_path, i, [0, 8, 8], [1.0, 0.1, 0.1], seed=1) for i in (1, 2)]
    opts = finalist_options(3, 2, [1])
    first = search.selection(runs, opts)
    final = search.final_selection(first, runs[1:] + more, opts)
    plain = {k: v for k, v in opts.items() if k not in ("finalists", "finalist_seeds")}
    assert search.made_with(first, opts) and search.made_with(final, opts)
    assert search.made_with(search.selection(runs, plain), plain)
    for other in (
        plain,  # no finalists now
        finalist_options(3, 1, [1]),  # fewer finalists
        {**opts, "seeds": [4, 5, 6]},  # other fresh seeds
        {**opts, "budget": 4},
        {**opts, "space": {"optimizer.lr_d": {"log_uniform": [1e-4, 1e-2]}}},
    ):
        assert not search.made_with(first, other) and not search.made_with(final, other)
    assert not search.made_with(final, finalist_options(3, 2, [1, 2]))  # more finalist seeds


def test_the_tables_carry_each_finalists_mean_and_say_how_the_best_was_chosen():
    entry = {"label": "gan+search-{}", "values": {"optimizer.lr_d": 1e-4}, "diverged": False}
    settings = [
        {**entry, "index": i, "label": f"gan+search-{i}", "scores": {"modes_covered": 8.0 - i}} for i in range(3)
    ]
    sel = {
        **{k: v for k, v in options(3).items() if k != "space"},
        "setting_seeds": [0, 1],
        "metrics": [["modes_covered", True]],
        "best": {"index": 2},
        "finalists": [{"index": 0}, {"index": 2}],
        "finalist_seeds": [2, 3, 4],
        "finalist_scores": [
            {"index": 0, "scores": {"modes_covered": 6.5}},
            {"index": 2, "scores": {"modes_covered": 7.0}},
        ],
        "settings": settings,
    }
    run = {
        "dataset": "8gaussians",
        "loss": "nonsaturating",
        "outcome": "converged",
        **dict.fromkeys(st.compute.COLUMNS, 1),
    }
    outcomes = pd.DataFrame([{**run, "label": f"gan+search-{i}", "seed": 0} for i in range(3)])
    table = st.settings_table([sel], outcomes)
    assert table["finalist_score"].tolist()[0] == 6.5 and math.isnan(table["finalist_score"].tolist()[1])
    assert table["selected"].tolist() == [False, False, True]
    assert st.tuning_text(sel) == "best of 3 settings (2 seeds each); of its 2 finalists on 3 more seeds"
