"""Where a run's files live, named once: the workflow's rules, the trainer, the
evaluation, the aggregation and the figures all take these names from here.

    results/runs/{dataset}/{variant}/{loss}/seed{seed}/
        config.resolved.yaml  train_log.csv  snapshots.pt  checkpoint.pt  train_summary.json
        metrics.csv  metrics.json  samples.npz  (grids/ for images)
"""

from __future__ import annotations

RUN = "results/runs/{dataset}/{variant}/{loss}/seed{seed}"  # {variant} is the grid label
# written after a population's training job (gans.population_job): its members and their folders
POPULATION = "results/populations/{population}.json"
# written after a population's evaluation job (metrics.evaluate): its members' folders and files
EVALUATION = "results/evaluations/{population}.json"
# what a job's params hold for runs whose setting a search cell's selection names, while that
# selection is not made for this config (the CLIs refuse it, saying what to do)
PENDING = "<pending: a search cell's selection for this config>"
PENDING_HELP = (
    "a search cell's selection is not made for this config yet (its checkpoint was skipped, for example"
    " by --rerun-triggers without params): run snakemake again with the default rerun triggers, or delete"
    " results/search/<dataset>/<cell>/<loss>/selection.json, so that the selection is made first"
)

# written by training (gans.train)
RESOLVED_CONFIG = "config.resolved.yaml"
TRAIN_LOG = "train_log.csv"
SNAPSHOTS = "snapshots.pt"
CHECKPOINT = "checkpoint.pt"
TRAIN_SUMMARY = "train_summary.json"
TRAIN_FILES = [RESOLVED_CONFIG, TRAIN_LOG, SNAPSHOTS, CHECKPOINT, TRAIN_SUMMARY]
# not a declared output: Snakemake deletes the outputs of a failed job, and this file
# must survive a killed or preempted job so the next attempt continues
RESUME = "resume.pt"

# written by evaluation (metrics.evaluate)
METRICS_TABLE = "metrics.csv"
METRICS_FINAL = "metrics.json"
SAMPLES = "samples.npz"
EVAL_FILES = [METRICS_TABLE, METRICS_FINAL, SAMPLES]
GRIDS = "grids"  # image runs: a PNG sample grid per evaluation point


def run_dir(dataset: str, variant: str, loss: str, seed: int) -> str:
    """A run's folder (``variant`` is its grid label)."""
    return RUN.format(dataset=dataset, variant=variant, loss=loss, seed=seed)
