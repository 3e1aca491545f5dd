"""LeNet: a small MNIST-family classifier, trained once per dataset by the pipeline
(seeded, test accuracy recorded), registered with torch-fidelity as the feature
extractor ``gans-lenet``: its 128-d penultimate layer feeds FID, KID and
precision/recall, its logits IS and the class histograms of mode counting.

    python -m metrics.extractors.lenet --dataset-config '{"name": "mnist", "params": {...}}' \
        --train-config '{"epochs": 2, ...}' --out results/extractors/lenet/mnist.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from gans.datasets import build_dataset
from gans.runtime import seed_everything, set_threads, write_json
from metrics.extractors import EXTRACTORS, LENET_WEIGHTS, Extractor, ExtractorError

FIDELITY_NAME = "gans-lenet"


def lenet(size: int, num_classes: int = 10) -> nn.Sequential:
    """Two 5x5 conv + max-pool stages, a 128-unit hidden layer, the class logits."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (size // 4) ** 2, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, num_classes),
    )


class FeatureExtractorLeNet(FeatureExtractorBase):
    """torch-fidelity feature extractor over a trained LeNet checkpoint: uint8
    (N, 1, H, W) in, ("features", "logits") out."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None or not Path(feature_extractor_weights_path).is_file():
            raise ExtractorError(
                f"LeNet weights not found: {feature_extractor_weights_path} "
                f"(the pipeline's train_lenet rule writes them)"
            )
        ckpt = torch.load(feature_extractor_weights_path, weights_only=True)
        self.net = lenet(ckpt["size"], ckpt["num_classes"])
        self.net.load_state_dict(ckpt["state_dict"])
        self.requires_grad_(False)
        self.eval()

    def forward(self, x):
        x = x.to(torch.float32).div(127.5).sub(1.0)
        features = self.net[:9](x)  # up to the hidden layer's ReLU
        out = {"features": features, "logits": self.net[9:](features)}
        return tuple(out[name] for name in self.features_list)

    @staticmethod
    def get_provided_features_list():
        return "features", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, 28, 28, dtype=torch.uint8)


if FIDELITY_NAME not in FEATURE_EXTRACTORS_REGISTRY:  # importing twice must not re-register
    register_feature_extractor(FIDELITY_NAME, FeatureExtractorLeNet)


@EXTRACTORS.register("lenet")
class LeNet(Extractor):
    fidelity_name = FIDELITY_NAME
    feature_layer = "features"
    logits_layer = "logits"
    input_channels = 1
    is_classifier = True

    @classmethod
    def resolve(cls, config, dataset_cls):
        source = dataset_cls.classifier_source
        if source is None:
            raise ExtractorError(
                f"no LeNet classifier is defined for dataset '{dataset_cls.name}' "
                f"(config key 'evaluation.extractors.{dataset_cls.name}'); use inception"
            )
        return {"name": cls.name, "source": source, "weights_path": LENET_WEIGHTS.format(source=source)}


# -- training -------------------------------------------------------------------------
def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    net.eval()
    with torch.no_grad():
        correct = sum(
            int((net(x).argmax(1) == y).sum())
            for x, y in zip(images.split(batch_size), labels.split(batch_size), strict=True)
        )
    return correct / len(labels)


def train_lenet(dataset, train_cfg: dict, out: str | Path) -> dict:
    """Train on the dataset's train split, measure on its test split, save the
    checkpoint and a JSON record (accuracy, settings, time) beside it."""
    set_threads(train_cfg["threads"])
    seed_everything(train_cfg["seed"])
    images, labels = dataset.split(True)
    test_images, test_labels = dataset.split(False)
    size, classes = images.shape[-1], int(labels.max()) + 1
    net = lenet(size, classes)
    opt = torch.optim.Adam(net.parameters(), lr=train_cfg["lr"])
    gen = torch.Generator().manual_seed(train_cfg["seed"])
    start = time.perf_counter()
    steps = 0
    for _ in range(train_cfg["epochs"]):
        net.train()
        for idx in torch.randperm(len(images), generator=gen).split(train_cfg["batch_size"]):
            loss = nn.functional.cross_entropy(net(images[idx]), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    record = {
        "dataset": dataset.name,
        "test_accuracy": accuracy(net, test_images, test_labels),
        "train_accuracy": accuracy(net, images, labels),
        "test_images": len(test_labels),
        "steps": steps,
        "size": size,
        "num_classes": classes,
        "train": train_cfg,
        "wall_time_s": round(time.perf_counter() - start, 1),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": net.state_dict(), "size": size, "num_classes": classes}, out)
    write_json(record, out.with_suffix(".json"))
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics.extractors.lenet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset-config", required=True, help='{"name": ..., "params": {...}} as JSON')
    parser.add_argument("--train-config", required=True, help="evaluation.lenet settings as JSON")
    parser.add_argument("--out", required=True, help="the checkpoint (.pt); a .json record is written beside it")
    args = parser.parse_args(argv)
    spec = json.loads(args.dataset_config)
    record = train_lenet(build_dataset(spec["name"], **spec["params"]), json.loads(args.train_config), args.out)
    print(json.dumps(record), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
