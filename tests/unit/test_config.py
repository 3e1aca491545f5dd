"""Bad input fails before any work, naming the bad value and the valid choices."""

import copy

import pytest

from analysis import config as acfg
from gans import config as gcfg
from tests.conftest import TINY
from tests.conftest import tiny_with as bad


@pytest.mark.parametrize(
    "cfg, message",
    [
        (
            bad(grid__losses=["hinge", "wgan_gp"]),
            r"unknown loss 'wgan_gp'; choose one of: .*hinge, lsgan, minimax, nonsaturating, rpgan, wgan, wgan-gp",
        ),
        (
            bad(grid__datasets=["9gaussians"]),
            r"unknown dataset '9gaussians'; choose one of: 25gaussians, 2d-grid, 2d-ring, 8gaussians",
        ),
        (bad(grid__variants=["dcgan"]), r"unknown variant 'dcgan'; choose one of: .*gan"),
        (bad(train__steps=-5), r"config key 'train.steps': -5 is less than the minimum of 1"),
        (bad(train__stpes=5), r"config key 'train': Additional properties .*'stpes'.*valid keys: .*steps"),
        (bad(grid__seeds="0"), r"config key 'grid.seeds': '0' is a string; the key takes a list"),
        (
            bad(datasets={"8gaussians": {"sigma": 1}}),
            r"no parameter 'sigma'; valid parameters: modes, radius, scale, std",
        ),
        (bad(losses={"wgan-gp": {"regularizers": {"r3": {}}}}), r"unknown regularizer 'r3'; choose one of"),
        (bad(losses={"hingee": {}}), r"config key 'losses.hingee': unknown loss 'hingee'"),
        (
            bad(models={"points": {"architecture": "resnet"}}),
            r"unknown architecture 'resnet'; choose one of: dcgan, dirac, image-mlp, maxout-mlp, mlp, upsample-cnn",
        ),
        (
            bad(evaluation={"metrics": {"points": ["fid", "modez"]}}),
            r"unknown metric 'modez'; choose one of: class-conditional, class-modes, equilibrium, fid, isc, kid, modes, prc",
        ),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(cfg, message):
    with pytest.raises(gcfg.ConfigError, match=message):
        acfg.validate(cfg)


def test_defaults_are_filled_and_paper_setup_resolved(tiny_config):
    assert tiny_config["evaluation"]["num_samples"] == 200
    assert tiny_config["evaluation"]["prc"]["neighborhood"] == 3  # a default
    run = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "wgan-gp", 1)  # the toy code's set-up
    assert run["optimizer"] == {"name": "adam", "lr_d": 1e-4, "lr_g": 1e-4, "betas": [0.5, 0.9]}
    assert run["n_critic"] == 5 and run["regularizers"] == {"gradient_penalty": {"weight": 0.1, "target": 1.0}}
    assert run["dataset"]["params"] == {"radius": 2.0, "std": 0.02, "scale": 1.414, "modes": 8}


def test_overrides_replace_paper_values_key_by_key(tiny_config):
    cfg = copy.deepcopy(TINY)
    cfg["losses"] = {
        "wgan": {"optimizer": {"lr_d": 1e-3}, "regularizers": {"weight_clipping": {"clip": 0.05}}},
        "nonsaturating": {"optimizer": {"name": "sgd", "momentum": 0.9}},
    }
    cfg = acfg.validate(cfg)
    wgan = gcfg.resolve_run(cfg, "8gaussians", "gan", "wgan", 0)
    assert wgan["optimizer"] == {"name": "rmsprop", "lr_d": 1e-3, "lr_g": 5e-5}
    assert wgan["regularizers"] == {"weight_clipping": {"clip": 0.05}}
    ns = gcfg.resolve_run(cfg, "8gaussians", "gan", "nonsaturating", 0)
    assert ns["optimizer"] == {"name": "sgd", "lr_d": 1e-4, "lr_g": 1e-4, "momentum": 0.9}  # adam's betas dropped


@pytest.mark.parametrize("path", sorted(p.name for p in (gcfg.ROOT / "config").glob("*.yaml")))
def test_grid_and_the_shipped_configs(path):
    cfg = acfg.load(gcfg.ROOT / "config" / path)
    runs, skipped = list(gcfg.grid(cfg)), gcfg.skipped(cfg)
    assert {r["loss"] for r in runs} == set(gcfg.losses_in_grid(cfg)), "every loss runs somewhere"
    labels = gcfg.variant_labels(cfg)  # the variant names, or their sweep labels
    assert {r["variant"] for r in runs} == set(labels), "every variant runs somewhere"
    expected = 0
    for g in gcfg.grid_blocks(cfg):
        block_labels = gcfg.variant_labels({**cfg, "grid": g})
        assert {entry["variant"] for entry in block_labels.values()} == set(g["variants"])
        for d in g["datasets"]:
            seeds = cfg["per_dataset"].get(d, {}).get("seeds", g["seeds"])
            cells = len(block_labels) * len(g["losses"]) - sum(
                s["dataset"] == d and s["variant"] in block_labels and s["loss"] in g["losses"] for s in skipped
            )
            expected += cells * len(seeds)
    assert len(runs) == expected
    assert all(s["reason"] for s in skipped)


@pytest.mark.parametrize("name", ["variants", "images", "full"])
def test_the_larger_configs_have_every_variant_and_every_loss(name):
    from gans.losses import LOSSES
    from gans.variants import VARIANTS

    runs = list(gcfg.grid(acfg.load(gcfg.ROOT / "config" / f"{name}.yaml")))

    def shipped(registry):
        return {n for n, c in registry.items() if c.__module__.startswith(("gans.variants.", "gans.losses."))}

    assert {r["variant"] for r in runs} == shipped(VARIANTS)
    assert {r["loss"] for r in runs} == shipped(LOSSES)


@pytest.mark.parametrize("name", ["config.yaml", "paper-rates.yaml"])
def test_the_default_grid_treats_every_cell_alike_with_equal_latent_size(name):
    """Every cell at its paper set-up with the same named deviations and no override."""
    config = acfg.load(gcfg.ROOT / "config" / name)
    latent, deviations = {}, set()
    for run in gcfg.grid(config):
        resolved = gcfg.resolve_run(config, run["dataset"], run["variant"], run["loss"], run["seed"])
        assert resolved["setup"]["overrides"] == [], run
        deviations.add(tuple(resolved["setup"]["deviations"]))
        latent.setdefault(run["dataset"], set()).add(resolved["setup"]["latent_dim"])
    assert len(deviations) == 1, deviations
    assert all(len(sizes) == 1 for sizes in latent.values()), latent


def test_the_full_toy_config_has_every_supported_pair_at_full_length():
    from gans.losses import LOSSES
    from gans.variants import VARIANTS

    config = acfg.load(gcfg.ROOT / "config" / "full.yaml")
    pairs = {(r["variant"], r["loss"]) for r in gcfg.grid(config)}
    assert pairs == {
        (v, loss)
        for v, cls in VARIANTS.items()
        for loss in LOSSES.names()
        if cls.supports(loss)
        if cls.__module__.startswith("gans.variants.") and LOSSES.get(loss).__module__.startswith("gans.losses.")
    }
    assert config["train"]["steps"] >= 20000 and config["models"]["points"]["params"]["width"] == 400


def test_per_dataset_seeds_and_training_settings():
    cfg = acfg.validate(
        {
            "grid": {"datasets": ["8gaussians", "digits"], "losses": ["hinge"], "seeds": [0, 1, 2]},
            "train": {"steps": 100},
            "per_dataset": {"digits": {"seeds": [5], "train": {"steps": 7}}},
        }
    )
    assert [(r["dataset"], r["seed"]) for r in gcfg.grid(cfg)] == [
        ("8gaussians", 0),
        ("8gaussians", 1),
        ("8gaussians", 2),
        ("digits", 5),
    ]
    assert gcfg.resolve_run(cfg, "digits", "gan", "hinge", 5)["train"]["steps"] == 7
    assert gcfg.resolve_run(cfg, "8gaussians", "gan", "hinge", 0)["train"]["steps"] == 100
    with pytest.raises(
        gcfg.ConfigError,
        match=r"config key 'per_dataset.digits.train': .*'stepz' was unexpected.*valid keys: batch_size",
    ):
        acfg.validate({"grid": {"datasets": ["digits"]}, "per_dataset": {"digits": {"train": {"stepz": 7}}}})
    with pytest.raises(gcfg.ConfigError, match=r"config key 'per_dataset.digitz': unknown dataset 'digitz'"):
        acfg.validate({"per_dataset": {"digitz": {}}})


def test_per_dataset_variant_parameters():
    cfg = acfg.validate(
        {
            "grid": {"datasets": ["8gaussians", "digits"], "variants": ["infogan"], "losses": ["nonsaturating"]},
            "variants": {"infogan": {"categories": 8, "continuous": 1}},
            "per_dataset": {"digits": {"variants": {"infogan": {"categories": 10}}}},
        }
    )

    def params(d):
        return gcfg.resolve_run(cfg, d, "infogan", "nonsaturating", 0)["variant"]["params"]

    assert (params("8gaussians")["categories"], params("8gaussians")["continuous"]) == (8, 1)
    assert (params("digits")["categories"], params("digits")["continuous"]) == (10, 1)  # the rest from top level
    with pytest.raises(
        gcfg.ConfigError, match=r"config key 'per_dataset.digits.variants.infogn': unknown variant 'infogn'"
    ):
        acfg.validate({"per_dataset": {"digits": {"variants": {"infogn": {}}}}})
    with pytest.raises(gcfg.ConfigError, match=r"no parameter 'categoriez'; valid parameters: .*categories"):
        acfg.validate(
            {
                "grid": {"datasets": ["digits"], "variants": ["infogan"], "losses": ["nonsaturating"]},
                "per_dataset": {"digits": {"variants": {"infogan": {"categoriez": 10}}}},
            }
        )


def test_image_datasets_take_the_data_root():
    cfg = acfg.validate(
        {
            "grid": {"datasets": ["mnist"], "losses": ["hinge"]},
            "data_root": "/data",
            "datasets": {"cifar10": {"root": "/elsewhere"}},
        }
    )
    assert gcfg.resolve_dataset(cfg, "mnist") == {"name": "mnist", "params": {"root": "/data"}}
    assert gcfg.resolve_dataset(cfg, "cifar10")["params"]["root"] == "/elsewhere"
    assert gcfg.resolve_run(cfg, "mnist", "gan", "hinge", 0)["architecture"]["name"] == "dcgan"


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(gcfg.ConfigError, match="config file not found"):
        acfg.load(tmp_path / "nope.yaml")
    (tmp_path / "broken.yaml").write_text("grid: [unclosed\n")
    with pytest.raises(gcfg.ConfigError, match="not valid YAML"):
        acfg.load(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(gcfg.ConfigError, match="must be a mapping"):
        acfg.load(tmp_path / "list.yaml")


def test_grid_blocks_pool_their_runs_and_may_not_share_a_cell():
    cfg = copy.deepcopy(TINY)
    cfg["grid"] = [
        {"datasets": ["8gaussians"], "variants": ["gan"], "losses": ["nonsaturating", "wgan-gp"], "seeds": [0, 1, 2]},
        {"datasets": ["8gaussians", "25gaussians"], "variants": ["ebgan", "pacgan"], "losses": ["ebgan"], "seeds": [5]},
    ]
    cfg = acfg.validate(cfg)
    runs = list(gcfg.grid(cfg))
    assert len(runs) == 2 * 3 + 2 * 1  # pacgan x ebgan is not applicable
    assert {r["seed"] for r in runs if r["variant"] == "ebgan"} == {5}
    assert gcfg.datasets_in_grid(cfg) == ["8gaussians", "25gaussians"]
    assert gcfg.losses_in_grid(cfg) == ["nonsaturating", "wgan-gp", "ebgan"]
    assert [(s["variant"], s["loss"]) for s in gcfg.skipped(cfg)] == [("pacgan", "ebgan")] * 2
    overlapping = copy.deepcopy(cfg)
    overlapping["grid"][1]["variants"] = ["gan"]
    overlapping["grid"][1]["losses"] = ["wgan-gp"]
    with pytest.raises(gcfg.ConfigError, match="8gaussians/gan/wgan-gp is in block 0 and block 1"):
        acfg.validate(overlapping)
    typo = copy.deepcopy(TINY)
    typo["grid"] = [{**TINY["grid"], "loses": ["wgan"]}]
    with pytest.raises(gcfg.ConfigError, match="config key 'grid.0'.*'loses'.*valid keys: datasets, losses"):
        acfg.validate(typo)
