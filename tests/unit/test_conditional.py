"""Per-class evaluation of conditional variants: the statistics on constructed
samples, and a trained cgan measured end to end (metrics.csv/json, samples.npz)."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.datasets import build_dataset
from gans.job import build
from gans.train import train
from metrics import METRICS
from metrics.config import resolve_eval
from metrics.evaluate import evaluate, per_class_metrics
from metrics.points import PointInputs
from tests.conftest import FAST_ADAM, TINY
from tests.numerics import SEED_SHIFT
from tests.unit.test_metrics import EVAL, points_on_modes


def test_class_accuracy_and_modes_per_class_on_constructed_samples():
    ds = build_dataset("8gaussians")
    metric = METRICS.get("class-conditional")(EVAL, ds, None)
    right = [points_on_modes(ds, [k], 50, seed=k, spread=0.5) for k in range(8)]
    assert metric.compute(right) == {"class_accuracy": 1.0, "class_accuracy_min": 1.0, "modes_per_class": 1.0}
    # G puts class k on mode k+1: perfect samples, wrong classes
    shifted = [points_on_modes(ds, [(k + 1) % 8], 50, seed=k, spread=0.5) for k in range(8)]
    assert metric.compute(shifted) == {"class_accuracy": 0.0, "class_accuracy_min": 0.0, "modes_per_class": 1.0}
    # class 0 ignores its label (spread over all modes), half of class 1 is off every mode
    mixed = list(right)
    mixed[0] = points_on_modes(ds, range(8), 10, spread=0.5)
    mixed[1] = torch.cat([right[1][:25], right[1][:25] + 10 * ds.mode_std])
    got = metric.compute(mixed)
    assert got["class_accuracy"] == pytest.approx((1 / 8 + 0.5 + 6) / 8)
    assert got["class_accuracy_min"] == pytest.approx(1 / 8)
    assert got["modes_per_class"] == pytest.approx((8 + 7) / 8)


def test_per_class_metrics_only_for_conditional_variants_and_never_listed():
    config = acfg.validate({**copy.deepcopy(TINY), "grid": {**TINY["grid"], "variants": ["gan", "cgan"]}})
    ev = resolve_eval(config, "8gaussians")
    for variant, expected in (("gan", []), ("cgan", ["class-conditional"])):
        ds, model = build(gcfg.resolve_run(config, "8gaussians", variant, "nonsaturating", 0))
        assert [m.name for m in per_class_metrics(model, PointInputs(ds, model, ev, None), ev, None)] == expected
    config["evaluation"]["metrics"]["points"] = ["modes", "class-conditional"]
    with pytest.raises(gcfg.ConfigError, match="measured by itself for conditional variants; remove it"):
        acfg.validate(config)


@pytest.mark.training_outcome
def test_trained_cgan_is_measured_class_by_class(tmp_path):
    cfg = copy.deepcopy(TINY)
    seed = SEED_SHIFT  # GANS_TEST_NUMERICS=seed-shift=K (tests/numerics.py)
    cfg["grid"] = {"datasets": ["8gaussians"], "variants": ["cgan"], "losses": ["nonsaturating"], "seeds": [seed]}
    cfg["models"]["points"]["params"] = {"width": 128, "depth": 2}
    cfg["losses"] = {"nonsaturating": {"optimizer": FAST_ADAM}}
    cfg["train"].update(steps=800, eval_every=400)
    cfg = acfg.validate(cfg)
    train(gcfg.resolve_run(cfg, "8gaussians", "cgan", "nonsaturating", seed), tmp_path, progress=False)
    evaluate(tmp_path, resolve_eval(cfg, "8gaussians"))
    table = pd.read_csv(tmp_path / "metrics.csv")
    assert {"modes_covered", "fid", "class_accuracy", "class_accuracy_min", "modes_per_class"} <= set(table.columns)
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    # chance is 1/8; measured over seeds 0-5: 0.42 to 0.84 (every sample counted, off-mode
    # ones as misses), 1 mode per class on each
    assert final["class_accuracy"] > 0.25 and abs(final["modes_per_class"] - 1.0) <= 0.25, final
    samples = np.load(tmp_path / "samples.npz")
    assert samples["fake_classes_800"].shape == (8, 25, 2)


def test_a_composite_label_is_one_hot_per_factor():
    from gans.variants.cgan import label_code

    assert torch.equal(label_code(torch.tensor([3, 0]), (8,)), torch.nn.functional.one_hot(torch.tensor([3, 0]), 8))
    code = label_code(torch.tensor([123, 907]), (10, 10, 10))
    assert code.shape == (2, 30)
    assert code[0].nonzero().flatten().tolist() == [1, 12, 23] and code[1].nonzero().flatten().tolist() == [9, 10, 27]


def test_cgan_on_stacked_mnist_sees_30_label_planes(tmp_path):
    """Stacked MNIST's 1,000 classes reach G and D as its digit triple: 3 x 10 one-hot
    planes, and the conditioning still selects the triple asked for."""
    from tests.unit.test_image_data import tiny_mnist_family

    tiny_mnist_family(tmp_path, "MNIST", n_train=30)
    cfg = acfg.validate(
        {
            "grid": {"datasets": ["stacked-mnist"], "variants": ["cgan"], "losses": ["nonsaturating"]},
            "data_root": str(tmp_path),
            "models": {"images": {"architecture": "dcgan", "noise_dim": 8, "params": {"ngf": 4, "ndf": 4}}},
        }
    )
    ds, model = build(gcfg.resolve_run(cfg, "stacked-mnist", "cgan", "nonsaturating", 0))
    assert ds.label_factors == (10, 10, 10) and model.code_dim == 30 and model.latent_dim() == 8 + 30
    first_conv = next(m for m in model.discriminator.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 3 + 30
    x = model.real_batch(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 33, 28, 28)
    _, labels = ds.sample_labeled(5, torch.Generator().manual_seed(0))
    for plane, digit in zip(
        (3, 13, 23), (labels // 100, labels // 10 % 10, labels % 10), strict=True
    ):  # R, G, B digit's block
        assert torch.equal(x[:, plane : plane + 10, 0, 0].argmax(1), digit)
    model.d_step(x), model.g_step(5)
    assert model.sample_class(4, 321).shape == (4, 3, 28, 28)
