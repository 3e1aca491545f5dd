"""Variant objectives weighted as their papers weight them: VAE-GAN's fake terms,
EBGAN's energy."""

import pytest
import torch
import torch.nn.functional as F

from analysis import config as acfg
from gans import config as gcfg
from gans.job import build

SMALL = {"models": {"points": {"params": {"width": 16, "depth": 2}}}}


def model_of(variant, loss, params=None):
    cfg = acfg.validate({**SMALL, "variants": {variant: params or {}}})
    torch.manual_seed(0)
    return build(gcfg.resolve_run(cfg, "8gaussians", variant, loss, 0))[1]


def d_gradient(model, loss_fn):
    params = list(model.discriminator.parameters())
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss_fn(), params)])


def test_vaegan_paper_weights_each_fake_term_by_one():
    model = model_of("vaegan", "nonsaturating")
    g = torch.Generator().manual_seed(0)
    real = model.real_batch(32, g)
    fake = model.generator(torch.randn(32, 2, generator=g)).detach()
    rec = model.reconstruct(real)[0].detach()
    d = model.discriminator

    def suite():
        return model.d_adversarial(d(real), d(fake), d(rec))

    def paper():  # -[log D(x) + log(1 - D(G(z))) + log(1 - D(G(E(x))))], each term weight 1
        return F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean() + F.softplus(d(rec)).mean()

    assert torch.allclose(d_gradient(model, suite), d_gradient(model, paper), atol=1e-6)
    fake_out, rec_out = d(fake), d(rec)
    expected = F.softplus(-fake_out).mean() + F.softplus(-rec_out).mean()
    assert torch.allclose(model.g_fake_terms(fake_out, rec_out), expected)


def test_vaegan_averaged_and_sample_only_terms():
    averaged = model_of("vaegan", "nonsaturating", {"fake_terms": "averaged"})
    out = torch.randn(8)
    assert torch.allclose(averaged.g_fake_terms(out[:4], out[4:]), F.softplus(-out).mean())
    sample_only = model_of("vaegan", "nonsaturating", {"fake_terms": "sample-only"})
    assert sample_only.extra_fakes(torch.randn(4, 2)) is None
    assert torch.allclose(sample_only.g_fake_terms(out[:4], out[4:]), F.softplus(-out[:4]).mean())
    with pytest.raises(
        gcfg.ConfigError,
        match=r"'variants.vaegan.fake_terms': 'both' is not one of \['paper', 'averaged', 'sample-only'\]",
    ):
        acfg.validate({**SMALL, "grid": {"variants": ["vaegan"]}, "variants": {"vaegan": {"fake_terms": "both"}}})


def test_ebgan_energy_is_the_norm_of_the_reconstruction_error():
    model = model_of("ebgan", "ebgan")
    x = torch.randn(5, 2)
    error = model.discriminator.reconstruct(x) - x
    assert torch.allclose(model.discriminator(x), error.norm(dim=1), atol=1e-5)
    square = model_of("ebgan", "ebgan", {"energy": "mean-square"})
    error = square.discriminator.reconstruct(x) - x
    assert torch.allclose(square.discriminator(x), error.pow(2).mean(1))
