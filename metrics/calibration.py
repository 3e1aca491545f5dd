"""Calibration values: what each metric reads for data that is as good as real, and
for output that learned nothing, per dataset x extractor x sample size, measured
once with the evaluation's own protocol (same real side, same metrics, same counts).

    python -m metrics.calibration --run-config RUN_JSON --eval-config EVAL_JSON \
        --out results/calibration/8gaussians/points_2000.json

Kinds, each against the real side of every evaluation:
  real       held-out real data: a fresh sample of the mixture, or the train split's
             images (the real side is the test split); the best a generator can read
  noise      uniform noise: points uniform over the square the figures draw (1.5 x
             the data's extent), images with uniform random pixels
  untrained  the plain GAN's generator of the config's architecture at initialisation

Each kind is measured ``evaluation.calibration.draws`` times (other samples, other
initialisations); the file keeps every draw, their mean (what the outcome rules
use) and their range. The outcome rules (analysis.outcomes) place runs between these
values; the tables and figures show them. Points use the points themselves as
features, so their 'extractor' is ``points``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gans.datasets.images import to_uint8
from gans.job import build
from gans.runtime import seed_everything, write_json
from metrics import METRICS
from metrics.calibration_files import KINDS, extractor_of, sample_size
from metrics.inputs import INPUTS
from metrics.points import PointInputs, variant_eval

DRAW_SEED = 7919  # the draws' seeds: evaluation seed + DRAW_SEED * (draw + 1), apart from evaluation's


def calibrate(run_cfg: dict[str, Any], eval_cfg: dict[str, Any], draws: int = 3) -> dict[str, Any]:
    """Every metric of ``eval_cfg`` for each kind and draw; see the module's docstring."""
    seed_everything(eval_cfg["seed"])
    dataset, variant = build(run_cfg, "cpu")
    images = dataset.modality == "images"
    inputs = INPUTS.get(dataset.modality, PointInputs)(dataset, variant, eval_cfg, None)
    real = inputs.real()
    metrics = [METRICS.get(name)(eval_cfg, dataset, real) for name in eval_cfg["metrics"]]
    n = sample_size(eval_cfg)
    values: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for draw in range(draws):
        seed = eval_cfg["seed"] + DRAW_SEED * (draw + 1)
        gen = torch.Generator().manual_seed(seed)
        seed_everything(seed)
        _, fresh = build(run_cfg, "cpu")  # an untrained generator of this draw's initialisation
        variant_eval(fresh)
        inputs.variant = fresh
        if dataset.modality == "dirac":
            measured_by_kind = dirac_references(inputs, gen)
        else:
            samples = {
                "real": held_out_real(dataset, n, gen, images),
                "noise": uniform_noise(dataset, n, gen, images),
                "untrained": inputs.generate(gen),
            }
            measured_by_kind = {kind: inputs.measure(fake) for kind, fake in samples.items()}
        for kind, measured in measured_by_kind.items():
            row: dict[str, Any] = {}
            for metric in metrics:
                row.update(metric.compute(measured))
            values[kind].append(row)
    return {
        "dataset": dataset.name,
        "extractor": extractor_of(eval_cfg),
        "num_samples": n,
        "draws": draws,
        "evaluation": eval_cfg,
        "untrained_generator": {k: run_cfg[k] for k in ("architecture", "noise_dim")},
        **{kind: summarize(rows) for kind, rows in values.items()},
    }


def dirac_references(inputs, gen: torch.Generator) -> dict[str, dict[str, float]]:
    """The Dirac-GAN's reference points in (theta, psi): the equilibrium itself (real),
    a point uniform in the phase portrait's square [-2, 2]^2 (noise), and the untrained
    players' start."""
    theta, psi = (torch.rand(2, generator=gen, dtype=torch.float64) * 4 - 2).tolist()
    return {
        "real": {"theta": 0.0, "psi": 0.0},
        "noise": {"theta": theta, "psi": psi},
        "untrained": inputs.measure(None),
    }


def held_out_real(dataset, n: int, gen: torch.Generator, images: bool) -> torch.Tensor:
    """Real data the real side has not seen: a fresh mixture sample, or train images (uint8)."""
    if not images:
        return dataset.sample(n, gen)
    train = dataset.split(True)[0]
    idx = torch.randperm(len(train), generator=gen)[: min(n, len(train))]
    return to_uint8(train[idx])


def uniform_noise(dataset, n: int, gen: torch.Generator, images: bool) -> torch.Tensor:
    if images:
        return torch.randint(0, 256, (n, *dataset.shape), generator=gen, dtype=torch.uint8)
    extent = float(dataset.centers.abs().max()) * 1.5 + 0.1  # the square of the figures' contours
    return (torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1).float() * extent


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, min and max over the draws of every numeric value, and the draws themselves."""
    out: dict[str, Any] = {"mean": {}, "min": {}, "max": {}, "draws": rows}
    for key in rows[0]:
        v = np.array([r[key] for r in rows if isinstance(r[key], (int, float))], dtype=float)
        if len(v) == 0:
            continue
        finite = v[np.isfinite(v)]
        out["mean"][key] = float(finite.mean()) if len(finite) else math.nan
        out["min"][key] = float(finite.min()) if len(finite) else math.nan
        out["max"][key] = float(finite.max()) if len(finite) else math.nan
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.calibration", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-config", required=True, help="a resolved run config as JSON: its untrained generator")
    parser.add_argument("--eval-config", required=True, help="the dataset's resolved evaluation config as JSON")
    parser.add_argument("--draws", type=int, default=3, help="draws of each kind (evaluation.calibration.draws)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.draws < 1:
        parser.error("--draws must be at least 1")
    record = calibrate(json.loads(args.run_config), json.loads(args.eval_config), args.draws)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(record, args.out)
    print(json.dumps({kind: record[kind]["mean"] for kind in KINDS}, default=float), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
