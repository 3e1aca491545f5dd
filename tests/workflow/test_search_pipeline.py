"""The search through the real Snakemake pipeline: every setting its own run folder,
a checkpoint picks each cell's best, whose new seeds are what the tables compare; a
larger budget then trains only the new settings, the selections and what follows."""

import copy
import json

import pandas as pd
import pytest
import yaml

from analysis.search import select
from tests.conftest import TINY
from tests.workflow.conftest import rule_counts, snakemake

pytestmark = pytest.mark.slow

LOSSES = ["nonsaturating", "wgan-gp"]
SEARCH = {
    **copy.deepcopy(TINY),
    "grid": {"datasets": ["8gaussians"], "variants": ["gan"], "losses": LOSSES},
    "search": {"budget": 2, "seeds_for_best": 2},
}
SEARCH["evaluation"] = {**SEARCH["evaluation"], "metrics": {"points": ["modes"]}}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("search")
    (workdir / "config.yaml").write_text(yaml.safe_dump(SEARCH, sort_keys=False))
    snakemake(workdir, "results/search/tables/search_best.csv")  # figures are not needed here
    return workdir


def test_each_setting_has_its_folder_and_each_cell_its_selection(searched):
    for loss in LOSSES:
        for i in range(2):
            cfg = yaml.safe_load(
                (searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed0/config.resolved.yaml").read_text()
            )
            assert cfg["variant"]["label"] == f"gan+search-{i}" and cfg["search"]["index"] == i
        chosen = json.loads((searched / f"results/search/8gaussians/gan/{loss}/selection.json").read_text())
        assert [s["index"] for s in chosen["settings"]] == [0, 1] and chosen["seeds"] == [1, 2]
        best = chosen["best"]["label"]
        for seed in (1, 2):  # the best setting's new seeds, in its own folder
            assert (searched / f"results/runs/8gaussians/{best}/{loss}/seed{seed}/metrics.json").is_file()


def test_the_tables_compare_the_best_settings_new_seeds(searched):
    runs = pd.read_csv(searched / "results/tables/runs.csv")
    assert sorted(runs["seed"].unique()) == [1, 2] and set(runs["setting"]) == {"default"}
    assert runs["tuning"].str.match(r"best of 2 settings \(search-[01]\)").all()
    for column in ("d_updates", "g_updates", "samples_seen", "wall_time_share_s"):
        assert (runs[column] > 0).all()
    assert (runs["d_updates"] == runs["steps_completed"] * runs["hp.n_critic"]).all()
    summary = pd.read_csv(searched / "results/tables/summary.csv")
    assert summary["tuning"].str.startswith("best of 2 settings").all() and (summary["seeds"] == 2).all()
    best = pd.read_csv(searched / "results/search/tables/search_best.csv")
    assert sorted(best["loss"]) == sorted(LOSSES) and (best["seeds"] == 2).all()
    settings = pd.read_csv(searched / "results/search/tables/search_settings.csv")
    assert len(settings) == 4 and settings.groupby("loss")["selected"].sum().eq(1).all()


def test_a_damaged_selection_is_set_aside_and_made_again(searched):
    path = searched / "results/search/8gaussians/gan/nonsaturating/selection.json"
    before = json.loads(path.read_text())
    path.write_text(path.read_text()[:40])  # cut short, as by a killed writer
    proc = snakemake(searched, "results/search/tables/search_best.csv")
    assert "selection.json cannot be read" in proc.stderr and path.with_name("selection.json.damaged").is_file()
    assert json.loads(path.read_text())["best"] == before["best"]  # the same runs select the same setting


def test_a_larger_budget_trains_only_the_new_settings(searched):
    """budget 2 -> 6: per cell 4 new settings to train, the selection and what depends on
    it; no run already trained is trained again (its population's job keeps it)."""
    config = copy.deepcopy(SEARCH)
    config["search"]["budget"] = 6
    (searched / "larger.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    target = "results/search/tables/search_best.csv"
    counts = rule_counts(searched, target, configfile="larger.yaml")
    cells = len(LOSSES)
    # a population that grows trains its new members only, and is evaluated again as a whole
    assert counts["search_select"] == cells and counts["evaluate"] == counts["train"] > 0
    assert set(counts) - {"train", "evaluate", "search_select"} <= {"aggregate", "search_tables", "total"}
    summaries = {
        (i, loss): searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed0/train_summary.json"
        for i in range(2)
        for loss in LOSSES
    }
    old = {key: path.stat().st_mtime_ns for key, path in summaries.items()}
    proc = snakemake(searched, target, configfile="larger.yaml")
    assert {key: path.stat().st_mtime_ns for key, path in summaries.items()} == old
    for i in range(6):
        for loss in LOSSES:
            assert (searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed0/metrics.json").is_file()
    assert "kept (a finished run of the same config)" in proc.stderr


def test_two_seeds_per_setting_train_only_the_new_seeds_and_select_on_both(searched):
    """seeds_per_setting 1 -> 2: each setting trains seed 1 beside its seed 0 (a best
    setting's seed 1 is kept), the selection scores both, and the best's new seeds move
    to 2 and 3."""
    config = copy.deepcopy(SEARCH)
    config["search"]["seeds_per_setting"] = 2
    (searched / "two_seeds.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    seed0 = {
        (i, loss): searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed0/train_summary.json"
        for i in range(2)
        for loss in LOSSES
    }
    old = {key: path.stat().st_mtime_ns for key, path in seed0.items()}
    snakemake(searched, "results/search/tables/search_best.csv", configfile="two_seeds.yaml")
    assert {key: path.stat().st_mtime_ns for key, path in seed0.items()} == old
    for loss in LOSSES:
        chosen = json.loads((searched / f"results/search/8gaussians/gan/{loss}/selection.json").read_text())
        assert chosen["setting_seeds"] == [0, 1] and chosen["seeds"] == [2, 3]
        assert all(s["seeds"] == [0, 1] for s in chosen["settings"])
    runs = pd.read_csv(searched / "results/tables/runs.csv")
    assert sorted(runs["seed"].unique()) == [2, 3]
    assert runs["tuning"].str.match(r"best of 2 settings \(2 seeds each\) \(search-[01]\)").all()
    settings = pd.read_csv(searched / "results/search/tables/search_settings.csv")
    seeds = settings["seed_outcomes"].str.findall(r"\d+").map(lambda counts: sum(map(int, counts)))
    assert len(settings) == 4 and seeds.eq(2).all()


def test_finalists_train_more_seeds_and_the_best_of_them_is_picked_on_all(searched):
    """finalists 2 on one more seed (after two seeds per setting): both settings train
    seed 2, a second checkpoint picks the best of them on seeds 0-2, and the best's new
    seeds move to 3 and 4; the settings' runs are kept."""
    config = copy.deepcopy(SEARCH)
    config["search"].update(seeds_per_setting=2, finalists=2, seeds_per_finalist=1)
    (searched / "finalists.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    kept = {
        (i, loss, s): searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed{s}/train_summary.json"
        for i in range(2)
        for loss in LOSSES
        for s in (0, 1)
    }
    old = {key: path.stat().st_mtime_ns for key, path in kept.items()}
    snakemake(searched, "results/search/tables/search_best.csv", configfile="finalists.yaml")
    assert {key: path.stat().st_mtime_ns for key, path in kept.items()} == old
    for loss in LOSSES:
        final = json.loads((searched / f"results/search/8gaussians/gan/{loss}/final.json").read_text())
        assert final["finalist_seeds"] == [2] and final["seeds"] == [3, 4]
        assert sorted(e["index"] for e in final["finalist_scores"]) == [0, 1]
        assert all(e["seeds"] == [0, 1, 2] for e in final["finalist_scores"])
        metrics = [tuple(m) for m in final["metrics"]]
        assert final["best"]["index"] == select(final["finalist_scores"], metrics)["index"]
        for i in range(2):
            assert (searched / f"results/runs/8gaussians/gan+search-{i}/{loss}/seed2/metrics.json").is_file()
    runs = pd.read_csv(searched / "results/tables/runs.csv")
    assert sorted(runs["seed"].unique()) == [3, 4]
    assert runs["tuning"].str.match(r"best of 2 settings \(2 seeds each\); of its 2 finalists on 1 more seed \(").all()
    settings = pd.read_csv(searched / "results/search/tables/search_settings.csv")
    seeds = settings["seed_outcomes"].str.findall(r"\d+").map(lambda counts: sum(map(int, counts)))
    assert len(settings) == 4 and seeds.eq(3).all() and settings["finalist_score"].notna().all()


def test_after_a_finalists_search_the_tables_rerun_alone_on_the_final_selections(searched):
    """A later call that reruns only the tables reads each cell's final selection as it is:
    no selection, training or evaluation runs again, and the tables compare the same seeds."""
    target = "results/search/tables/search_best.csv"
    counts = rule_counts(searched, target, "--forcerun", "aggregate", configfile="finalists.yaml")
    assert counts == {"aggregate": 1, "search_tables": 1, "total": 2}
    before = pd.read_csv(searched / "results/tables/runs.csv")
    snakemake(searched, target, "--forcerun", "aggregate", configfile="finalists.yaml")
    after = pd.read_csv(searched / "results/tables/runs.csv")
    assert sorted(after["run"]) == sorted(before["run"]) and sorted(after["seed"].unique()) == [3, 4]
