"""The image side of evaluation: what the metrics of images take (``ImageInputs``,
the extractor's outputs), generated images in batches, one feature
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

from gans import layout, safe_io
from gans.datasets import build_dataset
from gans.datasets.images import to_uint8
from metrics.extractors import Extractor, build_extractor
from metrics.points import PointInputs


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


class ImageInputs(PointInputs):
    """Images: metrics take the extractor's outputs (one extraction per point)."""

    class_grid = (10, 8)  # classes x images per class in grids/step{N}_classes.png

    def __init__(self, dataset, variant, eval_cfg, run):
        super().__init__(dataset, variant, eval_cfg, run)
        self.extractor = load_extractor(eval_cfg["extractor"])
        self.classifier = self.extractor.is_classifier
        self.n = max(
            eval_cfg["images"]["num_samples"],
            eval_cfg["images"]["mode_samples"] if "class-modes" in eval_cfg["metrics"] else 0,
        )

    def real(self):
        path = Path(self.cfg["real_features"])
        if not path.is_file():
            raise FileNotFoundError(
                f"real-data features {path} are missing: the real_features rule writes them (python -m metrics.images)"
            )
        real = safe_io.load_tensors(path)
        count, asked = len(real["features"]), self.cfg["images"]["num_real"]
        if count < asked:  # the test split is smaller: said, and recorded in metrics.json
            self.adjusted = {"images.num_real": {"requested": asked, "used": count, "why": "the test split's size"}}
        return real

    def generate(self, gen):
        fake, self._finite = generate(self.variant, self.n, gen, self.cfg["images"]["batch_size"])
        return fake

    def finite(self, fake):
        return self._finite  # uint8 images cannot hold NaN: the generator's output was checked

    def per_class_count(self):
        return max(1, self.cfg["images"]["num_samples"] // self.dataset.num_classes)

    def generate_classes(self, gen):
        bs = self.cfg["images"]["batch_size"]
        return [
            generate(self.variant, self.per_class_count(), gen, bs, label=k)[0] for k in range(self.dataset.num_classes)
        ]

    def keep_classes(self, by_class, step):
        classes, per_class = self.class_grid
        grid = torch.stack([f[:per_class] for f in by_class[:classes]])  # (classes, per_class, C, H, W)
        save_grid(grid.flatten(0, 1), self.run / layout.GRIDS / f"step{step}_classes.png", per_row=grid.shape[1])
        return grid.numpy()

    def measure(self, fake):
        return self.extractor.extract(fake, self.cfg["images"]["batch_size"])

    def keep(self, fake, step):
        grid = fake[: self.cfg["images"]["grid"]]
        save_grid(grid, self.run / layout.GRIDS / f"step{step}.png")
        return grid.numpy()

    def real_samples(self, real):
        return real["grid"].numpy()


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
