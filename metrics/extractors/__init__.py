"""Image feature extractors, registered by name, each a torch-fidelity feature
extractor so FID, IS, KID and precision/recall are computed by torch-fidelity on
its features and logits.

An extractor is loaded once per job; images go in as uint8 in large batches. A
one-channel classifier (LeNet) applied to a three-channel dataset (Stacked MNIST)
runs on each channel: features are concatenated and the class log-probabilities
combine into one joint class per channel triple (digit r*100 + g*10 + b).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from gans.registry import Registry

LENET_WEIGHTS = "results/extractors/lenet/{source}.pt"
REAL_FEATURES = "results/features/{dataset}/{extractor}.pt"


class ExtractorError(ValueError):
    """An extractor cannot be used as configured (missing weights, wrong dataset)."""


class Extractor:
    name: ClassVar[str] = "?"
    fidelity_name: ClassVar[str] = ""  # the name in torch-fidelity's registry
    feature_layer: ClassVar[str] = ""  # for FID, KID, precision/recall
    logits_layer: ClassVar[str] = ""  # for IS and class histograms
    input_channels: ClassVar[int] = 3  # images with other channel counts are adapted
    is_classifier: ClassVar[bool] = False  # its logits are the dataset's classes

    def __init__(self, spec: dict[str, Any], device: torch.device | str = "cpu"):
        from torch_fidelity.utils import create_feature_extractor

        self.spec = spec
        self.device = torch.device(device)
        weights = spec.get("weights_path")
        self.model = create_feature_extractor(
            self.fidelity_name,
            [self.feature_layer, self.logits_layer],
            cuda=False,
            verbose=False,
            feature_extractor_weights_path=weights,
        ).to(self.device)

    @classmethod
    def resolve(cls, config: dict, dataset_cls) -> dict[str, Any]:
        """The extractor's part of a resolved evaluation config (checked, concrete)."""
        return {"name": cls.name}

    @torch.no_grad()
    def _run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.convert_features_tuple_to_dict(self.model(x.to(self.device)))
        return out[self.feature_layer].cpu(), out[self.logits_layer].cpu()

    @torch.no_grad()
    def extract(self, images: torch.Tensor, batch_size: int = 500) -> dict[str, torch.Tensor]:
        """uint8 images (N, C, H, W) -> {"features": (N, D), "logits": (N, K)}."""
        feats, logits = [], []
        for batch in images.split(batch_size):
            if batch.shape[1] == self.input_channels:
                f, lg = self._run(batch)
            elif self.input_channels == 3 and batch.shape[1] == 1:
                f, lg = self._run(batch.expand(-1, 3, -1, -1))  # grey -> RGB
            elif self.input_channels == 1:
                parts = [self._run(batch[:, c : c + 1]) for c in range(batch.shape[1])]
                f = torch.cat([p[0] for p in parts], dim=1)
                lg = joint_log_probs([p[1] for p in parts])
            else:
                raise ExtractorError(f"extractor '{self.name}' cannot take {batch.shape[1]}-channel images")
            feats.append(f)
            logits.append(lg)
        return {"features": torch.cat(feats), "logits": torch.cat(logits)}


def joint_log_probs(per_channel_logits: list[torch.Tensor]) -> torch.Tensor:
    """Log-probabilities of every class tuple, channels independent: (N, K**C), with
    tuple (a, b, c) at index a*K*K + b*K + c."""
    joint = per_channel_logits[0].log_softmax(dim=1)
    for lg in per_channel_logits[1:]:
        joint = (joint[:, :, None] + lg.log_softmax(dim=1)[:, None, :]).flatten(1)
    return joint


EXTRACTORS: Registry[type[Extractor]] = Registry("feature extractor", base=Extractor, package=__name__)


def extractor_name(config: dict, dataset: str) -> str:
    """The extractor for a dataset: evaluation.extractors.<dataset>, else the dataset's default."""
    from gans.datasets import DATASETS

    return config["evaluation"]["extractors"].get(dataset) or DATASETS.get(dataset).default_extractor


def resolve(config: dict, dataset: str, metric_names: list[str]) -> dict[str, Any]:
    """The image-only part of a dataset's evaluation config. Metrics that need a
    classifier (class-modes) are left out where the extractor is none (Inception on
    CIFAR-10), and listed as not applicable."""
    from gans.datasets import DATASETS
    from metrics import METRICS

    name = extractor_name(config, dataset)
    cls = EXTRACTORS.get(name)
    dropped = [m for m in metric_names if METRICS.get(m).needs_classifier and not cls.is_classifier]
    return {
        "metrics": [m for m in metric_names if m not in dropped],
        "not_applicable": dropped,
        "extractor": cls.resolve(config, DATASETS.get(dataset)),
        "real_features": REAL_FEATURES.format(dataset=dataset, extractor=name),
    }


def build_extractor(spec: dict[str, Any], device: torch.device | str = "cpu") -> Extractor:
    return EXTRACTORS.get(spec["name"])(spec, device)
