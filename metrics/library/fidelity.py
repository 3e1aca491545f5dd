"""FID, KID and precision/recall through torch-fidelity's feature-level functions;
density and coverage through the authors' ``prdc`` package.

On 2-D data the features are the points themselves; on images they are the chosen
extractor's features (LeNet or Inception, see metrics.extractors), and IS uses its
logits. Real-data statistics are computed once per job (``Metric.shared``).
"""

from __future__ import annotations

import contextlib
import io
import sys

import torch
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD, isc_features_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric
from torch_fidelity.metric_prc import (
    KEY_METRIC_F_SCORE,
    KEY_METRIC_PRECISION,
    KEY_METRIC_RECALL,
    prc_features_to_metric,
)

from metrics import METRICS, Metric


class FeatureMetric(Metric):
    modalities = ("points", "images")

    def features(self, x: torch.Tensor | dict[str, torch.Tensor], real: bool = False) -> torch.Tensor:
        if isinstance(x, dict):  # extractor outputs of images; the real ones are num_real already
            x = x["features"] if real else x["features"][: self.cfg["images"]["num_samples"]]
        # float64 for the covariance and distances on low-dimensional features
        return x.detach().flatten(1).to("cpu", torch.float64)

    @property
    def real_features(self) -> torch.Tensor:
        if "real_features" not in self.shared:
            self.shared["real_features"] = self.features(self.real, real=True)
        return self.shared["real_features"]


@METRICS.register("fid")
class FrechetDistance(FeatureMetric):
    higher_is_better = {"fid": False}

    def compute(self, fake):
        if "fid_stats" not in self.shared:
            self.shared["fid_stats"] = fid_features_to_statistics(self.real_features)
        fake_stats = fid_features_to_statistics(self.features(fake))
        return {"fid": fid_statistics_to_metric(fake_stats, self.shared["fid_stats"], verbose=False)[KEY_METRIC_FID]}


@METRICS.register("kid")
class KernelDistance(FeatureMetric):
    higher_is_better = {"kid": False}

    def __init__(self, eval_cfg, dataset, real, shared=None):
        super().__init__(eval_cfg, dataset, real, shared)
        self.adjusted: dict[str, dict] = {}  # settings used other than asked (metrics.json records them)

    def compute(self, fake):
        feats = self.features(fake)
        requested = self.cfg["kid"]["subset_size"]
        size = min(requested, len(feats), len(self.real_features))
        if size < requested and not self.adjusted:  # fewer real images than asked for: said, and recorded
            self.adjusted["kid.subset_size"] = {
                "requested": requested,
                "used": size,
                "why": f"{len(feats)} generated and {len(self.real_features)} real samples",
            }
            print(
                f"note: KID subsets of {size} samples, not {requested}: {len(self.real_features)} real", file=sys.stderr
            )
        out = kid_features_to_metric(
            feats,
            self.real_features,
            kid_subsets=self.cfg["kid"]["subsets"],
            kid_subset_size=size,
            rng_seed=self.cfg["seed"],
            verbose=False,
        )
        return {"kid": out[KEY_METRIC_KID_MEAN], "kid_std": out[KEY_METRIC_KID_STD]}


@METRICS.register("prc")
class PrecisionRecall(FeatureMetric):
    """Improved precision and recall (Kynkaanniemi et al. 2019), k-NN manifolds."""

    higher_is_better = {"precision": True, "recall": True, "f_score": True}

    def compute(self, fake):
        out = prc_features_to_metric(
            self.features(fake),
            self.real_features,  # torch-fidelity: generated first, real second
            prc_neighborhood=self.cfg["prc"]["neighborhood"],
            prc_batch_size=10000,
            save_cpu_ram=False,
            verbose=False,
        )
        return {
            "precision": out[KEY_METRIC_PRECISION],
            "recall": out[KEY_METRIC_RECALL],
            "f_score": out[KEY_METRIC_F_SCORE],
        }


@METRICS.register("prdc")
class DensityCoverage(FeatureMetric):
    """Density and coverage (Naeem et al. 2020) with the authors' ``prdc`` package:
    density counts how many real k-NN balls hold each generated sample (divided by k;
    about 1 when the distributions match, above 1 where samples crowd dense real
    regions); coverage is the share of real samples whose k-NN ball holds a generated
    one. Same features and counts as precision/recall; k is ``evaluation.prdc.nearest_k``
    (5, the paper's)."""

    higher_is_better = {"density": True, "coverage": True}

    def compute(self, fake):
        from prdc import compute_prdc  # imported here: it loads scikit-learn (a second per job)

        with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the sample counts
            out = compute_prdc(
                real_features=self.real_features.numpy(),
                fake_features=self.features(fake).numpy(),
                nearest_k=self.cfg["prdc"]["nearest_k"],
            )
        return {"density": float(out["density"]), "coverage": float(out["coverage"])}


@METRICS.register("isc")
class InceptionScore(Metric):
    """IS on the extractor's logits (Inception's for CIFAR-10; LeNet's for the
    MNIST family, where the maximum is the number of classes)."""

    modalities = ("images",)
    higher_is_better = {"isc": True, "isc_std": False}

    def compute(self, fake):
        logits = fake["logits"][: self.cfg["images"]["num_samples"]]
        out = isc_features_to_metric(
            logits, splits=self.cfg["images"]["isc_splits"], shuffle=True, rng_seed=self.cfg["seed"]
        )
        return {"isc": out[KEY_METRIC_ISC_MEAN], "isc_std": out[KEY_METRIC_ISC_STD]}
