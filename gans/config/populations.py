"""The populations of a workflow step: which runs one training job trains together.

Runs whose resolved configs share a population key (gans/members.py) may train in one
process as one batched model; ``train.population_size`` caps how many (per dataset, so
that a cluster can split a large population into several jobs). Each population has an
id, the value of the workflow's ``population`` wildcard, predictable from the config:

    {dataset}/{variant}/{loss}/p{k}      the grid's runs: variant is the registered
                                         variant's name, k counts the populations of that
                                         dataset, variant and loss from 0, in grid order
    {dataset}/{variant}/{loss}/s{k}      a search's settings, counted the same way: their
                                         own ids, so that a grid and a search run in one
                                         results folder keep each other's markers
    {dataset}/{label}/{loss}/best{k}     a search cell's best setting over its new seeds
                                         (label: the cell's grid label), known after the
                                         selection; k counts chunks of population_size seeds
    {dataset}/{label}/{loss}/final{j}-{k}
                                         the cell's j-th finalist (search.finalists) over
                                         its more seeds, known after the first selection

Runs whose set-up cannot be one batched model (``gans.stacking.reason_not_stackable``:
state shared between members, other control flow) fall back to one run per member: each
is a population of one, in its own job, and the dry run says why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from gans import members
from gans.config import cost
from gans.config import search as gsearch
from gans.config.run import resolve_run

LATE = re.compile(
    r"^(?P<dataset>[^/]+)/(?P<label>.+)/(?P<loss>[^/]+)/(?:best|final(?P<j>0|[1-9][0-9]*)-)(?P<k>0|[1-9][0-9]*)$"
)
# member-steps/s of a stacked population over one run's steps/s on one CPU thread
# (measured about 3.4 at 64 MLP members): a CPU population's runtime is its size over this
CPU_SPEEDUP = 3
# memory of each further batched member, as a share of one run's job (most of a job's
# memory is the interpreter, torch and the data, shared by the members)
MEMBER_MEMORY = 0.25


@dataclass(frozen=True)
class Population:
    """Runs trained by one job: ``runs`` as dicts of dataset, variant (grid label),
    loss and seed; ``cfgs`` their resolved configs, in the same order."""

    id: str
    runs: tuple[dict[str, Any], ...]
    cfgs: tuple[dict[str, Any], ...]

    @property
    def size(self) -> int:
        return len(self.runs)

    @property
    def dataset(self) -> str:
        return self.runs[0]["dataset"]

    def not_batched(self) -> str | None:
        """Why its runs cannot be one batched model (None: they can)."""
        return reason_not_batched(self.cfgs[0])


def population_size(config: dict, dataset: str) -> int:
    """The cap on a population's members for ``dataset`` (``train.population_size``)."""
    return {**config["train"], **config["per_dataset"].get(dataset, {}).get("train", {})}["population_size"]


def populations(config: dict, runs: list[dict[str, Any]]) -> dict[str, Population]:
    """The runs (dicts of dataset, variant, loss, seed) grouped into populations, by id."""
    cfgs = [resolve_run(config, r["dataset"], r["variant"], r["loss"], r["seed"]) for r in runs]
    by_dataset: dict[str, list[int]] = {}
    for i, run in enumerate(runs):
        by_dataset.setdefault(run["dataset"], []).append(i)
    out: dict[str, Population] = {}
    counts: dict[str, int] = {}
    for dataset, idx in by_dataset.items():
        for group in members.group_members([cfgs[i] for i in idx], population_size(config, dataset)):
            chosen = [idx[j] for j in group]
            first = cfgs[chosen[0]]
            stem = f"{dataset}/{first['variant']['name']}/{runs[chosen[0]]['loss']}"
            study = "s" if gsearch.parse_label(runs[chosen[0]]["variant"]) else "p"
            for part in [[i] for i in chosen] if reason_not_batched(first) else [chosen]:
                k = counts[stem] = counts.get(stem, -1) + 1
                out[f"{stem}/{study}{k}"] = Population(
                    f"{stem}/{study}{k}", tuple(runs[i] for i in part), tuple(cfgs[i] for i in part)
                )
    return out


def run_populations(pops: dict[str, Population]) -> dict[tuple, str]:
    """(dataset, variant, loss, seed) of every run -> its population's id."""
    return {(r["dataset"], r["variant"], r["loss"], r["seed"]): p.id for p in pops.values() for r in p.runs}


# -- a search's finalists and best settings: their populations are known after a selection --
def seed_chunks(config: dict, dataset: str, label: str, loss: str, seeds: list[int]) -> list[list[int]]:
    """``seeds`` of one setting of a cell in chunks of ``train.population_size``, or one
    by one where the cell's set-up cannot be batched."""
    cap = population_size(config, dataset)
    if reason_not_batched(resolve_run(config, dataset, label, loss, seeds[0])):
        cap = 1
    return [seeds[i : i + cap] for i in range(0, len(seeds), cap)]


def best_chunks(config: dict, dataset: str, label: str, loss: str) -> list[list[int]]:
    """The new seeds of a cell's best setting, in chunks (``seed_chunks``)."""
    return seed_chunks(config, dataset, label, loss, gsearch.best_seeds(config))


def best_ids(config: dict) -> list[str]:
    """Every best-setting population's id, one per chunk of seeds of each search cell."""
    return [
        f"{d}/{label}/{loss}/best{k}"
        for d, label, loss in gsearch.cells(config)
        for k in range(len(best_chunks(config, d, label, loss)))
    ]


def finalist_ids(config: dict, dataset: str, label: str, loss: str) -> list[str]:
    """The populations of a cell's finalists (none without ``search.finalists``)."""
    seeds = gsearch.finalist_seeds(config)
    if not seeds:
        return []
    chunks = seed_chunks(config, dataset, label, loss, seeds)
    return [
        f"{dataset}/{label}/{loss}/final{j}-{k}"
        for j in range(config["search"]["finalists"])
        for k in range(len(chunks))
    ]


def late_ids(config: dict) -> list[str]:
    """Every population known only after a selection: finalists', then best settings'."""
    finals = [i for d, label, loss in gsearch.cells(config) for i in finalist_ids(config, d, label, loss)]
    return finals + best_ids(config)


def finalist_rank(population: str) -> int | None:
    """j of a finalist's population id (``.../final<j>-<k>``); None for a best setting's."""
    j = LATE.match(population)["j"]
    return None if j is None else int(j)


def late_population(config: dict, population: str, setting_label: str) -> Population:
    """Population ``population`` (``.../best<k>`` or ``.../final<j>-<k>``) once the
    setting it trains is known (``setting_label``, a search run's label)."""
    m = LATE.match(population)
    seeds = gsearch.best_seeds(config) if m["j"] is None else gsearch.finalist_seeds(config)
    seeds = seed_chunks(config, m["dataset"], m["label"], m["loss"], seeds)[int(m["k"])]
    runs = [{"dataset": m["dataset"], "variant": setting_label, "loss": m["loss"], "seed": s} for s in seeds]
    return Population(population, tuple(runs), tuple(resolve_run(config, **r) for r in runs))


def best_population_of(config: dict, dataset: str, best_label: str, loss: str, seed: int) -> str:
    """The id of the population that trains a best setting's run (a new seed)."""
    base, _ = gsearch.parse_label(best_label)
    k = next(i for i, chunk in enumerate(best_chunks(config, dataset, base, loss)) if seed in chunk)
    return f"{dataset}/{base}/{loss}/best{k}"


def cell_of(population: str) -> dict[str, str]:
    """dataset, variant (the cell's label) and loss of a finalist's or best setting's population id."""
    m = LATE.match(population)
    return {"dataset": m["dataset"], "variant": m["label"], "loss": m["loss"]}


# -- what a job asks the scheduler for, and what the dry run says ---------------------------
_REASONS: dict[str, str | None] = {}


def reason_not_batched(cfg: dict[str, Any]) -> str | None:
    """Why runs of ``cfg``'s population key cannot be one batched model (None: they can);
    found once per key (it builds the networks)."""
    key = members.population_key(cfg)
    if key not in _REASONS:
        from gans.stacking import reason_not_stackable

        _REASONS[key] = reason_not_stackable(cfg)
    return _REASONS[key]


def runtime(base: int, size: int, gpu: int) -> int:
    """Minutes for a population of ``size`` batched members whose one run takes ``base``:
    about one run's time on a GPU (twice it, for margin), ``size / CPU_SPEEDUP`` runs'
    time on a CPU."""
    return base if size == 1 else base * (2 if gpu else max(2, math.ceil(size / CPU_SPEEDUP)))


def evaluation_runtime(base: int, size: int) -> int:
    """Minutes for evaluating a population of ``size`` runs whose one run takes ``base``:
    its runs are evaluated one after another (in one process, so the imports, the
    extractor and the real side are paid once: a margin). Its memory is one run's."""
    return base * size


def mem_mb(base: int, size: int, cfg: dict[str, Any] | None = None) -> int:
    """Memory of a population's job: one run's, and a share of it more per further
    member; at least twice the estimate of its members' parameters and activations
    (``gans.config.cost``, a lower bound) where their networks are large."""
    share = math.ceil(base * (1 + MEMBER_MEMORY * (size - 1)))
    step = cost.step_cost(cfg) if cfg else None
    return max(share, math.ceil(2 * (cost.BASE_BYTES + size * step.member_bytes) / 2**20)) if step else share


def describe(pop: Population) -> str:
    """One line for the dry run: the id, the members and whether they are one batched model."""
    seeds: dict[str, list[int]] = {}
    for run in pop.runs:
        seeds.setdefault(run["variant"], []).append(run["seed"])
    lists = {tuple(s) for s in seeds.values()}
    if len(lists) == 1:
        (one,) = lists
        what = f"{', '.join(seeds)} x seed {', '.join(map(str, one))}"
    else:
        what = "; ".join(f"{label} seed {', '.join(map(str, s))}" for label, s in seeds.items())
    reason = pop.not_batched()
    how = f"one run per member: {reason}" if reason else "batched" if pop.size > 1 else "alone"
    return f"population {pop.id}: {pop.size} member{'s' * (pop.size > 1)} ({what}), {how}"
