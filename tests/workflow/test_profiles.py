"""The profiles, checked by dry runs: what each job would ask the scheduler for."""

import re

import pytest
import yaml

from analysis import config as acfg
from gans import config as gcfg
from gans.config.grid import dataset_seed_groups
from gans.datasets import DATASETS
from gans.stacking import reason_not_stackable
from tests.workflow.conftest import ROOT, snakemake


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
    train = [j for j in found if j[0].startswith("train")]
    # the full config stacks each cell's seeds into one job (train.seeds_per_job)
    cells = {(r["dataset"], r["variant"], r["loss"]) for r in gcfg.grid(config)}
    assert len(train) == sum(len(dataset_seed_groups(config, d)) for d, _, _ in cells) > 0
    assert config["train"]["seeds_per_job"] > 1 and all(rule.startswith("train_seeds_") for rule, _, _ in train)
    evaluate = [j for j in found if j[0].startswith("evaluate")]
    assert len(evaluate) == len(train) and all(
        rule.startswith("evaluate_seeds_") for rule, _, _ in evaluate
    )  # as trained
    for rule, wildcards, resources in found:
        step = rule.split("_")[0]
        if step not in ("train", "evaluate"):
            continue
        size = DATASETS.get(wildcards["dataset"]).job_resources[step]
        assert resources.get("gpu", "0") == ("1" if step == "train" else "0"), (
            resources
        )  # evaluation runs on the CPU today
        seeds = len(re.findall(r"_(\d+)", rule.split("_block")[0]))
        run = gcfg.resolve_run(config, wildcards["dataset"], wildcards["variant"], wildcards["loss"], 0)
        # stacked seeds train in one run's time (twice it, with margin); seeds of other variants, and a
        # group's evaluations, run one after another
        stacked = step == "train" and reason_not_stackable(run) is None
        runtime = size["runtime"] * (2 if stacked else seeds)
        assert int(resources["runtime"]) == runtime and int(resources["mem_mb"]) == size["mem_mb"], resources
        assert (resources["slurm_partition"], resources["slurm_account"]) == ("gpu", "myproject"), resources


def test_gpu_profile_caps_training_jobs_at_the_gpus_given(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"grid": {"seeds": [0, 1]}}))
    out = dry_run(tmp_path, config, "--profile", str(ROOT / "workflow/profiles/gpu"), "--resources", "gpu=3")
    train = [r for rule, _, r in jobs(out) if rule == "train"]
    assert len(train) == 24 and all(r["gpu"] == "1" for r in train)
    assert all(r.get("gpu", "0") == "0" for rule, _, r in jobs(out) if rule == "evaluate")


@pytest.mark.parametrize("configfile", ["config.yaml", "full.yaml"])
def test_resource_overrides_reach_every_job_of_the_family(tmp_path, configfile):
    """`--set-resources train:...` sizes every training job, whatever the seed grouping
    (train_seeds_0_1_2, ...); an override naming one group's rule wins for it."""
    config = acfg.load(ROOT / "config" / configfile)
    groups = list(gcfg.seed_groups(config))
    assert groups, "both configs train seeds in groups"
    one = f"train_{groups[0]}"
    out = dry_run(
        tmp_path,
        ROOT / "config" / configfile,
        "--profile",
        str(ROOT / "workflow/profiles/slurm"),
        "--set-resources",
        "train:runtime=240",
        "train:mem_mb=8000",
        "train:gpu=0",
        f"{one}:runtime=999",
        "evaluate:runtime=77",
        "evaluate:mem_mb=3000",
    )
    found = jobs(out)
    train = [(rule, r) for rule, _, r in found if rule.startswith("train_seeds") or rule == "train"]
    evaluate = [r for rule, _, r in found if rule.startswith("evaluate")]
    assert train and evaluate
    for rule, r in train:
        assert r["runtime"] == ("999" if rule == one else "240"), (rule, r)
        assert (r["mem_mb"], r.get("gpu", "0")) == ("8000", "0"), (rule, r)
    assert all((r["runtime"], r["mem_mb"]) == ("77", "3000") for r in evaluate)
