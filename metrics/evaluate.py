"""Evaluate one trained run at every evaluation point.

    python -m metrics.evaluate --config config/config.yaml --run results/runs/8gaussians/gan/wgan-gp/seed0

Several --run folders are evaluated one after another in one process, so imports and
the extractor load once (the pipeline evaluates each run in its own job).

Reads the run's snapshots.pt and checkpoint.pt; writes metrics.csv (one row per
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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import yaml

from gans import config as gcfg
from gans import layout, safe_io
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


def evaluate(run_dir: str | Path, eval_cfg: dict[str, Any]) -> dict[str, Any]:
    run = Path(run_dir)
    cfg = yaml.safe_load((run / layout.RESOLVED_CONFIG).read_text())
    summary = read_json(run / layout.TRAIN_SUMMARY)
    seed_everything(eval_cfg["seed"])
    dataset, variant = build(cfg, "cpu")
    inputs = INPUTS.get(dataset.modality, PointInputs)(dataset, variant, eval_cfg, run)
    real = inputs.real()
    metrics = [METRICS.get(name)(eval_cfg, dataset, real) for name in eval_cfg["metrics"]]
    per_class = per_class_metrics(variant, inputs, eval_cfg, real)

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


def per_class_metrics(variant, inputs, eval_cfg, real) -> list:
    """The per-class metrics (metric.per_class) of a conditional variant; none for others."""
    if not variant.conditional:
        return []
    modality = inputs.dataset.modality
    return [
        cls(eval_cfg, inputs.dataset, real)
        for _, cls in METRICS.items()
        if cls.per_class and modality in cls.modalities and (inputs.classifier or not cls.needs_classifier)
    ]


def _clean(v):
    return None if isinstance(v, float) and not np.isfinite(v) else v


def checked_inputs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each run's evaluation config, once every folder's training outputs are found
    whole (sizes and checksums as training recorded them) and every setting checked:
    before any work starts."""
    for run in args.run:
        missing = [name for name in TRAINED if not (Path(run) / name).is_file()]
        if missing:
            raise FileNotFoundError(f"run folder '{run}' lacks {', '.join(missing)}: train it first")
        safe_io.check_training_outputs(run)
    if args.eval_config:
        eval_cfgs = [json.loads(args.eval_config)] * len(args.run)
    else:
        config = load_config(args.config)
        datasets = [
            yaml.safe_load((Path(run) / layout.RESOLVED_CONFIG).read_text())["dataset"]["name"] for run in args.run
        ]
        eval_cfgs = [resolve_eval(config, dataset) for dataset in datasets]
    for eval_cfg in eval_cfgs:
        check_evaluation(eval_cfg)
    return eval_cfgs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.evaluate", description=__doc__.split("\n\n")[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="the config YAML whose evaluation settings to use")
    src.add_argument("--eval-config", help="a resolved evaluation config as JSON (what the pipeline passes)")
    parser.add_argument(
        "--run",
        required=True,
        nargs="+",
        help="a trained run's folder, or several (evaluated one after another in this process)",
    )
    args = parser.parse_args(argv)
    try:
        eval_cfgs = checked_inputs(args)
        for run, eval_cfg in zip(args.run, eval_cfgs, strict=True):
            result = evaluate(run, eval_cfg)
            print(run, json.dumps({"status": result["status"], **result["final"]}), file=sys.stderr)
    except (gcfg.ConfigError, FileNotFoundError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except safe_io.DamagedFile as exc:  # set aside, so the next snakemake call remakes it
        parser.exit(1, f"error: {safe_io.retrain_message(exc)}\n")
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        parser.exit(1, f"error: {exc}. Free space there and run the same command again\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
