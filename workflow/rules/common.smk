# The grid and the paths, built once from the validated config.
import json
import os
import re

from gans import config as gcfg
from gans.datasets import DATASETS

RUN = "results/runs/{dataset}/{variant}/{loss}/seed{seed}"
RUNS = list(gcfg.grid(config))
DATASETS_IN_GRID = config["grid"]["datasets"]
TRAIN_FILES = ["config.resolved.yaml", "train_log.csv", "snapshots.pt", "checkpoint.pt", "train_summary.json"]
EVAL_FILES = ["metrics.csv", "metrics.json", "samples.npz"]
TABLES = expand(
    "results/tables/{name}",
    name=["runs.csv", "runs.md", "summary.csv", "summary.md", "trajectories.csv", "train_logs.csv"],
)
FIGURES = [
    "results/figures/{dataset}/points.png",
    "results/figures/{dataset}/heatmap_modes.png",
    "results/figures/{dataset}/distributions.png",
    "results/figures/{dataset}/trajectories.png",
    "results/figures/{dataset}/training_curves.png",
]


# Wildcards match only names in the grid, so a typo in a target matches no rule.
def _alternatives(names):
    return "|".join(re.escape(str(n)) for n in names)


wildcard_constraints:
    dataset=_alternatives(config["grid"]["datasets"]),
    variant=_alternatives(config["grid"]["variants"]),
    loss=_alternatives(config["grid"]["losses"]),
    seed=r"\d+",


def run_files(names, dataset=None):
    """The given files of every run in the grid (or of one dataset)."""
    return [
        f"{RUN}/{name}".format(**run)
        for run in RUNS
        if dataset is None or run["dataset"] == dataset
        for name in names
    ]


def dataset_samples(wildcards):
    return run_files(["samples.npz"], wildcards.dataset)


def train_params(wildcards):
    run = gcfg.resolve_run(config, wildcards.dataset, wildcards.variant, wildcards.loss, int(wildcards.seed))
    return json.dumps(run, sort_keys=True)


def eval_params(wildcards):
    return json.dumps(gcfg.resolve_eval(config, wildcards.dataset), sort_keys=True)


def figure_params(wildcards):
    return json.dumps({**config["figures"], "analysis": config["analysis"]}, sort_keys=True)


def output_folder(wildcards, output):
    return os.path.dirname(output[0])


def input_folder(wildcards, input):
    return os.path.dirname(input[0])


def input_run_folders(wildcards, input):
    """The run folders, from the aggregate rule's inputs (one metrics.json each)."""
    return sorted({os.path.dirname(f) for f in input if f.endswith("metrics.json")})


def skipped_cells(wildcards):
    return json.dumps(gcfg.skipped(config))


# Job sizes come from the dataset's registry entry (runtime in minutes, mem_mb, gpu), so
# a new dataset brings its own; a profile's set-resources overrides them.
def _dataset_resource(step, key):
    def resource(wildcards):
        return DATASETS.get(wildcards.dataset).job_resources[step][key]

    resource.__name__ = f"{step}_{key}"
    return resource


train_runtime = _dataset_resource("train", "runtime")
train_mem_mb = _dataset_resource("train", "mem_mb")
evaluate_runtime = _dataset_resource("evaluate", "runtime")
evaluate_mem_mb = _dataset_resource("evaluate", "mem_mb")
train_gpu = _dataset_resource("train", "gpu")
evaluate_gpu = _dataset_resource("evaluate", "gpu")
