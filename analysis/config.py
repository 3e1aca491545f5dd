"""The analysis section of a config, and the whole config as the workflow checks it:

- ``validate``: ``metrics.config.validate`` (gans' checks and the evaluation's), then
  the analysis section (``check_analysis``) and the search's metrics
  (``check_search``); ``load`` reads a file and validates it so;
- analysis: the main metric of each modality is measured on every dataset of the
  grid and ranks in its metric's direction; every target names a measured metric;
  the baseline is a registered loss;
- search: the metric that ranks a cell's settings (``ranking_metrics``) is evaluated
  on every dataset of the grid, and every tie-breaker is a metric column;
- ``notices``: evaluation and analysis settings no job or table will use;
- ``memory_problems``: jobs that need more memory than the machine where they run
  (``gans.config.cost``: an error where jobs run here, a note from ``make check``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gans import config as gcfg
from gans.config import ConfigError, cost, search
from gans.config.populations import population_size
from gans.datasets import DATASETS
from gans.losses import LOSSES
from gans.registry import RegistryError
from metrics import METRICS, higher_is_better, metric_columns
from metrics import config as mcfg
from metrics.config import evaluated_columns, measured_columns


def validate(config: dict) -> dict:
    """The workflow's validation: ``metrics.config.validate`` (every key, every run of
    the grid, every dataset's evaluation set-up), the analysis section and the
    search's metrics. Fills defaults in place."""
    mcfg.validate(config)
    check_analysis(config)
    check_search(config)
    check_reproductions(config)
    return config


def check_reproductions(config: dict) -> None:
    """Every anchor of the 'reproductions' key is known and maps to a cell the config trains."""
    from analysis.reproductions import check_cells

    runs = search.runs(config) if search.active(config) else gcfg.grid(config)
    try:
        check_cells(config["reproductions"], {(r["dataset"], r["variant"], r["loss"]) for r in runs})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def load(path: str | Path) -> dict:
    """A config file, validated as the workflow validates it."""
    return validate(mcfg.read(path))


def analysis_options(opts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The analysis section with the schema's defaults filled in (and checked)."""
    return gcfg.section_defaults("analysis", opts)


def ranking_metrics(config: dict, dataset: str) -> list[tuple[str, bool]]:
    """(metric, higher is better) that rank a dataset's settings: select_by (default
    the dataset's main metric), then the evaluated tie-breakers."""
    s, opts = config["search"], analysis_options(config["analysis"])
    main = opts["main_metric"][DATASETS.get(dataset).modality]
    first = s["select_by"] or main["name"]
    higher = main["higher_is_better"] if first == main["name"] else higher_is_better(first)
    evaluated = evaluated_columns(config, dataset)
    ties = [(m, higher_is_better(m)) for m in s["tie_break"] if m in evaluated and m != first]
    return [(first, higher), *ties]


def check_search(config: dict) -> None:
    """The search's metrics, before any job: select_by evaluated on every dataset of
    the grid, every tie-breaker a metric column."""
    if not search.active(config):
        return
    s = config["search"]
    known = {c for _, cls in METRICS.items() for c in cls.higher_is_better}
    for name in s["tie_break"]:
        if name not in known:
            raise ConfigError(
                f"config key 'search.tie_break': no metric gives '{name}'; known: {', '.join(sorted(known))}"
            )
    for dataset in gcfg.datasets_in_grid(config):
        first = ranking_metrics(config, dataset)[0][0]
        evaluated = evaluated_columns(config, dataset)
        if first not in evaluated:
            raise ConfigError(
                f"config key 'search.select_by': '{first}' is not evaluated on dataset '{dataset}'; "
                f"evaluated: {', '.join(evaluated)}"
            )


def check_hold_points(config: dict) -> None:
    """A run is converged when it meets the bar at its last ``hold_points`` evaluation
    points: more than a run has would label no run converged, whatever it learns."""
    hold = config["analysis"]["hold_points"]
    cells = {(r["dataset"], r["variant"], r["loss"]): r["seed"] for r in gcfg.grid(config)}
    for (dataset, label, loss), seed in cells.items():
        train = gcfg.resolve_run(config, dataset, label, loss, seed)["train"]
        steps, every = train["steps"], train["eval_every"]
        points = steps // every + 1 + (steps % every > 0)  # step 0, every eval_every steps, the last
        if hold > points:
            raise ConfigError(
                f"config key 'analysis.hold_points': {hold}, but the runs of {dataset}/{label}/{loss} have "
                f"{points} evaluation points (train.steps {steps}, eval_every {every}); choose at most {points}"
            )


def check_analysis(config: dict) -> None:
    """The analysis section against what the grid's evaluation measures."""
    check_hold_points(config)
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
    opts, lines = config["analysis"], mcfg.notices(config)
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


def memory_problems(config: dict) -> list[str]:
    """A line for each dataset of a validated config whose training job (a population
    at ``train.population_size`` members, the largest of its cells) or evaluation point
    needs more memory than the machine the jobs run on (lower bounds, ``gans.config.cost``)."""
    runs = search.runs(config) if search.active(config) else list(gcfg.grid(config))
    lines = []
    for dataset in gcfg.datasets_in_grid(config):
        cells = {(r["variant"], r["loss"]): r["seed"] for r in runs if r["dataset"] == dataset}
        members = min(population_size(config, dataset), sum(r["dataset"] == dataset for r in runs))
        resolved = [gcfg.resolve_run(config, dataset, v, loss, seed) for (v, loss), seed in cells.items()]
        costs = [(c, run) for run in resolved if (c := cost.step_cost(run))]
        have, where = cost.machine_bytes(resolved[0]["train"]["device"])
        if costs:
            member, run = max(costs, key=lambda pair: pair[0].member_bytes)
            need = cost.BASE_BYTES + members * member.member_bytes
            if need > have:
                lines.append(
                    f"{dataset}: a training job of {members} members (train.population_size) needs at least "
                    f"{cost.in_words(need)} ({cost.in_words(member.member_bytes)} a member at batch "
                    f"{run['train']['batch_size']}), more than {where} ({cost.in_words(have)}); lower "
                    "train.population_size, train.batch_size or the networks' size"
                )
        fake, real, keys = mcfg.sample_counts(mcfg.resolve_eval(config, dataset))
        shape = DATASETS.get(dataset)(**resolved[0]["dataset"]["params"]).declared_shape()
        need = cost.BASE_BYTES + cost.evaluation_bytes(fake, real, shape)
        have, where = cost.machine_bytes("cpu")  # the evaluation's metrics run on the CPU
        if need > have:
            lines.append(
                f"{dataset}: an evaluation point holds {fake} generated and {real} real samples ({keys}), "
                f"at least {cost.in_words(need)}, more than {where} ({cost.in_words(have)}); lower them"
            )
    return lines
