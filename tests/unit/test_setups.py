"""Each component's paper set-up per data family resolves to the values documented
in docs/setups.md; named deviations and config overrides are recorded."""

import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.config.setups import DEVIATIONS, deviation_label
from gans.datasets import build_dataset
from gans.job import build

ADAM = "adam"
# loss -> family -> (optimizer name, lr_d, lr_g, betas, n_critic, regularizers, deviations)
DOCUMENTED = {
    "nonsaturating": {
        "points": (ADAM, 1e-4, 1e-4, [0.8, 0.999], 1, {}, []),  # PacGAN's 2-D code
        "images": (ADAM, 2e-4, 2e-4, [0.5, 0.999], 1, {}, []),  # DCGAN
    },
    "minimax": {
        "points": (ADAM, 1e-4, 1e-4, [0.8, 0.999], 1, {}, []),
        "images": (ADAM, 2e-4, 2e-4, [0.5, 0.999], 1, {}, []),
    },
    "wgan": {
        family: ("rmsprop", 5e-5, 5e-5, None, 5, {"weight_clipping": {"clip": 0.01}}, [])
        for family in ("points", "images")
    },
    "wgan-gp": {
        "points": (ADAM, 1e-4, 1e-4, [0.5, 0.9], 5, {"gradient_penalty": {"weight": 0.1, "target": 1.0}}, []),
        "images": (ADAM, 1e-4, 1e-4, [0.5, 0.9], 5, {"gradient_penalty": {"weight": 10.0, "target": 1.0}}, []),
    },
    "hinge": {
        family: (ADAM, 2e-4, 2e-4, [0.0, 0.9], 5, {"spectral_norm": {"power_iterations": 1}}, [])
        for family in ("points", "images")
    },
    "lsgan": {family: (ADAM, 2e-4, 2e-4, [0.5, 0.999], 1, {}, []) for family in ("points", "images")},
    **{
        loss: {
            "points": (ADAM, 4e-4, 1e-4, [0.5, 0.999], 1, {"r1": {"weight": 1.0}}, ["r1", "ttur"]),
            "images": (ADAM, 2e-4, 2e-4, [0.5, 0.999], 1, {}, []),
        }
        for loss in ("fgan-kl", "fgan-reverse-kl", "fgan-pearson", "fgan-hellinger")
    },
    "rpgan": {
        family: (ADAM, 2e-4, 2e-4, [0.0, 0.9], 1, {"r1": {"weight": 0.05}, "r2": {"weight": 0.05}}, [])
        for family in ("points", "images")
    },
    "fgan-js": {family: (ADAM, 2e-4, 2e-4, [0.5, 0.999], 1, {}, []) for family in ("points", "images")},
    "ebgan": {family: (ADAM, 1e-3, 1e-3, [0.5, 0.999], 1, {}, []) for family in ("points", "images")},
    "catgan": {family: (ADAM, 1e-3, 1e-3, [0.5, 0.999], 1, {}, []) for family in ("points", "images")},
}
DATASET_OF = {"points": "8gaussians", "images": "digits"}
OWN_VARIANT = {"ebgan": "ebgan", "catgan": "catgan"}


def resolved(loss, family, config=None, variant=None):
    cfg = acfg.validate(config or {})
    return gcfg.resolve_run(cfg, DATASET_OF[family], variant or OWN_VARIANT.get(loss, "gan"), loss, 0)


@pytest.mark.parametrize("family", ["points", "images"])
@pytest.mark.parametrize("loss", sorted(DOCUMENTED))
def test_loss_setup_resolves_to_the_documented_values(loss, family):
    name, lr_d, lr_g, betas, n_critic, regularizers, deviations = DOCUMENTED[loss][family]
    run = resolved(loss, family)
    assert run["optimizer"]["name"] == name
    assert (run["optimizer"]["lr_d"], run["optimizer"]["lr_g"]) == (lr_d, lr_g)
    assert run["optimizer"].get("betas") == betas
    assert run["n_critic"] == n_critic
    assert run["regularizers"] == regularizers
    assert run["setup"]["family"] == family and run["setup"]["source"]
    assert run["setup"]["deviations"] == deviations and run["setup"]["overrides"] == []


def test_ebgan_margin_follows_the_family():
    assert resolved("ebgan", "points")["loss"]["params"]["margin"] == 1.0
    assert resolved("ebgan", "images")["loss"]["params"]["margin"] == 10.0  # the paper's MNIST margin


def test_deviations_can_be_switched_off_or_on_and_are_recorded():
    paper = resolved("fgan-kl", "points", {"losses": {"fgan-kl": {"deviations": []}}})
    assert paper["regularizers"] == {} and paper["optimizer"]["lr_d"] == 2e-4
    assert deviation_label(paper["setup"]) == "paper"
    ttur = resolved("nonsaturating", "points", {"losses": {"nonsaturating": {"deviations": ["ttur"]}}})
    assert (ttur["optimizer"]["lr_d"], ttur["optimizer"]["lr_g"]) == (4e-4, 1e-4)
    assert ttur["optimizer"]["betas"] == [0.8, 0.999]  # the rest of the paper set-up stays
    assert deviation_label(ttur["setup"]) == "ttur"


def test_config_overrides_are_recorded_only_where_they_change_the_setup():
    same = resolved("nonsaturating", "points", {"losses": {"nonsaturating": {"optimizer": {"lr_g": 1.0e-4}}}})
    assert same["setup"]["overrides"] == []
    changed = resolved(
        "wgan-gp", "points", {"losses": {"wgan-gp": {"n_critic": 2}}, "regularizers": {"instance_noise": {}}}
    )
    assert changed["setup"]["overrides"] == ["regularizers.instance_noise", "n_critic"]
    assert deviation_label(changed["setup"]) == "override:regularizers.instance_noise+override:n_critic"


def test_an_unknown_deviation_is_refused_naming_the_valid_ones():
    with pytest.raises(gcfg.ConfigError, match=r"unknown deviation 'r2'; choose one of: fast-lr, r1, ttur"):
        resolved("fgan-kl", "points", {"losses": {"fgan-kl": {"deviations": ["r2"]}}})
    assert set(DEVIATIONS) == {"fast-lr", "r1", "ttur"}


def test_infogan_code_is_sized_to_the_data():
    points = resolved("nonsaturating", "points", variant="infogan")
    assert points["variant"]["params"]["categories"] == 8 and points["variant"]["params"]["continuous"] == 0
    assert points["setup"]["latent_dim"] == 2 + 8
    images = resolved("nonsaturating", "images", variant="infogan")
    assert images["variant"]["params"]["categories"] == 10 and images["variant"]["params"]["continuous"] == 2
    assert images["variant"]["params"]["lambda_cont"] == 1.0  # the released MNIST launcher
    grid = gcfg.resolve_run(acfg.validate({}), "25gaussians", "infogan", "nonsaturating", 0)
    assert grid["variant"]["params"]["categories"] == 25
    # the config's own value wins
    own = resolved("nonsaturating", "points", {"variants": {"infogan": {"categories": 3}}}, variant="infogan")
    assert own["variant"]["params"]["categories"] == 3


def test_improved_defaults_to_minibatch_discrimination_with_an_adversarial_g_loss():
    for family in ("points", "images"):
        params = resolved("nonsaturating", family, variant="improved")["variant"]["params"]
        assert params["feature_matching"] is False
        assert (params["minibatch_features"], params["minibatch_kernel_dim"]) == (100, 5)
        assert params["real_label"] == 1.0 and params["historical_averaging"] == 0.0
        assert params["virtual_batch_norm"] is False


def test_improved_g_loss_passes_through_the_minibatch_layer():
    run = resolved("nonsaturating", "points", {"models": {"points": {"params": {"width": 16, "depth": 2}}}}, "improved")
    _, model = build(run)
    model.d_step(model.real_batch(32, torch.Generator().manual_seed(0)))
    model.g_step(32)
    # G's adversarial loss reaches D's minibatch features: the layer's parameter gets a
    # gradient through G's loss, so it shapes what G learns
    model.discriminator.requires_grad_(True)
    z, info = model.latent(32)
    loss = model.g_adversarial(model.d_outputs(model.generate(z, info)))
    (grad,) = torch.autograd.grad(loss, model.discriminator.mbd.T)
    assert grad.abs().sum() > 0


def test_latent_dim_is_recorded_for_every_variant():
    for variant, size in (("gan", 2), ("cgan", 10), ("pacgan", 2)):
        assert resolved("nonsaturating", "points", variant=variant)["setup"]["latent_dim"] == size


def test_a_dataset_may_bring_its_own_model():
    cfg = {
        "grid": {"datasets": ["2d-ring"], "variants": ["gan"], "losses": ["nonsaturating"]},
        "per_dataset": {"2d-ring": {"model": {"architecture": "maxout-mlp", "params": {"pieces": 3}}}},
        "models": {"points": {"params": {"width": 16, "depth": 2}}},
    }
    cfg = acfg.validate(cfg)
    run = gcfg.resolve_run(cfg, "2d-ring", "gan", "nonsaturating", 0)
    assert run["architecture"]["name"] == "maxout-mlp"
    assert run["architecture"]["params"]["pieces"] == 3 and "width" not in run["architecture"]["params"]
    assert gcfg.resolve_run(cfg, "8gaussians", "gan", "nonsaturating", 0)["architecture"]["name"] == "mlp"


def test_pacgan_datasets_have_the_published_parameters():
    ring, grid = build_dataset("2d-ring"), build_dataset("2d-grid")
    assert torch.allclose(ring.centers.norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert ring.mode_std == 0.01
    assert grid.mode_std == 0.05 and len(grid.centers) == 25
    assert sorted(set(grid.centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
