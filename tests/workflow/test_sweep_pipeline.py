"""A swept config key through the real Snakemake pipeline: each value is its own
column in the tables and figures, and its runs differ exactly in that key."""

import copy
import json

import pandas as pd
import pytest
import yaml

from analysis import figures
from gans.losses.jensen_shannon import PACGAN_TOY_ADAM
from tests.conftest import TINY
from tests.workflow.conftest import snakemake

pytestmark = pytest.mark.slow

LABELS = ["gan+optimizer.name=adam", "gan+optimizer.name=sgd"]  # the runs' folders
SETTINGS = ["optimizer.name=adam", "optimizer.name=sgd"]  # the tables' setting column
SWEEP = {
    **copy.deepcopy(TINY),
    "grid": {**TINY["grid"], "losses": ["nonsaturating"], "seeds": [0], "sweep": {"optimizer.name": ["adam", "sgd"]}},
}
SWEEP["evaluation"] = {**SWEEP["evaluation"], "metrics": {"points": ["modes"]}}  # the main metric suffices here


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sweep")
    (workdir / "config.yaml").write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    snakemake(workdir, "results/tables/summary.csv")  # figures are drawn in-process below, to keep this test short
    return workdir


def test_tables_have_a_cell_per_swept_value(swept):
    runs = pd.read_csv(swept / "results/tables/runs.csv")
    assert runs["variant"].tolist() == ["gan", "gan"] and runs["setting"].tolist() == SETTINGS
    assert runs["hp.setting.optimizer.name"].tolist() == runs["hp.optimizer.name"].tolist() == ["adam", "sgd"]
    summary = pd.read_csv(swept / "results/tables/summary.csv")
    assert summary["setting"].tolist() == SETTINGS and (summary["seeds"] == 1).all()
    # the setting reached training: same seed, same data, different updates
    logs = pd.read_csv(swept / "results/tables/train_logs.csv")
    adam, sgd = (logs[logs.setting == setting].set_index("step")["d_loss"] for setting in SETTINGS)
    assert adam.index.equals(sgd.index) and not adam.equals(sgd)


def test_resolved_configs_differ_exactly_in_the_optimizer(swept):
    adam, sgd = (
        yaml.safe_load(
            (swept / f"results/runs/8gaussians/{label}/nonsaturating/seed0/config.resolved.yaml").read_text()
        )
        for label in LABELS
    )
    assert {k for k in adam.keys() | sgd.keys() if adam.get(k) != sgd.get(k)} == {"optimizer", "setting", "variant"}
    assert adam["optimizer"] == PACGAN_TOY_ADAM  # nonsaturating's set-up on points
    rates = {k: PACGAN_TOY_ADAM[k] for k in ("lr_d", "lr_g")}
    assert sgd["optimizer"] == {"name": "sgd", **rates}  # adam's betas do not follow
    assert (adam["setting"], sgd["setting"]) == ({"optimizer.name": "adam"}, {"optimizer.name": "sgd"})
    assert (adam["variant"], sgd["variant"]) == (
        {"name": "gan", "params": {}, "label": LABELS[0]},
        {"name": "gan", "params": {}, "label": LABELS[1]},
    )


def test_figures_take_the_labels(swept):
    tables, out = swept / "results/tables", swept / "results/figures/8gaussians"
    opts = json.dumps(SWEEP["figures"])
    assert (
        figures.main(
            [
                "--dataset",
                "8gaussians",
                "--tables",
                str(tables),
                "--options",
                opts,
                "--out",
                str(out),
                "--runs-root",
                str(swept),
            ]
        )
        == 0
    )
    assert (out / "heatmap_main.png").stat().st_size > 10_000
    assert (
        figures.main(
            [
                "--dataset",
                "8gaussians",
                "--cell",
                LABELS[1],
                "nonsaturating",
                "--cell",
                LABELS[0],
                "nonsaturating",
                "--tables",
                str(tables),
                "--options",
                opts,
                "--out",
                str(out / "cells"),
                "--runs-root",
                str(swept),
            ]
        )
        == 0
    )
    for label in LABELS:  # the cell figures rule's paths for a label
        assert (out / f"cells/{label}/nonsaturating.png").stat().st_size > 10_000
