"""Evaluate trained runs at every evaluation point: one run, or a population's runs
one after another in one process (what the workflow's evaluate rule runs).

    python -m metrics.evaluate --config config/config.yaml --run results/runs/8gaussians/gan/wgan-gp/seed0
    python -m metrics.evaluate --eval-config '{...}' --runs-from results/populations/<id>.json \
        --marker results/evaluations/<id>.json

Several runs (--run A B ..., and --runs-from a population's training marker, which
lists its members' folders) are evaluated in turn: imports and the extractor load
once, and the real side (the real samples or features, and the metrics' statistics
of them) is made once per dataset and shared (``RealSide``); each run's files and
numbers are those it gets evaluated alone. A run that cannot be evaluated is said
and skipped: the others are still evaluated, and the command then exits non-zero
naming it. Once every run is evaluated, --marker writes the population's evaluation
marker (``gans.layout.EVALUATION``): its id, and each member's folder and files.

Reads each run's snapshots.pt and checkpoint.pt; writes metrics.csv (one row per
evaluation point), metrics.json (final metrics, run status, the resolved
evaluation config, the final generator's metrics under every sampling seed, the
provenance) and samples.npz (generated points at every evaluation point,
real points, and the discriminator's output on a grid, for the figures). On images,
the feature extractor is loaded once, the real features come from the
real_features rule's file, samples.npz holds a grid's worth of uint8 images per
point, and grids/step{N}.png shows them. A conditional variant (cgan) is also asked
for each class in turn: the per-class metrics (metrics/library/conditional.py) join
the same rows, and its per-class samples are kept as fake_classes_{N} (images: also
grids/step{N}_classes.png, one row per class).
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import yaml

from gans import config as gcfg
from gans import layout, population_job, safe_io
from gans.job import build
from gans.provenance import provenance
from gans.runtime import read_json, seed_everything, write_json
from metrics import METRICS
from metrics.config import check_evaluation, resolve_eval
from metrics.config import load as load_config
from metrics.inputs import INPUTS
from metrics.points import PointInputs, contour_grid, variant_eval
from metrics.sampling import final_sampling

TRAINED = (layout.RESOLVED_CONFIG, layout.TRAIN_SUMMARY, layout.SNAPSHOTS, layout.CHECKPOINT)  # what evaluation reads


class RealSide:
    """The real side of evaluation (the real samples or features, and the metrics'
    statistics of them, ``Metric.shared``), made once per dataset x evaluation config
    and shared by the runs one process evaluates: the values each run alone makes."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, dict, dict]] = {}

    def of(self, cfg: dict[str, Any], eval_cfg: dict[str, Any], inputs) -> tuple[Any, dict]:
        """The real samples of ``inputs`` and the metrics' shared statistics of them;
        ``inputs.adjusted`` says what had to differ from ``eval_cfg``, as alone."""
        key = json.dumps([cfg["dataset"], eval_cfg], sort_keys=True, default=str)
        if key not in self._made:
            real = inputs.real()
            self._made[key] = (real, dict(inputs.adjusted), {})
        real, adjusted, shared = self._made[key]
        if adjusted:
            inputs.adjusted = adjusted
        return real, shared


def evaluate(run_dir: str | Path, eval_cfg: dict[str, Any], real_side: RealSide | None = None) -> dict[str, Any]:
    """Evaluate one run; ``real_side``: the real side shared with other runs (none: made here)."""
    run = Path(run_dir)
    cfg = yaml.safe_load((run / layout.RESOLVED_CONFIG).read_text())
    summary = read_json(run / layout.TRAIN_SUMMARY)
    seed_everything(eval_cfg["seed"])
    dataset, variant = build(cfg, "cpu")
    inputs = INPUTS.get(dataset.modality, PointInputs)(dataset, variant, eval_cfg, run)
    real, shared = (real_side or RealSide()).of(cfg, eval_cfg, inputs)
    metrics = [METRICS.get(name)(eval_cfg, dataset, real, shared) for name in eval_cfg["metrics"]]
    per_class = per_class_metrics(variant, inputs, eval_cfg, real, shared)

    snapshots = safe_io.load_tensors(run / layout.SNAPSHOTS)
    rows, samples = measure_snapshots(snapshots, variant, inputs, metrics, per_class, eval_cfg["seed"])
    pd.DataFrame(rows).to_csv(run / layout.METRICS_TABLE, index=False)
    # the final generator (the variant holds the last snapshot) with the other sampling seeds
    sampling = final_sampling(inputs, metrics, eval_cfg, rows[-1]) if summary["status"] != "diverged" else None

    extras = (
        contour_grid(run, cfg, dataset, variant, eval_cfg["contour_resolution"]) if dataset.modality == "points" else {}
    )
    np.savez_compressed(
        run / layout.SAMPLES, steps=np.array(snapshots["steps"]), real=inputs.real_samples(real), **samples, **extras
    )
    result = {
        **final_metrics(rows[-1], summary),
        "sampling": sampling,
        "train": summary,
        "evaluation": eval_cfg,
        # settings that had to differ from eval_cfg (e.g. KID's subset size cut to the real samples there are)
        "adjusted": {k: v for m in [inputs, *metrics] for k, v in getattr(m, "adjusted", {}).items()},
        "provenance": provenance(),
    }
    write_json(result, run / layout.METRICS_FINAL)
    return result


def measure_snapshots(snapshots, variant, inputs, metrics, per_class, seed: int) -> tuple[list[dict], dict]:
    """The metrics at every evaluation point (one row each) and the samples kept for
    the figures; the variant is left holding the last snapshot."""
    rows, samples = [], {}
    for step in snapshots["steps"]:
        variant.load_state_dict(snapshots["states"][step])
        variant_eval(variant)
        # the same noise at every point, so trajectories compare like with like
        fake = inputs.generate(torch.Generator().manual_seed(seed + 1))
        row: dict[str, Any] = {"step": step}
        if inputs.finite(fake):
            measured = inputs.measure(fake)
            for metric in metrics:
                row.update(metric.compute(measured))
            if per_class:  # G asked for each class in turn, from its own noise stream
                by_class = inputs.generate_classes(torch.Generator().manual_seed(seed + 2))
                samples[f"fake_classes_{step}"] = inputs.keep_classes(by_class, step)
                measured = [inputs.measure(f) for f in by_class]
                for metric in per_class:
                    row.update(metric.compute(measured))
        rows.append(row)
        samples[f"fake_{step}"] = inputs.keep(fake, step)
    return rows, samples


def final_metrics(last_row: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The run's status and its metrics at the last evaluation point."""
    last = {k: _clean(v) for k, v in last_row.items()}
    last_step = last.pop("step")
    diverged = summary["status"] == "diverged"
    return {
        "status": summary["status"],
        "reason": summary["reason"],
        # a diverged run has no final model worth measuring: its final metrics are
        # missing, and what it reached before diverging is kept apart
        "final_step": None if diverged else last_step,
        "final": {k: None for k in last} if diverged else last,
        "last_good": {"step": last_step, **last},
    }


def per_class_metrics(variant, inputs, eval_cfg, real, shared=None) -> list:
    """The per-class metrics (metric.per_class) of a conditional variant; none for others."""
    if not variant.conditional:
        return []
    modality = inputs.dataset.modality
    return [
        cls(eval_cfg, inputs.dataset, real, shared)
        for _, cls in METRICS.items()
        if cls.per_class and modality in cls.modalities and (inputs.classifier or not cls.needs_classifier)
    ]


def _clean(v):
    return None if isinstance(v, float) and not np.isfinite(v) else v


# -- the command: runs evaluated in turn, a failed one said and skipped -----------------
def check_trained(run: str | Path) -> None:
    """Refuse a folder whose training outputs are missing or not whole (sizes and
    checksums as training recorded them), before any work on it starts."""
    missing = [name for name in TRAINED if not (Path(run) / name).is_file()]
    if missing:
        raise FileNotFoundError(f"run folder '{run}' lacks {', '.join(missing)}: train it first")
    safe_io.check_training_outputs(run)


# the config's evaluation keys that resolve_eval folds into others or drops
FOLDED = {"extractors", "lenet", "inception", "calibration"}


def check_eval_keys(given: Any) -> None:
    """Refuse an --eval-config that is not a resolved evaluation config (a JSON object
    with every key evaluation reads), naming what it lacks, before any run."""
    from gans.config.schema import section_defaults

    if not isinstance(given, dict):
        raise gcfg.ConfigError(f"--eval-config is a JSON {type(given).__name__}; it takes a resolved evaluation config")
    required = set(section_defaults("evaluation")) - FOLDED
    if "extractor" in given:  # images: the extractor's spec and the real features' file
        required.add("real_features")
    missing = sorted(required - set(given))
    if missing:
        raise gcfg.ConfigError(
            f"--eval-config lacks {', '.join(missing)}: a resolved evaluation config has {', '.join(sorted(required))}"
            " (or give --config CONFIG, whose evaluation section is resolved for each run)"
        )


def eval_configs(args: argparse.Namespace) -> Callable[[str], dict[str, Any]]:
    """Each run's evaluation config: the one given (checked here, before any run), or
    the config's for the run's dataset (checked once per dataset)."""
    if args.eval_config:
        given = json.loads(args.eval_config)
        check_eval_keys(given)
        check_evaluation(given)
        return lambda run: given
    config, by_dataset = load_config(args.config), {}

    def of(run: str) -> dict[str, Any]:
        dataset = yaml.safe_load((Path(run) / layout.RESOLVED_CONFIG).read_text())["dataset"]["name"]
        if dataset not in by_dataset:
            eval_cfg = resolve_eval(config, dataset)
            check_evaluation(eval_cfg)
            by_dataset[dataset] = eval_cfg
        return by_dataset[dataset]

    return of


def failure(exc: Exception) -> tuple[int, str]:
    """The exit code, and the line that says why a run could not be evaluated."""
    if isinstance(exc, safe_io.DamagedFile):  # set aside, so the next snakemake call remakes it
        return 1, safe_io.retrain_message(exc)
    if isinstance(exc, (gcfg.ConfigError, FileNotFoundError)):
        return 2, str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return 1, f"{exc}. Free space there and run the same command again"
    traceback.print_exception(exc)
    return 1, f"{type(exc).__name__}: {exc}"


def evaluate_each(runs: list[str], eval_cfg_of: Callable[[str], dict]) -> tuple[dict[str, dict], dict[str, int]]:
    """Evaluate ``runs`` in turn, the real side shared: each one's results, and the exit
    code of each one that failed (said as it fails; the next run is evaluated still)."""
    real_side, results, failed = RealSide(), {}, {}
    for run in runs:
        try:
            check_trained(run)
            results[run] = evaluate(run, eval_cfg_of(run), real_side)
        except Exception as exc:  # any: one run's failure must not lose the others
            failed[run], line = failure(exc)
            print(f"error: {line}", file=sys.stderr)
            continue
        print(run, json.dumps({"status": results[run]["status"], **results[run]["final"]}), file=sys.stderr)
    return results, failed


def population_members(path: str | None) -> tuple[str | None, list[dict[str, Any]]]:
    """The population's id and members (each with its run folder, ``run``) that its
    training marker (``gans.layout.POPULATION``) lists; none without a marker."""
    if path is None:
        return None, []
    record = read_json(path)
    members = [dict(m) for m in record["members"]]
    if not all(isinstance(m.get("run"), str) for m in members):
        raise ValueError("a member without its run folder")
    return record["population"], members


def evaluation_marker(population: str | None, members: list[dict], results: dict[str, dict]) -> dict[str, Any]:
    """What the evaluation marker records: the population's id and, per member, its
    run folder, its evaluation files and its status."""
    return {
        "population": population,
        "members": [
            {
                **m,
                "files": [str(Path(m["run"], name)) for name in layout.EVAL_FILES],
                "status": results[m["run"]]["status"],
            }
            for m in members
        ],
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metrics.evaluate", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="the config YAML whose evaluation settings to use")
    src.add_argument("--eval-config", help="a resolved evaluation config as JSON (what the pipeline passes)")
    p.add_argument("--run", nargs="+", default=[], help="a trained run's folder, or several (evaluated in turn)")
    p.add_argument("--runs-from", metavar="MARKER", help="a population's training marker: evaluate its members")
    p.add_argument("--marker", help="where to write the evaluation marker once every run is evaluated")
    return p


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if not args.run and not args.runs_from:
        cli.error("give the runs: --run FOLDER ..., or --runs-from a population's training marker")
    try:
        population, members = population_members(args.runs_from)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        cli.exit(2, f"error: --runs-from {args.runs_from} is not a population's training marker ({exc})\n")
    listed = {m["run"] for m in members}
    members += [{"run": run} for run in dict.fromkeys(args.run) if run not in listed]
    try:
        eval_cfg_of = eval_configs(args)
    except (ValueError, FileNotFoundError) as exc:  # a config error, or --eval-config not JSON
        cli.exit(2, f"error: {exc}\n")
    results, failed = evaluate_each([m["run"] for m in members], eval_cfg_of)
    if failed:
        named = f"error: {len(failed)} of {len(members)} runs not evaluated: {', '.join(failed)}\n"
        cli.exit(max(failed.values()), named if len(members) > 1 else None)
    if args.marker:
        population_job.write_marker(args.marker, evaluation_marker(population, members, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
