"""Mode counts of image GANs by classifying samples (no library computes these):
on the MNIST family the classifier's class histogram (classes covered, KL to
uniform); on Stacked MNIST the classifier on each channel, so a mode is a digit
triple: distinct triples of 1,000 and KL(generated || uniform), as in the VEEGAN
and PacGAN tables (26k samples). The extractor's logits already hold one column
per mode (per triple on Stacked MNIST), so both are one histogram.

Only confidently classified samples count (softmax probability of the top class at
least ``evaluation.modes.min_confidence``): the image analogue of the mixtures'
3-std rule. A classifier's argmax spreads uniform noise over every class; its
confident share of noise is about zero, of real test digits most of them. That
share is ``hq_fraction``, as on the mixtures."""

from __future__ import annotations

import math

import torch

from metrics import METRICS, Metric
from metrics.library.modes import mode_set_text


def class_mode_statistics(
    labels: torch.Tensor, num_modes: int, min_count: int = 1, confident: torch.Tensor | None = None
) -> dict[str, float]:
    """Modes (classes) holding at least ``min_count`` confident samples (all samples
    when ``confident`` is None), the confident share, and KL(p_generated || uniform)
    of the confident samples' classes (nan when none is confident)."""
    labels = labels.flatten()
    confident = torch.ones_like(labels, dtype=torch.bool) if confident is None else confident.flatten()
    counts = torch.bincount(labels[confident], minlength=num_modes).to(torch.float64)
    total = counts.sum()
    p = counts / total if total > 0 else counts
    nz = p > 0
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "modes_total": num_modes,
        "hq_fraction": float(confident.double().mean()) if len(labels) else math.nan,
        "reverse_kl": float((p[nz] * torch.log(p[nz] * num_modes)).sum()) if total > 0 else math.nan,
        "modes_set": mode_set_text(counts >= min_count),
    }


def confident_classes(logits: torch.Tensor, min_confidence: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sample's top class and whether its softmax probability reaches ``min_confidence``."""
    top, labels = logits.softmax(dim=1).max(dim=1)
    return labels, top >= min_confidence


@METRICS.register("class-modes")
class ClassModes(Metric):
    modalities = ("images",)
    needs_classifier = True
    higher_is_better = {"modes_covered": True, "hq_fraction": True, "reverse_kl": False}

    def compute(self, fake):
        logits = fake["logits"][: self.cfg["images"]["mode_samples"]]
        labels, confident = confident_classes(logits, self.cfg["modes"]["min_confidence"])
        return class_mode_statistics(labels, logits.shape[1], self.cfg["modes"]["min_count"], confident)
