"""Mode counts of image GANs by classifying samples (no library computes these):
on the MNIST family the classifier's class histogram (classes covered, KL to
uniform); on Stacked MNIST the classifier on each channel, so a mode is a digit
triple: distinct triples of 1,000 and KL(generated || uniform), as in the VEEGAN
and PacGAN tables (26k samples). The extractor's logits already hold one column
per mode (per triple on Stacked MNIST), so both are one histogram."""

from __future__ import annotations

import math

import torch

from metrics import METRICS, Metric


def class_mode_statistics(labels: torch.Tensor, num_modes: int, min_count: int = 1) -> dict[str, float]:
    """Modes (classes) holding at least ``min_count`` samples, and KL(p_generated || uniform)."""
    counts = torch.bincount(labels.flatten(), minlength=num_modes).to(torch.float64)
    p = counts / counts.sum()
    nz = p > 0
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "modes_total": num_modes,
        "reverse_kl": float((p[nz] * torch.log(p[nz] * num_modes)).sum()) if counts.sum() > 0 else math.nan,
    }


@METRICS.register("class-modes")
class ClassModes(Metric):
    modalities = ("images",)
    needs_classifier = True
    higher_is_better = {"modes_covered": True, "reverse_kl": False}

    def compute(self, fake):
        logits = fake["logits"][: self.cfg["images"]["mode_samples"]]
        return class_mode_statistics(logits.argmax(dim=1), logits.shape[1], self.cfg["modes"]["min_count"])
