"""A tiny end-to-end image run of the real Snakemake pipeline on the offline digits:
prepare_data -> train_lenet -> real_features -> train -> evaluate -> tables, figures."""

import json

import pandas as pd
import pytest
import torch
import yaml

from tests.workflow.conftest import rule_counts, run_pipeline, snakemake

pytestmark = pytest.mark.slow

DIGITS = {
    "grid": {"datasets": ["digits"], "variants": ["gan"], "losses": ["hinge"], "seeds": [0]},
    "models": {"images": {"architecture": "dcgan", "noise_dim": 16, "params": {"ngf": 8, "ndf": 8}}},
    "train": {"steps": 10, "batch_size": 16, "log_every": 5, "eval_every": 5},
    "evaluation": {
        "kid": {"subsets": 3, "subset_size": 50},
        "images": {"num_samples": 100, "num_real": 150, "mode_samples": 200, "batch_size": 100, "grid": 16},
        "lenet": {"epochs": 1, "threads": 1},
    },
    "figures": {"dpi": 50},
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return run_pipeline(tmp_path_factory, "pipeline_images", DIGITS)


def test_image_run_is_measured_with_its_classifier(pipeline):
    run = pipeline / "results/runs/digits/gan/hinge/seed0"
    table = pd.read_csv(run / "metrics.csv")
    assert table["step"].tolist() == [0, 5, 10]
    assert {"fid", "kid", "precision", "recall", "isc", "modes_covered", "reverse_kl"} <= set(table.columns)
    assert (table["modes_total"] == 10).all() and table["fid"].notna().all()
    for step in (0, 5, 10):
        assert (run / f"grids/step{step}.png").stat().st_size > 500
    lenet = json.loads((pipeline / "results/extractors/lenet/digits.json").read_text())
    assert 0.1 < lenet["test_accuracy"] <= 1 and lenet["train"]["epochs"] == 1
    real = torch.load(pipeline / "results/features/digits/lenet.pt")
    assert real["features"].shape == (150, 128)
    assert (pipeline / "results/figures/digits/points.png").stat().st_size > 5000
    runs = pd.read_csv(pipeline / "results/tables/runs.csv")
    assert runs.loc[0, "status"] == "completed" and "isc" in runs
    # 10 steps make noise: the outcome says so, against the digits' calibration values
    calibration = json.loads((pipeline / "results/calibration/digits/lenet_100.json").read_text())
    assert calibration["real"]["mean"]["fid"] * 5 < calibration["noise"]["mean"]["fid"]
    # never at the bar: 'did not learn', or 'undertrained' while its bar score still rises
    assert runs.loc[0, "outcome"] in ("did not learn", "undertrained") and runs.loc[0, "bar_score"] < 1


def test_a_new_classifier_setting_reevaluates_without_retraining(pipeline):
    assert "Nothing to be done" in snakemake(pipeline, "-n").stdout
    changed = {**DIGITS, "evaluation": {**DIGITS["evaluation"], "lenet": {"epochs": 2, "threads": 1}}}
    (pipeline / "config.yaml").write_text(yaml.safe_dump(changed))
    counts = rule_counts(pipeline)
    assert counts.get("train_lenet") == 1 and counts.get("real_features") == 1 and counts.get("evaluate") == 1, counts
    assert "train" not in counts and "prepare_data" not in counts, counts
