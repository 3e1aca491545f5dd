"""The Dirac-GAN (Mescheder et al. 2018) trained by the suite's own loop and labelled by
its own outcome rules: R1 converges to the equilibrium (0, 0) and the unregularised game
does not. Both are properties of the maths with wide margins: alternating gradient
descent on WGAN's bilinear game keeps |(theta, psi)| near its start (the update has
determinant 1), while R1 contracts it by a constant factor per step."""

import copy

import pandas as pd
import pytest
import torch

from analysis import config as acfg
from analysis import stability
from analysis.dirac import CONVERGES, DOES_NOT, expected
from gans import config as gcfg
from gans.architectures.dirac import theta_psi
from gans.job import build

STEPS, EVERY = 1500, 25
CONFIG = {
    "grid": {
        "datasets": ["dirac"],
        "variants": ["gan"],
        "losses": ["wgan", "nonsaturating"],
        "seeds": [0],
        "presets": {"none": {}, "r1": {"regularizers.r1.weight": 1.0}},
    },
    "train": {"steps": STEPS, "batch_size": 4, "eval_every": EVERY, "population_size": 1},
    "analysis": {"targets": {}},
}


def trajectory(loss, preset):
    cfg = acfg.validate(copy.deepcopy(CONFIG))
    run = gcfg.resolve_run(cfg, "dirac", f"gan+{preset}", loss, 0)
    _, model = build(run)
    g, rows = torch.Generator().manual_seed(0), []
    for step in range(STEPS + 1):
        if step % EVERY == 0:
            theta, psi = theta_psi(model.generator, model.discriminator)
            rows.append({"step": step, "theta": theta, "psi": psi, "equilibrium_distance": (theta**2 + psi**2) ** 0.5})
        if step < STEPS:
            model.progress = step / STEPS
            model.d_step(model.real_batch(4, g))
            model.g_step(4)
    return pd.DataFrame(rows), cfg["analysis"]


def outcome(traj, opts):
    measures = stability.run_measures(
        traj, None, "completed", {"equilibrium_distance": False}, "equilibrium_distance", opts, None, "dirac"
    )
    return measures["outcome"]


def test_the_dirac_gan_starts_at_one_one_with_its_equilibrium_at_zero():
    traj, _ = trajectory("wgan", "none")
    assert (traj["theta"].iloc[0], traj["psi"].iloc[0]) == (1.0, 1.0)


@pytest.mark.parametrize("loss", ["wgan", "nonsaturating"])
def test_r1_converges_to_the_equilibrium(loss):
    traj, opts = trajectory(loss, "r1")
    start, end = traj["equilibrium_distance"].iloc[0], traj["equilibrium_distance"].iloc[-1]
    assert end < 1e-6 * start  # orders of magnitude: a contraction, not float noise
    assert outcome(traj, opts) == "converged"


def test_unregularised_wgan_circles_and_does_not_converge():
    traj, opts = trajectory("wgan", "none")
    start = traj["equilibrium_distance"].iloc[0]
    assert traj["equilibrium_distance"].min() > 0.8 * start  # never near (0, 0)
    assert (traj["theta"] < -0.5).any() and (traj["psi"] < -0.5).any()  # it goes round
    assert outcome(traj, opts) != "converged"


def test_the_theory_table_expectations():
    assert expected("nonsaturating", {})[0] == DOES_NOT
    assert expected("nonsaturating", {"r1": {"weight": 1.0}})[0] == CONVERGES
    assert expected("rpgan", {"r1": {}, "r2": {}})[0] == CONVERGES
    assert expected("wgan", {"instance_noise": {"std": 1.0, "anneal": False}})[0] == DOES_NOT
    assert expected("minimax", {"instance_noise": {"std": 1.0, "anneal": False}})[0] == CONVERGES
    assert expected("wgan-gp", {"gradient_penalty": {"weight": 1.0}})[0] == DOES_NOT
    assert expected("lsgan", {"r1": {}})[0] == DOES_NOT


def test_train_evaluate_and_the_theory_table_from_the_pipelines_clis(tmp_path):
    """The pipeline's path: gans.train stores D beside G at each evaluation point,
    metrics.evaluate reads (theta, psi), analysis.dirac labels the runs and draws them."""
    import yaml

    from analysis.dirac import main as dirac_main
    from gans.train import main as train_main
    from metrics.evaluate import main as evaluate_main

    cfg = copy.deepcopy(CONFIG)
    cfg["train"] = {"steps": 400, "batch_size": 4, "eval_every": 20, "log_every": 20, "population_size": 1}
    cfg["evaluation"] = {"num_samples": 10, "sampling_seeds": 1}
    path = tmp_path / "dirac.yaml"
    path.write_text(yaml.safe_dump(cfg))
    runs = []
    for preset in ("none", "r1"):
        out = tmp_path / preset
        args = ["--config", str(path), "--dataset", "dirac", "--variant", f"gan+{preset}", "--loss", "wgan"]
        assert train_main([*args, "--seed", "0", "--out", str(out), "--no-progress"]) == 0
        assert evaluate_main(["--config", str(path), "--run", str(out)]) == 0
        runs.append(str(out))
    table, figure = tmp_path / "tables" / "dirac", tmp_path / "dirac.png"
    assert dirac_main(["--config", str(path), "--runs", *runs, "--table", str(table), "--figure", str(figure)]) == 0
    rows = pd.read_csv(table.with_suffix(".csv")).set_index("regularizer")
    assert rows.loc["r1", "measured"] == "converged" and rows.loc["r1", "agree"] == "yes"
    assert rows.loc["none", "measured"] != "converged" and rows.loc["none", "agree"] == "yes"
    assert rows.loc["none", "final_psi"] != 1.0  # psi is read from D at each point, not its start
    assert figure.stat().st_size > 0 and "agree" in table.with_suffix(".md").read_text()
