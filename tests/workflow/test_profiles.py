"""The profiles, checked by dry runs: what each job would ask the scheduler for."""

import re

import pytest
import yaml

from analysis import config as acfg
from gans import config as gcfg
from gans.config import populations as gpop
from gans.datasets import DATASETS
from tests.workflow.conftest import ROOT, STABLE_RULES, snakemake


def dry_run(workdir, configfile, *args):
    proc = snakemake(workdir, "-n", *args, configfile=configfile, timeout=300)
    return proc.stdout + proc.stderr


def jobs(output):
    """(rule, wildcards, resources) of every job in a dry run's output."""
    found = []
    for block in re.split(r"\n(?=\[[^\n]*\]\n(?:local)?rule )", output):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if not rule:
            continue
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        resources = re.search(r"^\s+resources: (.*)$", block, re.M)
        found.append(
            (
                rule.group(1),
                dict(kv.split("=", 1) for kv in wildcards.group(1).split(", ")) if wildcards else {},
                dict(kv.split("=", 1) for kv in resources.group(1).split(", ")) if resources else {},
            )
        )
    return found


def test_full_grid_on_slurm_every_training_job_asks_one_gpu_and_its_datasets_size(tmp_path):
    profile = yaml.safe_load((ROOT / "workflow/profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert (
        profile["default-resources"]["slurm_partition"] == "" and profile["default-resources"]["slurm_account"] == ""
    ), "the users' profile names no site"
    # partition and account from the command line, as the README says
    out = dry_run(
        tmp_path,
        ROOT / "config/full.yaml",
        "--profile",
        str(ROOT / "workflow/profiles/slurm"),
        "--default-resources",
        "slurm_partition=gpu",
        "slurm_account=myproject",
    )
    found = jobs(out)
    config = acfg.load(ROOT / "config/full.yaml")
    # the full config trains each cell's seeds as one population: one job, one GPU
    pops = gpop.populations(config, list(gcfg.grid(config)))
    train = [j for j in found if j[0] == "train"]
    assert len(train) == len(pops) > 0 and max(p.size for p in pops.values()) > 1
    evaluate = [j for j in found if j[0] == "evaluate"]
    assert len(evaluate) == len(pops)  # one job per population
    assert {rule for rule, _, _ in found} <= STABLE_RULES
    for rule, wildcards, resources in train + evaluate:
        pop = pops[wildcards["population"]]
        size = DATASETS.get(pop.dataset).job_resources[rule]
        if rule == "train":
            # batched members train in one run's time on a GPU (twice it, with margin)
            runtime, mem = (
                gpop.runtime(size["runtime"], pop.size, 1),
                gpop.mem_mb(size["mem_mb"], pop.size, pop.cfgs[0]),
            )
            assert resources["gpu"] == "1", resources
        else:
            # its runs one after another, in one run's memory
            runtime, mem = size["runtime"] * pop.size, size["mem_mb"]
            assert resources.get("gpu", "0") == "0", resources  # evaluation runs on the CPU today
        assert (int(resources["runtime"]), int(resources["mem_mb"])) == (runtime, mem), resources
        assert (resources["slurm_partition"], resources["slurm_account"]) == ("gpu", "myproject"), resources


def test_gpu_profile_caps_training_jobs_at_the_gpus_given(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"grid": {"seeds": [0, 1]}}))
    out = dry_run(tmp_path, config, "--profile", str(ROOT / "workflow/profiles/gpu"), "--resources", "gpu=3")
    train = [r for rule, _, r in jobs(out) if rule == "train"]
    grid = acfg.load(config)
    pops = gpop.populations(grid, list(gcfg.grid(grid)))
    assert len(train) == len(pops) > 0 and all(r["gpu"] == "1" for r in train)
    assert all(r.get("gpu", "0") == "0" for rule, _, r in jobs(out) if rule == "evaluate")


@pytest.mark.parametrize("configfile", ["config.yaml", "full.yaml"])
def test_resource_overrides_name_the_stable_rules(tmp_path, configfile):
    """`--set-resources train:...` and `evaluate:...` size every training and evaluation job."""
    out = dry_run(
        tmp_path,
        ROOT / "config" / configfile,
        "--profile",
        str(ROOT / "workflow/profiles/slurm"),
        "--set-resources",
        "train:runtime=240",
        "train:mem_mb=8000",
        "train:gpu=0",
        "evaluate:runtime=77",
        "evaluate:mem_mb=3000",
    )
    found = jobs(out)
    train = [r for rule, _, r in found if rule == "train"]
    evaluate = [r for rule, _, r in found if rule == "evaluate"]
    assert train and evaluate
    assert all((r["runtime"], r["mem_mb"], r.get("gpu", "0")) == ("240", "8000", "0") for r in train), train
    assert all((r["runtime"], r["mem_mb"]) == ("77", "3000") for r in evaluate)
