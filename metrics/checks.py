"""Evaluation and analysis settings that pass the schema but would fail, or be
changed without a word, after training: checked before any job starts.

- evaluation: precision/recall's k and KID's subset size against the sample
  counts, the Inception Score's splits and the sample grid against the images
  generated (``check_evaluation``, also run by ``python -m metrics.evaluate``);
- analysis: the main metric of each modality is measured on every dataset of the
  grid and ranks in its metric's direction; every target names a measured metric;
  the baseline is a registered loss (``check_analysis``).
"""

from __future__ import annotations

from typing import Any

from gans import config as gcfg
from gans.config import ConfigError
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.registry import RegistryError
from gans.variants import VARIANTS
from metrics import METRICS, higher_is_better, metric_columns


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
    from metrics.config import resolve_eval

    modality = DATASETS.get(dataset).modality
    names = list(resolve_eval(config, dataset)["metrics"])
    labels = gcfg.variant_labels(config)
    variants = {labels[label]["variant"] for label, _ in gcfg.cells_by_dataset(config).get(dataset, [])}
    if variants and all(VARIANTS.get(v).conditional for v in variants):  # per-class metrics, added by evaluation
        names += [n for n, cls in METRICS.items() if cls.per_class and modality in cls.modalities]
    columns = {c for n in names for c in METRICS.get(n).higher_is_better}
    return columns | ({"modes_total"} if columns & {"modes_covered"} else set())


def check_analysis(config: dict) -> None:
    """The analysis section against what the grid's evaluation measures."""
    opts = config["analysis"]
    for dataset in gcfg.datasets_in_grid(config):
        modality = DATASETS.get(dataset).modality
        spec = opts["main_metric"][modality]
        key = f"analysis.main_metric.{modality}"
        measured = measured_columns(config, dataset)
        if spec["name"] not in measured:
            raise ConfigError(
                f"config key '{key}.name': '{spec['name']}' is not measured on dataset '{dataset}'; "
                f"choose one of: {', '.join(sorted(measured))}"
            )
        direction = higher_is_better(spec["name"])
        if direction is not None and direction != spec["higher_is_better"]:
            raise ConfigError(
                f"config key '{key}.higher_is_better': {str(spec['higher_is_better']).lower()}, but higher "
                f"{spec['name']} is {'better' if direction else 'worse'}; set it to {str(direction).lower()}"
            )
    known = set(metric_columns())
    for metric, bound in opts["targets"].items():
        if metric not in known:
            raise ConfigError(
                f"config key 'analysis.targets.{metric}': no metric measures '{metric}'; "
                f"choose one of: {', '.join(sorted(known))}"
            )
        if bound == "all" and metric != "modes_covered":
            raise ConfigError(
                f"config key 'analysis.targets.{metric}': 'all' (every mode) applies to modes_covered only"
            )
    try:
        LOSSES.get(opts["baseline"])
    except RegistryError as exc:
        raise ConfigError(f"config key 'analysis.baseline': {exc}") from None


def notices(config: dict) -> list[str]:
    """Evaluation and analysis settings no job or table will use with this grid."""
    opts, lines = config["analysis"], []
    images = [d for d in gcfg.datasets_in_grid(config) if DATASETS.get(d).modality == "images"]
    unused = [f"evaluation.extractors.{d}" for d in config["evaluation"]["extractors"] if d not in images]
    if unused:
        lines.append(f"settings no run of the grid uses (no image dataset of that name in it): {', '.join(unused)}")
    if opts["baseline"] not in gcfg.losses_in_grid(config):
        lines.append(
            f"analysis.baseline '{opts['baseline']}' is not in the grid's losses: the baseline_check table stays empty"
        )
    if any(DATASETS.get(d).modality == "dirac" for d in gcfg.datasets_in_grid(config)):
        lines.append(
            "the Dirac-GAN's theory table and phase portrait are the target 'dirac' "
            "(snakemake --cores 1 dirac --configfile FILE); the default target gives its runs "
            "the suite's generic tables and figures"
        )
    measured = set().union(*(measured_columns(config, d) for d in gcfg.datasets_in_grid(config)))
    unmeasured = [m for m in opts["targets"] if m not in measured]
    if unmeasured:
        lines.append(f"analysis.targets not measured by this grid's evaluation: {', '.join(unmeasured)}")
    return lines
