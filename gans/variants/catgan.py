"""CatGAN (Springenberg, 2016): the discriminator is a K-way classifier trained
with the entropy objectives of the ``catgan`` loss.

Semi-supervised CatGAN (the paper's eq. 9) is an option: with
``labeled_per_class`` > 0, D's loss also gets ``supervised_weight`` times the
cross-entropy of its class prediction on a minibatch of a fixed labelled set,
``labeled_per_class`` real examples of each class drawn once (seeded by the run's
seed) from the training data. K is then the dataset's number of classes.
``classes`` (K) defaults to the dataset's number of classes where it has labels
(else 10)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gans.datasets import build_dataset
from gans.variants import VARIANTS
from gans.variants.gan import GAN

LABELED_SEED_OFFSET = 7_919  # the labelled set has its own stream: the unsupervised run is unchanged


@VARIANTS.register("catgan")
class CatGAN(GAN):
    reference = "Springenberg 2016"
    stackable = False  # its networks or steps are written for one seed
    supported_losses = ("catgan",)
    param_schema = {
        "classes": {"type": ["integer", "null"], "minimum": 2},
        "labeled_per_class": {"minimum": 0},
        "supervised_weight": {"minimum": 0},
    }
    defaults = {"classes": None, "labeled_per_class": 0, "supervised_weight": 1.0}

    @classmethod
    def check(cls, run_cfg):
        p = cls.resolve_params(run_cfg["variant"]["params"])
        if p["classes"] is not None and p["classes"] < 2:
            raise ValueError(f"classes must be at least 2, got {p['classes']}")
        if not p["labeled_per_class"]:
            return
        dataset = build_dataset(run_cfg["dataset"]["name"], **run_cfg["dataset"]["params"])
        if not dataset.labeled:
            raise ValueError(
                f"labeled_per_class (semi-supervised CatGAN) needs class labels, which dataset '{dataset.name}' lacks"
            )
        if p["classes"] not in (None, dataset.num_classes):
            raise ValueError(
                f"semi-supervised CatGAN classifies the dataset's {dataset.num_classes} classes; "
                f"classes is {p['classes']} (leave it unset)"
            )

    @property
    def num_outputs(self) -> int:
        """K: D's classes."""
        if self.classes is not None:
            return self.classes
        return self.dataset.num_classes if self.dataset.labeled else 10

    def build(self):
        super().build()
        if self.labeled_per_class:
            g = torch.Generator(device=self.device).manual_seed(self.cfg["seed"] + LABELED_SEED_OFFSET)
            self.labeled_x, self.labeled_y = self.dataset.labeled_subset(self.labeled_per_class, g, self.device)

    def make_discriminator(self):
        return self.arch.discriminator(self.dataset.shape, out_dim=self.num_outputs)

    def d_extra(self, real, fake, info):
        if not self.labeled_per_class:
            return {}
        # a minibatch of the labelled set, as large as the real batch
        idx = torch.randperm(len(self.labeled_y), device=self.device)[: real.shape[0]]
        logits = self.d_outputs(self.labeled_x[idx])
        return {"supervised": self.supervised_weight * F.cross_entropy(logits, self.labeled_y[idx])}

    @torch.no_grad()
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """D's class for each sample."""
        return self.d_outputs(x).argmax(dim=1)
