"""The evaluation section of a config: each dataset's resolved evaluation set-up
(metrics, extractor, sample counts), the settings its sample counts cannot honour,
and the columns it measures. The measuring's validation lives here
(``validate``: gans' checks plus these); ``analysis.config`` adds the analysis
section's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from gans import config as gcfg
from gans.config import ConfigError
from gans.datasets import DATASETS
from gans.registry import RegistryError
from gans.variants import VARIANTS
from metrics import METRICS
from metrics.extractors import ExtractorError
from metrics.extractors import resolve as resolve_extractor


def validate(config: dict) -> dict:
    """``gans.config.validate`` (every key, every run of the grid) and every dataset's
    evaluation set-up. Fills defaults in place."""
    gcfg.validate(config)
    check(config)
    return config


def load(path: str | Path) -> dict:
    """A config file, validated as evaluation needs it."""
    return validate(read(path))


def read(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None


def check(config: dict) -> None:
    """Every dataset's evaluation set-up of a config validated by gans.config."""
    check_extractor_names(config)
    try:
        for dataset in gcfg.datasets_in_grid(config):
            check_evaluation(resolve_eval(config, dataset), dataset)
    except RegistryError as exc:
        raise ConfigError(str(exc)) from None


def resolve_eval(config: dict, dataset: str) -> dict[str, Any]:
    """Everything one evaluation job needs (kept apart from training, so changing
    an evaluation setting never retrains)."""
    modality = DATASETS.get(dataset).modality
    ev = copy.deepcopy(config["evaluation"])
    names = ev.pop("metrics").get(modality)
    if not names:
        raise ConfigError(f"config key 'evaluation.metrics.{modality}' is not set for dataset '{dataset}'")
    for name in names:
        metric = METRICS.get(name)
        if modality not in metric.modalities:
            raise ConfigError(f"metric '{name}' does not apply to {modality} (dataset '{dataset}')")
        if metric.per_class:
            raise ConfigError(
                f"metric '{name}' is measured by itself for conditional variants; "
                f"remove it from config key 'evaluation.metrics.{modality}'"
            )
    if modality == "images":
        try:
            ev.update(resolve_extractor(config, dataset, names))
            names = ev.pop("metrics")
        except ExtractorError as exc:
            raise ConfigError(str(exc)) from None
    for key in ("extractors", "lenet", "inception"):  # already folded into the extractor spec
        ev.pop(key)
    ev.pop("calibration")  # the calibrate rule's own setting: changing it re-evaluates no run
    return {"metrics": names, **ev}


def sample_counts(ev: dict[str, Any]) -> tuple[int, int, str]:
    """(generated, real) samples per evaluation point of a resolved evaluation
    config, and the config keys that set them."""
    if "extractor" in ev:  # images
        return ev["images"]["num_samples"], ev["images"]["num_real"], "evaluation.images.num_samples/num_real"
    return ev["num_samples"], ev["num_samples"], "evaluation.num_samples"


def check_evaluation(ev: dict[str, Any], dataset: str | None = None) -> None:
    """Refuse settings a resolved evaluation config cannot honour with its sample counts."""
    fake, real, keys = sample_counts(ev)
    n, on = min(fake, real), f" for dataset '{dataset}'" if dataset else ""
    counts = f"{fake} generated and {real} real samples ({keys})"
    if "prc" in ev["metrics"] and ev["prc"]["neighborhood"] >= n:
        raise ConfigError(
            f"config key 'evaluation.prc.neighborhood': k = {ev['prc']['neighborhood']} nearest neighbours need more "
            f"than k samples on each side, and evaluation{on} uses {counts}; lower k or raise the counts"
        )
    if "prdc" in ev["metrics"] and ev["prdc"]["nearest_k"] >= n:
        raise ConfigError(
            f"config key 'evaluation.prdc.nearest_k': k = {ev['prdc']['nearest_k']} nearest neighbours need more "
            f"than k samples on each side, and evaluation{on} uses {counts}; lower k or raise the counts"
        )
    if "kid" in ev["metrics"] and ev["kid"]["subset_size"] > n:
        raise ConfigError(
            f"config key 'evaluation.kid.subset_size': subsets of {ev['kid']['subset_size']} samples, but evaluation"
            f"{on} uses {counts}; set subset_size to at most {n} or raise the counts"
        )
    if "extractor" not in ev:
        return
    images = ev["images"]
    if "isc" in ev["metrics"] and images["isc_splits"] > images["num_samples"]:
        raise ConfigError(
            f"config key 'evaluation.images.isc_splits': {images['isc_splits']} splits of "
            f"{images['num_samples']} generated images{on}; use at most one split per image"
        )
    if images["grid"] > images["num_samples"]:
        raise ConfigError(
            f"config key 'evaluation.images.grid': a grid of {images['grid']} images, but only "
            f"{images['num_samples']} are generated{on} (evaluation.images.num_samples)"
        )


def measured_columns(config: dict, dataset: str) -> set[str]:
    """The metric columns every run of ``dataset`` in the grid gets."""
    modality = DATASETS.get(dataset).modality
    names = list(resolve_eval(config, dataset)["metrics"])
    labels = gcfg.variant_labels(config)
    variants = {labels[label]["variant"] for label, _ in gcfg.cells_by_dataset(config).get(dataset, [])}
    if variants and all(VARIANTS.get(v).conditional for v in variants):  # per-class metrics, added by evaluation
        names += [n for n, cls in METRICS.items() if cls.per_class and modality in cls.modalities]
    columns = {c for n in names for c in METRICS.get(n).higher_is_better}
    return columns | ({"modes_total"} if columns & {"modes_covered"} else set())


def evaluated_columns(config: dict, dataset: str) -> list[str]:
    """The metric columns the dataset's evaluation writes."""
    names = resolve_eval(config, dataset)["metrics"]
    return [c for n in names for c in METRICS.get(n).higher_is_better if not c.endswith("_std")]


def check_extractor_names(config: dict) -> None:
    """Each dataset named under evaluation.extractors is a registered image dataset."""
    images = [name for name, d in DATASETS.items() if d.modality == "images"]
    for name in config["evaluation"]["extractors"]:
        if name not in DATASETS or DATASETS.get(name).modality != "images":
            what = f"unknown dataset '{name}'" if name not in DATASETS else f"'{name}' has no images"
            raise ConfigError(
                f"config key 'evaluation.extractors.{name}': {what}; a feature extractor "
                f"is set for an image dataset: {', '.join(images)}"
            )


def notices(config: dict) -> list[str]:
    """Evaluation settings no job will use with this grid."""
    images = [d for d in gcfg.datasets_in_grid(config) if DATASETS.get(d).modality == "images"]
    unused = [f"evaluation.extractors.{d}" for d in config["evaluation"]["extractors"] if d not in images]
    if not unused:
        return []
    return [f"settings no run of the grid uses (no image dataset of that name in it): {', '.join(unused)}"]
