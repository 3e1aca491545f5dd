"""Populations of the workflow (gans/config/populations.py): which runs one job trains,
their ids, the job's size, what the dry run prints, and the marker a job leaves."""

import copy
import json
import os
from pathlib import Path

import pytest
import yaml

from analysis import config as acfg
from gans import config as gcfg
from gans import layout, population_job
from gans.config import populations as gpop
from gans.config import search
from tests.conftest import TINY


def validated(**train):
    cfg = copy.deepcopy(TINY)
    cfg["grid"]["seeds"] = [0, 1, 2, 3, 4]
    cfg["train"] = {**cfg["train"], **train}
    return acfg.validate(cfg)


def test_a_cells_seeds_group_by_the_cap_in_order_with_predictable_ids():
    config = validated(population_size=2)
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert list(pops) == [
        "8gaussians/gan/nonsaturating/p0",
        "8gaussians/gan/nonsaturating/p1",
        "8gaussians/gan/nonsaturating/p2",
        "8gaussians/gan/wgan-gp/p0",
        "8gaussians/gan/wgan-gp/p1",
        "8gaussians/gan/wgan-gp/p2",
    ]
    assert [r["seed"] for r in pops["8gaussians/gan/wgan-gp/p1"].runs] == [2, 3]
    assert [c["seed"] for c in pops["8gaussians/gan/wgan-gp/p2"].cfgs] == [4]
    index = gpop.run_populations(pops)
    assert index[("8gaussians", "gan", "nonsaturating", 3)] == "8gaussians/gan/nonsaturating/p1"
    assert len(index) == 10


def test_the_default_cap_puts_a_cells_seeds_in_one_population():
    config = validated()
    assert config["train"]["population_size"] == 64
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert {p: pop.size for p, pop in pops.items()} == {
        "8gaussians/gan/nonsaturating/p0": 5,
        "8gaussians/gan/wgan-gp/p0": 5,
    }


def test_the_default_config_trains_each_cells_seeds_as_one_population():
    config = gcfg.load(gcfg.ROOT / "config/config.yaml")
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert len(pops) == 12 and all(p.size == 20 for p in pops.values())
    assert [r["seed"] for r in pops["8gaussians/gan/wgan-gp/p0"].runs] == list(range(20))
    # spectral normalisation (hinge's set-up) batches on MLPs
    assert pops["25gaussians/gan/hinge/p0"].not_batched() is None


def test_conv_nets_train_one_run_per_member():
    config = gcfg.load(gcfg.ROOT / "config/digits.yaml")
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert all(p.size == 1 for p in pops.values()) and "digits/gan/nonsaturating/p0" in pops


def test_settings_of_a_search_share_a_population_unless_a_discrete_choice_splits_them():
    cfg = copy.deepcopy(TINY)
    cfg["grid"] = {**cfg["grid"], "losses": ["nonsaturating"], "seeds": [0]}
    space = {"architecture.params.width": {"choice": [16, 24]}, "n_critic": {"choice": [1, 2]}}
    cfg["search"] = {"budget": 6, "seeds_for_best": 5, "losses": {"nonsaturating": space}}
    cfg["train"] = {**cfg["train"], "population_size": 64}
    config = acfg.validate(cfg)
    pops = gpop.populations(config, search.runs(config))
    widths = {p: {c["architecture"]["params"]["width"] for c in pop.cfgs} for p, pop in pops.items()}
    assert all(len(v) == 1 for v in widths.values())  # a width: another network shape
    assert len(pops) == len(set().union(*widths.values())) >= 2
    critic = [c["n_critic"] for pop in pops.values() for c in pop.cfgs]
    assert set(critic) == {1, 2} and any(len({c["n_critic"] for c in pop.cfgs}) == 2 for pop in pops.values())
    config["train"]["population_size"] = 2
    pops = gpop.populations(config, search.runs(config))
    assert sum(p.size for p in pops.values()) == 6 and all(p.size <= 2 for p in pops.values())
    assert all(p.startswith("8gaussians/gan/nonsaturating/s") for p in pops)  # a search's own ids
    # the best setting's five new seeds: chunks of two, known by id before the selection
    assert gpop.best_ids(config) == [f"8gaussians/gan/nonsaturating/best{k}" for k in range(3)]
    best = gpop.late_population(config, "8gaussians/gan/nonsaturating/best1", "gan+search-3")
    assert [(r["variant"], r["seed"]) for r in best.runs] == [("gan+search-3", 3), ("gan+search-3", 4)]
    assert best.cfgs[0]["search"]["index"] == 3
    assert gpop.best_population_of(config, "8gaussians", "gan+search-3", "nonsaturating", 5) == best.id.replace(
        "best1", "best2"
    )
    assert gpop.cell_of(best.id) == {"dataset": "8gaussians", "variant": "gan", "loss": "nonsaturating"}


@pytest.mark.parametrize(
    "size, gpu, runtime, mem",
    [
        (1, 1, 60, 2000),
        (3, 1, 120, 3000),  # batched on a GPU: one run's time, twice for margin
        (64, 0, 60 * 22, 2000 * 16.75),  # batched on a CPU: size / 3 runs' time
    ],
)
def test_a_jobs_size_scales_with_its_population(size, gpu, runtime, mem):
    assert gpop.runtime(60, size, gpu) == runtime
    assert gpop.mem_mb(2000, size) == mem


def test_a_jobs_memory_covers_its_members_networks_where_they_are_large():
    from gans.config import cost

    config = validated()
    cfg = gcfg.resolve_run(config, "8gaussians", "gan", "nonsaturating", 0)
    assert gpop.mem_mb(2000, 64, cfg) == gpop.mem_mb(2000, 64)  # the toy MLP: the share of one run's memory
    wide = {**cfg, "architecture": {"name": "mlp", "params": {"width": 4096, "depth": 3}}}
    wide["train"] = {**cfg["train"], "batch_size": 4096}
    estimate = cost.BASE_BYTES + 64 * cost.step_cost(wide).member_bytes
    assert gpop.mem_mb(2000, 64, wide) * 2**20 >= 2 * estimate > gpop.mem_mb(2000, 64) * 2**20


def test_the_dry_run_line_names_the_members_and_why_they_are_not_batched():
    config = validated(population_size=3)
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert gpop.describe(pops["8gaussians/gan/wgan-gp/p0"]) == (
        "population 8gaussians/gan/wgan-gp/p0: 3 members (gan x seed 0, 1, 2), batched"
    )
    assert gpop.describe(pops["8gaussians/gan/wgan-gp/p1"]).endswith("2 members (gan x seed 3, 4), batched")
    cfg = copy.deepcopy(TINY)
    cfg["grid"] = {**cfg["grid"], "variants": ["infogan"], "losses": ["nonsaturating"]}
    config = acfg.validate(cfg)
    pops = gpop.populations(config, list(gcfg.grid(config)))
    assert [p.size for p in pops.values()] == [1, 1]  # one run per member
    assert gpop.describe(pops["8gaussians/infogan/nonsaturating/p1"]) == (
        "population 8gaussians/infogan/nonsaturating/p1: 1 member (infogan x seed 1), "
        "one run per member: variant 'infogan' trains one seed at a time"
    )


def test_a_marker_goes_stale_when_a_members_files_are_gone(tmp_path):
    runs = [tmp_path / "seed0", tmp_path / "seed1"]
    cfgs = []
    for seed, run in enumerate(runs):
        run.mkdir()
        for name in layout.TRAIN_FILES:
            (run / name).write_text("{}" if name != layout.TRAIN_SUMMARY else json.dumps({"status": "completed"}))
        cfgs.append({"seed": seed, "dataset": {"name": "d"}, "variant": {"name": "gan"}, "loss": {"name": "l"}})
    marker = tmp_path / layout.POPULATION.format(population="d/gan/l/p0")
    evaluated = tmp_path / layout.EVALUATION.format(population="d/gan/l/p0")
    population_job.write_marker(marker, population_job.marker("d/gan/l/p0", cfgs, [str(r) for r in runs]))
    population_job.write_marker(evaluated, {"population": "d/gan/l/p0", "members": [{"run": str(r)} for r in runs]})
    record = json.loads(marker.read_text())
    assert [m["seed"] for m in record["members"]] == [0, 1] and record["members"][1]["status"] == "completed"
    for run in runs:
        for name in layout.EVAL_FILES:
            (run / name).write_text("{}")
    assert population_job.clear_stale(["d/gan/l/p0", "d/gan/l/absent"], root=tmp_path) == []
    (runs[1] / layout.CHECKPOINT).unlink()
    assert population_job.stale(marker) == {str(runs[1]): [f"{runs[1]}/{layout.CHECKPOINT} is gone"]}
    (runs[1] / layout.CHECKPOINT).write_text("{}")
    os.utime(runs[1] / layout.CHECKPOINT, ns=(marker.stat().st_mtime_ns + 10**9,) * 2)
    assert population_job.stale(marker) == {str(runs[1]): [f"{runs[1]}/{layout.CHECKPOINT} changed after training"]}
    (notes,) = population_job.clear_stale(["d/gan/l/p0"], root=tmp_path)
    assert notes.endswith("checkpoint.pt changed after training; the population's job runs again")
    assert not marker.exists() and not evaluated.exists() and not (runs[1] / layout.METRICS_FINAL).exists()
    assert (runs[0] / layout.METRICS_FINAL).exists()  # a member whose training stands keeps its evaluation
    marker.write_text("not json")
    assert population_job.stale(marker) == {str(marker): [f"{marker} cannot be read"]}


def test_runs_trained_with_other_settings_under_the_same_names_are_found_with_the_first_difference(tmp_path):
    cfgs = [{"seed": s, "dataset": {"name": "d"}, "variant": {"name": "gan"}, "loss": {"name": "l"}} for s in (0, 1, 2)]
    cfgs = [{**c, "train": {"steps": 10}} for c in cfgs]
    runs = [str(tmp_path / f"seed{c['seed']}") for c in cfgs]
    for cfg, run in zip(cfgs, runs, strict=True):
        Path(run).mkdir()
        Path(run, layout.TRAIN_SUMMARY).write_text(json.dumps({"status": "completed"}))
        Path(run, layout.RESOLVED_CONFIG).write_text(yaml.safe_dump(cfg))
    marker = tmp_path / layout.POPULATION.format(population="d/gan/l/p0")
    population_job.write_marker(marker, population_job.marker("d/gan/l/p0", cfgs[:2], runs[:2]))
    ours = {run: {**cfg, "train": {"steps": 20}} for cfg, run in zip(cfgs, runs, strict=True)}
    # seed 2 has no marker (never trained by a population job): not counted
    assert population_job.replaced_runs(ours, root=tmp_path) == {
        runs[0]: "train.steps: this config 20 vs the run there 10",
        runs[1]: "",
    }
    assert population_job.replaced_runs(dict(zip(runs, cfgs, strict=True)), root=tmp_path) == {}
    # a later marker of the same runs (this config's, trained since) wins over the earlier
    later = tmp_path / layout.POPULATION.format(population="d/gan/l/s0")
    population_job.write_marker(later, population_job.marker("d/gan/l/s0", list(ours.values())[:2], runs[:2]))
    os.utime(later, ns=(marker.stat().st_mtime_ns + 10**9,) * 2)
    assert population_job.replaced_runs(ours, root=tmp_path) == {}


def test_an_evaluation_marker_goes_stale_when_a_members_evaluation_files_are_gone(tmp_path):
    runs = [tmp_path / "seed0", tmp_path / "seed1"]
    for run in runs:
        run.mkdir()
        for name in layout.EVAL_FILES:
            (run / name).write_text("{}")
    trained = tmp_path / layout.POPULATION.format(population="d/gan/l/p0")
    evaluated = tmp_path / layout.EVALUATION.format(population="d/gan/l/p0")
    population_job.write_marker(evaluated, {"population": "d/gan/l/p0", "members": [{"run": str(r)} for r in runs]})
    assert population_job.stale_evaluation(evaluated) == {}
    (runs[0] / layout.SAMPLES).unlink()
    assert population_job.stale_evaluation(evaluated) == {str(runs[0]): [f"{runs[0] / layout.SAMPLES} is gone"]}
    (notes,) = population_job.clear_stale(["d/gan/l/p0"], root=tmp_path)  # no training marker: not trained yet
    assert notes == f"{evaluated}: {runs[0] / layout.SAMPLES} is gone; the population is evaluated again"
    assert not evaluated.exists() and (runs[1] / layout.METRICS_FINAL).exists() and not trained.exists()
    evaluated.parent.mkdir(parents=True, exist_ok=True)
    evaluated.write_text("{")
    assert population_job.stale_evaluation(evaluated) == {str(evaluated): [f"{evaluated} cannot be read"]}


def test_a_population_job_keeps_its_finished_members_and_trains_the_rest(tiny_config, tmp_path, capsys):
    cfgs = [gcfg.resolve_run(tiny_config, "8gaussians", "gan", "wgan-gp", seed) for seed in (0, 1)]
    outs = [str(tmp_path / f"seed{c['seed']}") for c in cfgs]
    marker = tmp_path / "p0.json"
    args = ["--population", "8gaussians/gan/wgan-gp/p0", "--marker", str(marker)]
    assert population_job.main([*args, "--run-config", json.dumps(cfgs[:1]), "--out", outs[0]]) == 0
    first = (tmp_path / "seed0" / layout.TRAIN_SUMMARY).stat().st_mtime_ns
    assert population_job.finished(cfgs[0], outs[0]) and not population_job.finished(cfgs[1], outs[1])
    capsys.readouterr()
    assert population_job.main([*args, "--run-config", json.dumps(cfgs), "--out", *outs]) == 0
    assert f"kept (a finished run of the same config): {outs[0]}" in capsys.readouterr().err
    assert (tmp_path / "seed0" / layout.TRAIN_SUMMARY).stat().st_mtime_ns == first
    assert [m["seed"] for m in json.loads(marker.read_text())["members"]] == [0, 1]
    assert population_job.finished(cfgs[1], outs[1])
    other = {**cfgs[0], "train": {**cfgs[0]["train"], "steps": 20}}
    assert not population_job.finished(other, outs[0])  # another config: trained again
