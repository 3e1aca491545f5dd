"""Every variant on images (digits, tiny conv nets), and the variant options that
act on image architectures: virtual batch norm, semi-supervised CatGAN on digits."""

import copy

import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.job import build
from gans.losses import LOSSES
from gans.variants import VARIANTS
from gans.variants.improved import VirtualBatchNorm
from tests.numerics import SEED_SHIFT

TINY_IMAGES = {"noise_dim": 8, "params": {"ngf": 4, "ndf": 4}}


def digits_run(variant, loss, variant_params=None, batch_size=8, seed=0, **images):
    seed += SEED_SHIFT  # GANS_TEST_NUMERICS=seed-shift=K (tests/numerics.py)
    config = acfg.validate(
        {
            "grid": {"datasets": ["digits"], "variants": [variant], "losses": [loss], "seeds": [seed]},
            "variants": {variant: variant_params or {}},
            "models": {"images": {**TINY_IMAGES, **images}},
            "train": {"batch_size": batch_size},
        }
    )
    run = gcfg.resolve_run(config, "digits", variant, loss, seed)
    torch.manual_seed(seed)
    return build(run) + (run,)


def one_loss(variant: str) -> str:
    """The plain game's loss where the variant takes it, else its own objective."""
    cls = VARIANTS.get(variant)
    return "nonsaturating" if cls.supports("nonsaturating") else next(n for n in LOSSES.names() if cls.supports(n))


@pytest.mark.parametrize("variant", VARIANTS.names())
def test_every_variant_trains_on_digits_and_samples(variant):
    loss = one_loss(variant)
    dataset, model, run = digits_run(variant, loss)
    before = copy.deepcopy(model.state_dict(["generator", "discriminator"]))
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        for _k in range(run["n_critic"]):
            d = model.d_step(model.real_batch(8, g), record=True)
        s = model.g_step(8, record=True)
        assert torch.isfinite(d["d_loss"]) and torch.isfinite(s["g_loss"]), (d, s)
    after = model.state_dict(["generator", "discriminator"])
    for net in ("generator", "discriminator"):
        assert any(not torch.equal(before[net][k], after[net][k]) for k in before[net]), (
            f"{variant}: {net} did not learn"
        )
    x = model.sample(6, torch.Generator().manual_seed(1))
    assert x.shape == (6, 1, 28, 28) and torch.isfinite(x).all() and x.abs().max() <= 1
    assert model.discriminate(dataset.sample(6, g)).shape == (6,)


def test_image_architectures_fit_each_variant():
    """What each paper changes, on the conv nets: PacGAN's D sees m images as m*C
    channels, cgan's D the image plus K label planes, CatGAN's D has K outputs,
    InfoGAN's Q sits on D's conv trunk, EBGAN's D is an auto-encoder of images,
    VAE-GAN's encoder maps an image to G's latent space."""
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    _, pac, _ = digits_run("pacgan", "nonsaturating", {"pack": 3}, batch_size=6)
    assert pac.discriminator.trunk[0].in_channels == 3 and pac.d_outputs(x).shape == (2,)
    _, cgan, _ = digits_run("cgan", "nonsaturating")
    assert cgan.discriminator.trunk[0].in_channels == 11 and cgan.sample_class(4, 7).shape == (4, 1, 28, 28)
    _, cat, _ = digits_run("catgan", "catgan")
    assert cat.d_outputs(x).shape == (6, 10)
    _, info, _ = digits_run("infogan", "nonsaturating", {"categories": 10, "continuous": 2})
    logits, cont = info.q_outputs(x)
    assert logits.shape == (6, 10) and cont.shape == (6, 2)
    _, eb, _ = digits_run("ebgan", "ebgan")
    assert eb.discriminator.reconstruct(x).shape == x.shape and eb.discriminator(x).shape == (6,)
    _, vae, _ = digits_run("vaegan", "nonsaturating")
    rec, mu, _ = vae.reconstruct(x)
    assert rec.shape == x.shape and mu.shape == (6, 8)


@pytest.mark.training_outcome
def test_semi_supervised_catgan_on_digits():
    """100 labelled digits (10 a class): D classifies the held-out digits; measured
    0.87 to 0.93 after 100 steps over seeds 0-4 (unsupervised: 0.12, its classes are its own)."""
    dataset, model, _ = digits_run("catgan", "catgan", {"labeled_per_class": 10}, batch_size=32, noise_dim=16)
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        model.d_step(model.real_batch(32, g))
        model.g_step(32)
    model.discriminator.eval()
    images, labels = dataset.split(False)
    accuracy = (model.classify(images) == labels).float().mean().item()
    assert accuracy > 0.6, accuracy


@pytest.mark.training_outcome
def test_infogan_q_recovers_the_categorical_code_on_digits():
    _, model, _ = digits_run(
        "infogan", "nonsaturating", {"categories": 10, "continuous": 2}, batch_size=32, noise_dim=16
    )
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        model.d_step(model.real_batch(32, g))
        model.g_step(32)
    model.generator.eval()
    model.discriminator.eval()
    z, info = model.latent(1000, torch.Generator().manual_seed(5))
    with torch.no_grad():
        predicted, _ = model.predict_codes(model.generator(z))
    accuracy = (predicted == info["cat"]).float().mean().item()
    assert accuracy > 0.5, accuracy  # chance: 0.1; measured: 0.74 to 0.85 over seeds 0-4


def test_virtual_batch_norm_is_batch_norm_over_the_reference_batch_plus_the_example():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(3)
    torch.nn.init.normal_(bn.weight)
    torch.nn.init.normal_(bn.bias)
    vbn = VirtualBatchNorm(bn)
    reference, x = torch.randn(16, 3, 5, 5), torch.randn(4, 3, 5, 5) * 2 + 1
    vbn(reference)
    out = vbn(x)
    for i in range(4):  # train-mode batch norm of the 17 examples, read off at the 17th
        expected = bn(torch.cat([reference, x[i : i + 1]]))[-1]
        assert torch.allclose(out[i], expected, atol=1e-5)


def test_virtual_batch_norm_makes_each_sample_independent_of_its_batch():
    _, plain, _ = digits_run("improved", "nonsaturating")
    _, virtual, _ = digits_run("improved", "nonsaturating", {"virtual_batch_norm": True, "vbn_reference_size": 16})
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in virtual.generator.modules())
    g = torch.Generator().manual_seed(3)
    z = torch.randn(9, plain.latent_dim(), generator=g)
    others = torch.randn(8, plain.latent_dim(), generator=g)
    for model, independent in ((virtual, True), (plain, False)):
        model.generator.train()
        with torch.no_grad():
            a = model.generator(z)[0]
            b = model.generator(torch.cat([z[:1], others]))[0]
        assert torch.allclose(a, b, atol=1e-5) == independent
    # the reference batch is fixed at the start, saved with G, and G still learns
    reference = virtual.generator.reference_input.clone()
    assert torch.equal(virtual.state_dict(["generator"])["generator"]["reference_input"], reference)
    weights = copy.deepcopy(virtual.generator.state_dict())
    virtual.d_step(virtual.real_batch(8, g))
    virtual.g_step(8)
    assert torch.equal(virtual.generator.reference_input, reference)
    assert any(not torch.equal(weights[k], v) for k, v in virtual.generator.state_dict().items())


def test_virtual_batch_norm_needs_batch_norm_in_g():
    config = {
        "grid": {"datasets": ["8gaussians"], "variants": ["improved"], "losses": ["nonsaturating"], "seeds": [0]},
        "variants": {"improved": {"virtual_batch_norm": True}},
    }
    with pytest.raises(
        gcfg.ConfigError, match="virtual_batch_norm replaces G's batch-norm layers, and architecture 'mlp' has none"
    ):
        acfg.validate(config)
