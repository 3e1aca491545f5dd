"""Paper set-ups per data family, and the suite's named deviations from them.

A component's authors often trained it differently on toy mixtures and on images
(WGAN-GP's toy code uses lambda 0.1 where its image code uses 10). So a loss's
``training`` holds one set-up per data family, the dataset's ``modality``:

    training = {"points": {...}, "images": {...}}

each with the optimizer, n_critic, n_gen, regularizers, loss ``params`` and the
``source`` it comes from. A variant's ``setups`` holds its parameters per family
(``Variant.setup``); variants train with their loss's set-up, so variants compared
under one loss share its optimizer.

A **deviation** is a change the suite makes to a paper set-up because the paper's
does not train on this data (an f-GAN critic whose objective is unbounded needs a
penalty on separable 2-D data). Deviations are named (``DEVIATIONS``), listed in
the set-up they apply to (``deviations``), switchable per loss in the config
(``losses.<loss>.deviations``), and recorded in every run (``setup``) and table, so
a reader never mistakes them for the paper's set-up. The config's other
``losses.<loss>`` keys apply on top and are recorded as ``overrides``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from gans.config.schema import ConfigError
from gans.optim import merged_optimizer


@dataclass(frozen=True)
class Deviation:
    """A named change to a paper set-up: optimizer keys and regularizers added."""

    why: str
    source: str
    optimizer: dict[str, Any] = field(default_factory=dict)
    regularizers: dict[str, dict[str, Any]] = field(default_factory=dict)


DEVIATIONS: dict[str, Deviation] = {
    "r1": Deviation(
        why="an R1 penalty (weight 1) on D: bounds a critic whose objective grows without limit on data it separates",
        source="Mescheder et al. 2018",
        regularizers={"r1": {"weight": 1.0}},
    ),
    "ttur": Deviation(
        why="D faster than G (D 4e-4, G 1e-4), the two time-scale update rule",
        source="Heusel et al. 2017",
        optimizer={"lr_d": 4e-4, "lr_g": 1e-4},
    ),
    "fast-lr": Deviation(
        why=(
            "both players' learning rate 1e-3: the papers' rates (5e-5 to 2e-4) are set for their toy "
            "runs of 20,000-100,000 steps, beyond a 2-core CPU's budget; betas, critic steps and "
            "regularizers stay the paper's"
        ),
        source="ours, measured on the toy mixtures (docs/setups.md#named-deviations)",
        optimizer={"lr_d": 1e-3, "lr_g": 1e-3},
    ),
}

# Families whose experiment fixes one set-up for every loss: a theory check, where the
# set-up is the analysis's rather than each loss's paper's. A loss's own entry for the
# family wins (WGAN-GP's gradient penalty is part of the loss).
SHARED_SETUPS: dict[str, dict[str, Any]] = {
    # the Dirac-GAN: gradient descent (no momentum) at one small rate for both players, one
    # D step per G step, no regularizer: the unregularised dynamics the paper analyses
    # (Mescheder et al. 2018, Sec. 2-3; the rate is ours, small enough for the regularised
    # dynamics to converge, Sec. 4)
    "dirac": {
        "optimizer": {"name": "sgd", "lr_d": 0.1, "lr_g": 0.1},
        "n_critic": 1,
        "regularizers": {},
        "source": "Mescheder et al. 2018, Dirac-GAN: alternating gradient descent, lr 0.1 (ours), start (1, 1)",
    },
}

# keys of a family's set-up: what a run trains with, and where it comes from
SETUP_KEYS = {"optimizer", "n_critic", "n_gen", "regularizers", "params", "deviations", "source"}


def family_setup(loss_cls: type, family: str) -> dict[str, Any]:
    """A copy of the loss's paper set-up for data ``family``; an error naming the
    families it has when it has none for this one."""
    if family not in loss_cls.training and family in SHARED_SETUPS:
        return copy.deepcopy(SHARED_SETUPS[family])
    if family not in loss_cls.training:
        have = ", ".join(loss_cls.training) or "none"
        raise ConfigError(f"loss '{loss_cls.name}' has no set-up for {family} data (it has: {have})")
    return copy.deepcopy(loss_cls.training[family])


def check_deviations(names: list[str], where: str) -> None:
    for name in names:
        if name not in DEVIATIONS:
            raise ConfigError(f"{where}: unknown deviation '{name}'; choose one of: {', '.join(sorted(DEVIATIONS))}")


def _changed(before: dict[str, Any], after: dict[str, Any], prefix: str) -> list[str]:
    """Dotted keys whose value ``after`` differs from ``before``'s."""
    return [f"{prefix}{k}" for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]


def loss_training(loss_cls: type, family: str, config: dict[str, Any]) -> dict[str, Any]:
    """What a run of ``loss_cls`` on ``family`` data trains with: the paper set-up
    for the family, its named deviations, then the config's ``losses.<loss>`` and
    top-level ``regularizers`` on top. Returns the run's optimizer, n_critic, n_gen,
    regularizers, loss params and its ``setup`` record, whose ``overrides`` lists the
    keys the config changed from the paper set-up with its deviations."""
    paper = family_setup(loss_cls, family)
    override = config["losses"].get(loss_cls.name, {})
    deviations = list(override.get("deviations", paper.get("deviations", [])))
    check_deviations(deviations, f"config key 'losses.{loss_cls.name}.deviations'")
    base = {
        "optimizer": dict(paper["optimizer"]),
        "regularizers": copy.deepcopy(paper.get("regularizers", {})),
        "n_critic": paper.get("n_critic", 1),
        "n_gen": paper.get("n_gen", 1),
        "params": dict(paper.get("params", {})),
    }
    for name in deviations:
        base["optimizer"].update(DEVIATIONS[name].optimizer)
        base["regularizers"].update(copy.deepcopy(DEVIATIONS[name].regularizers))
    run = {
        "optimizer": merged_optimizer(base["optimizer"], override.get("optimizer", {})),
        "regularizers": {**override.get("regularizers", base["regularizers"]), **config["regularizers"]},
        "n_critic": override.get("n_critic", base["n_critic"]),
        "n_gen": override.get("n_gen", base["n_gen"]),
        "params": {**base["params"], **override.get("params", {})},
    }
    overrides = (
        _changed(base["optimizer"], run["optimizer"], "optimizer.")
        + _changed(base["regularizers"], run["regularizers"], "regularizers.")
        + _changed(base["params"], run["params"], "params.")
        + [k for k in ("n_critic", "n_gen") if base[k] != run[k]]
    )
    run["setup"] = {"family": family, "source": paper["source"], "deviations": deviations, "overrides": overrides}
    return run


def deviation_label(setup: dict[str, Any] | None) -> str:
    """A run's deviations and config overrides as one table cell ('paper' when none)."""
    if not setup:
        return "unrecorded"
    parts = list(setup.get("deviations", [])) + [f"override:{k}" for k in setup.get("overrides", [])]
    return "+".join(parts) or "paper"
