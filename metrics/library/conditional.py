"""Per-class metrics of conditional variants (cgan): G is asked for each class in
turn, and each sample is labelled by what the data says it is (the mode it lands
on for mixtures, the LeNet classifier's class for images). No library computes
these.

  class_accuracy      share of the samples asked for class k that are of class k
                      (mixtures: high-quality samples of mode k), averaged over k
  class_accuracy_min  the worst class's accuracy: a class G ignores shows here
  modes_per_class     distinct modes (classes) the samples of one class land on,
                      averaged over classes; 1 for a perfectly conditioned G
"""

from __future__ import annotations

import torch

from metrics import METRICS, Metric
from metrics.library.modes import assign_modes


def conditional_statistics(assigned: list[torch.Tensor], min_count: int = 1) -> dict[str, float]:
    """``assigned[k]``: the class each sample asked for as class k turned out to be
    (-1: none)."""
    accuracy = torch.tensor([float((a == k).double().mean()) for k, a in enumerate(assigned)])
    hit = [torch.bincount(a[a >= 0], minlength=len(assigned)) for a in assigned]
    return {
        "class_accuracy": float(accuracy.mean()),
        "class_accuracy_min": float(accuracy.min()),
        "modes_per_class": float(torch.tensor([float((h >= min_count).sum()) for h in hit]).mean()),
    }


@METRICS.register("class-conditional")
class ClassConditional(Metric):
    modalities = ("points", "images")
    per_class = True
    needs_classifier = True  # on images: the extractor's logits are the dataset's classes
    higher_is_better = {"class_accuracy": True, "class_accuracy_min": True, "modes_per_class": False}

    def assign(self, fake) -> torch.Tensor:
        if isinstance(fake, dict):  # extractor outputs of images
            return fake["logits"].argmax(dim=1)
        return assign_modes(fake, self.dataset.centers, self.dataset.mode_std, self.cfg["modes"]["hq_std"])

    def compute(self, per_class):
        return conditional_statistics([self.assign(f) for f in per_class], self.cfg["modes"]["min_count"])
