import copy

import pandas as pd
import pytest
import torch
import yaml

from analysis import config as acfg
from gans import config as gcfg
from gans.job import build
from gans.layout import TRAIN_FILES as OUTPUTS
from gans.losses import LOSSES
from gans.train import main, train
from gans.variants import VARIANTS
from metrics.config import resolve_eval
from metrics.evaluate import evaluate
from tests.conftest import TINY


def run_cfg(tiny_config, loss="nonsaturating", seed=0, **train_overrides):
    cfg = gcfg.resolve_run(tiny_config, "8gaussians", "gan", loss, seed)
    cfg["train"].update(train_overrides)
    return cfg


def test_writes_every_output_and_logs(tiny_config, tmp_path):
    summary = train(run_cfg(tiny_config), tmp_path, progress=False)
    assert summary["status"] == "completed" and summary["steps_completed"] == 40
    for name in OUTPUTS:
        assert (tmp_path / name).is_file(), name
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert list(log["step"]) == [10, 20, 30, 40]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"} <= set(log.columns)
    assert log[["d_real", "d_fake"]].apply(lambda c: c.between(0, 1)).all().all(), "JS losses log probabilities"
    snaps = torch.load(tmp_path / "snapshots.pt", weights_only=True)
    assert snaps["steps"] == [0, 20, 40]
    saved = yaml.safe_load((tmp_path / "config.resolved.yaml").read_text())
    assert saved == run_cfg(tiny_config)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["config"] == saved


def test_same_seed_same_result_other_seed_other_result(tiny_config, tmp_path):
    def final(seed, name):
        train(run_cfg(tiny_config, "wgan-gp", seed), tmp_path / name, progress=False)
        return torch.load(tmp_path / name / "checkpoint.pt", weights_only=True)["state"]["generator"], pd.read_csv(
            tmp_path / name / "train_log.csv"
        )

    (g1, log1), (g2, log2), (g3, _) = final(0, "a"), final(0, "b"), final(1, "c")
    assert all(torch.equal(g1[k], g2[k]) for k in g1)
    pd.testing.assert_frame_equal(log1.drop(columns="wall_time"), log2.drop(columns="wall_time"))
    assert not all(torch.equal(g1[k], g3[k]) for k in g1)


def test_nan_run_stops_cleanly_and_is_recorded_as_diverged(tmp_path):
    cfg = copy.deepcopy(TINY)
    cfg["losses"] = {"lsgan": {"optimizer": {"name": "sgd", "lr_d": 1e12, "lr_g": 1e12}}}
    cfg = acfg.validate(cfg)
    summary = train(gcfg.resolve_run(cfg, "8gaussians", "gan", "lsgan", 0), tmp_path, progress=False)
    assert summary["status"] == "diverged"
    assert "nan" in summary["reason"] or "inf" in summary["reason"] or "exceeds" in summary["reason"]
    assert summary["diverged_at_step"] < 40
    for name in OUTPUTS:
        assert (tmp_path / name).is_file()
    # evaluation still runs: the trajectory up to divergence, no final metrics
    result = evaluate(tmp_path, resolve_eval(cfg, "8gaussians"))
    assert result["status"] == "diverged"
    assert all(v is None for v in result["final"].values())
    assert result["last_good"]["step"] < summary["diverged_at_step"]


def test_loss_beyond_the_threshold_is_divergence(tiny_config, tmp_path):
    summary = train(run_cfg(tiny_config, divergence_threshold=1e-6), tmp_path, progress=False)
    assert summary["status"] == "diverged" and "exceeds divergence_threshold" in summary["reason"]
    assert summary["diverged_at_step"] == 10


SUPPORTED = [(v, loss) for v in VARIANTS.names() for loss in LOSSES.names() if VARIANTS.get(v).supports(loss)]


def test_every_loss_and_variant_can_be_trained():
    assert {loss for _, loss in SUPPORTED} == set(LOSSES.names())
    assert {v for v, _ in SUPPORTED} == set(VARIANTS.names())


@pytest.mark.parametrize("variant, loss", SUPPORTED)
def test_every_variant_and_loss_takes_a_training_step(tiny_config, variant, loss):
    """Discovered from the registries: a new variant or loss is tested with no edit here."""
    cfg = gcfg.resolve_run(tiny_config, "8gaussians", variant, loss, 0)
    dataset, model = build(cfg)
    before = {k: v.clone() for k, v in model.state_dict(model.generator_modules())["generator"].items()}
    g = torch.Generator().manual_seed(0)
    d_stats = model.d_step(model.real_batch(16, g), record=True)
    g_stats = model.g_step(16, record=True)
    assert all(torch.isfinite(v).all() for v in {**d_stats, **g_stats}.values())
    after = model.state_dict(model.generator_modules())["generator"]
    assert any(not torch.equal(before[k], after[k]) for k in before), "G's step must change G"
    assert model.sample(8).shape == (8, 2)


def test_cli_refuses_an_unknown_loss(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "--config",
                str(gcfg.ROOT / "config/config.yaml"),
                "--dataset",
                "8gaussians",
                "--variant",
                "gan",
                "--loss",
                "wgan_gp",
                "--seed",
                "0",
                "--out",
                str(tmp_path / "x"),
            ]
        )
    assert exc.value.code == 2
    assert "unknown loss 'wgan_gp'; choose one of:" in capsys.readouterr().err
    assert not (tmp_path / "x").exists(), "nothing written before the error"


@pytest.mark.parametrize("name", __import__("gans.regularizers", fromlist=["REGULARIZERS"]).REGULARIZERS.names())
def test_every_regularizer_takes_a_training_step(name):
    """Discovered from the registry: a new regularizer is tested with no edit here."""
    cfg = copy.deepcopy(TINY)
    cfg["grid"]["losses"] = ["nonsaturating"]
    cfg["regularizers"] = {name: {}}
    run = gcfg.resolve_run(acfg.validate(cfg), "8gaussians", "gan", "nonsaturating", 0)
    dataset, model = build(run)
    model.progress = 0.5
    stats = {
        **model.d_step(model.real_batch(16, torch.Generator().manual_seed(0)), record=True),
        **model.g_step(16, record=True),
    }
    assert all(torch.isfinite(v).all() for v in stats.values())
