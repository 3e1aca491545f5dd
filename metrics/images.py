"""The image side of evaluation: generated images in batches, one feature
extraction per evaluation point shared by every metric, real features computed once
per dataset x extractor (``python -m metrics.images``, the real_features rule), and
PNG sample grids.

    python -m metrics.images --dataset-config '{"name": "mnist", "params": {...}}' \
        --eval-config '{...}' --out results/features/mnist/lenet.pt
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from gans.datasets import build_dataset
from gans.datasets.images import to_uint8
from metrics.extractors import Extractor, build_extractor


def extractor_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


_LOADED: dict[str, Extractor] = {}


def load_extractor(spec: dict[str, Any], device: torch.device | str | None = None) -> Extractor:
    """The extractor of ``spec``, built once per process: one job loads its weights
    once, however many evaluation points (or runs) it measures. A weights file
    rewritten since (same path, new contents) is loaded afresh."""
    device = torch.device(device or extractor_device())
    weights = spec.get("weights_path")
    stamp = os.stat(weights).st_mtime_ns if weights and os.path.isfile(weights) else None
    key = json.dumps([spec, str(device), stamp], sort_keys=True)
    if key not in _LOADED:
        _LOADED[key] = build_extractor(spec, device)
    return _LOADED[key]


@torch.no_grad()
def generate(
    variant, n: int, generator: torch.Generator, batch_size: int, label: int | None = None
) -> tuple[torch.Tensor, bool]:
    """``n`` generated images as uint8 (of class ``label`` when given), drawn batch by
    batch from one noise stream, and whether every generated value was finite (a
    diverged G gives NaN)."""
    parts, done, finite = [], 0, True
    while done < n:
        k = min(batch_size, n - done)
        batch = variant.sample(k, generator) if label is None else variant.sample_class(k, label, generator)
        finite = finite and bool(torch.isfinite(batch).all())
        parts.append(to_uint8(batch).cpu())
        done += k
    return torch.cat(parts), finite


def real_features(dataset, eval_cfg: dict[str, Any], extractor=None) -> dict[str, torch.Tensor]:
    """The extractor's outputs on the first ``num_real`` test images."""
    extractor = extractor or load_extractor(eval_cfg["extractor"])
    real = to_uint8(dataset.real_eval(eval_cfg["images"]["num_real"]))
    return {**extractor.extract(real, eval_cfg["images"]["batch_size"]), "grid": real[: eval_cfg["images"]["grid"]]}


def save_grid(images: torch.Tensor, path: str | Path, per_row: int | None = None) -> None:
    """uint8 (N, C, H, W) images as one PNG, about square unless ``per_row`` is given."""
    from torchvision.utils import save_image

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    rows = per_row or max(1, int(len(images) ** 0.5))
    save_image(images.float() / 255.0, str(path), nrow=rows, padding=1, pad_value=0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m metrics.images", description="Real-data features of one dataset x extractor."
    )
    parser.add_argument("--dataset-config", required=True, help='{"name": ..., "params": {...}} as JSON')
    parser.add_argument("--eval-config", required=True, help="the dataset's resolved evaluation config as JSON")
    parser.add_argument("--out", required=True, help="the features file (.pt)")
    args = parser.parse_args(argv)
    spec, eval_cfg = json.loads(args.dataset_config), json.loads(args.eval_config)
    feats = real_features(build_dataset(spec["name"], **spec["params"]), eval_cfg)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(feats, args.out)
    print(json.dumps({k: list(v.shape) for k, v in feats.items()}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
