"""Measuring: metrics of generated samples against real ones, registered by name,
and what turns a trained run into numbers (``metrics.evaluate``: a run folder in,
metrics.csv and metrics.json out). It imports ``gans``, never ``analysis``.

A metric is built once per evaluated run with the real samples and then called on
the generated samples of every evaluation point; the real samples' statistics are
computed once per evaluation job (``Metric.shared``), however many runs it
evaluates. On images, "samples" are the feature extractor's outputs, a dict
{"features": (N, D), "logits": (N, K)}, so every metric shares one extraction.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from gans.registry import Registry


class Metric:
    name: ClassVar[str] = "?"
    modalities: ClassVar[tuple[str, ...]] = ("points",)
    # the columns compute() returns, and whether higher is better for each
    higher_is_better: ClassVar[dict[str, bool]] = {}
    # needs an extractor whose logits are the dataset's classes (images only)
    needs_classifier: ClassVar[bool] = False
    # measured on samples drawn class by class, for conditional variants only:
    # compute() then gets a list, one entry per class, and evaluation adds such
    # metrics by itself (they are not listed in evaluation.metrics)
    per_class: ClassVar[bool] = False

    def __init__(self, eval_cfg: dict[str, Any], dataset, real: torch.Tensor, shared: dict | None = None):
        self.cfg = eval_cfg
        self.dataset = dataset
        self.real = real
        # statistics of ``real`` (real features, FID's mean and covariance), shared by the
        # metrics built on the same real side: one job evaluating several runs computes them once
        self.shared = {} if shared is None else shared

    def compute(self, fake: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError


METRICS: Registry[type[Metric]] = Registry("metric", base=Metric, package="metrics.library")


def higher_is_better(column: str) -> bool | None:
    for _, cls in METRICS.items():
        if column in cls.higher_is_better:
            return cls.higher_is_better[column]
    return None


def metric_columns() -> list[str]:
    """Every column a registered metric declares with a direction, in registry
    order, spreads (``*_std``) left out: what tables and figures show."""
    columns = (c for _, cls in METRICS.items() for c in cls.higher_is_better if not c.endswith("_std"))
    return list(dict.fromkeys(columns))
