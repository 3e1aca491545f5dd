"""At the optimal discriminator, each f-GAN loss equals its f-divergence, checked
against numerical integration between two known Gaussians."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
import torch

from gans.losses import build_loss

P = scipy.stats.norm(0.0, 1.0)
Q = scipy.stats.norm(0.7, 1.3)  # wider than P, so every divergence here is finite

# f(u) and the optimal D output v*(u) = g_f^{-1}(f'(u)), u = p/q
DIVERGENCES = {
    "fgan-kl": (lambda u: u * np.log(u), lambda u: 1 + np.log(u)),
    "fgan-reverse-kl": (lambda u: -np.log(u), lambda u: np.log(u)),
    "fgan-pearson": (lambda u: (u - 1) ** 2, lambda u: 2 * (u - 1)),
    "fgan-hellinger": (lambda u: (np.sqrt(u) - 1) ** 2, lambda u: 0.5 * np.log(u)),
    "fgan-js": (lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u), lambda u: np.log(u)),
}


def quantile_points(dist, n=400_000):
    """Stratified samples: plain means over them are accurate integrals."""
    return dist.ppf((np.arange(n) + 0.5) / n)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_optimal_discriminator_gives_the_divergence(name):
    f, v_star = DIVERGENCES[name]
    ratio = lambda x: P.pdf(x) / Q.pdf(x)  # noqa: E731
    exact, _ = scipy.integrate.quad(lambda x: Q.pdf(x) * f(ratio(x)), -30, 30, limit=400)
    xp, xq = quantile_points(P), quantile_points(Q)
    real_out = torch.tensor(v_star(ratio(xp)), dtype=torch.float64)
    fake_out = torch.tensor(v_star(ratio(xq)), dtype=torch.float64)
    loss = build_loss(name)
    estimate = -loss.d_loss(real_out, fake_out).item()
    assert estimate == pytest.approx(exact, rel=2e-3, abs=1e-4)
    # any other discriminator gives a smaller bound
    assert -loss.d_loss(real_out * 0.8, fake_out * 0.8).item() < estimate


def test_js_bound_is_twice_the_jensen_shannon_divergence_at_the_gan_optimum():
    """The f-GAN paper's JS generator function gives twice the Jensen-Shannon divergence."""
    m = lambda x: 0.5 * (P.pdf(x) + Q.pdf(x))  # noqa: E731
    jsd = (
        0.5 * scipy.integrate.quad(lambda x: P.pdf(x) * math.log(P.pdf(x) / m(x)), -30, 30)[0]
        + 0.5 * scipy.integrate.quad(lambda x: Q.pdf(x) * math.log(Q.pdf(x) / m(x)), -30, 30)[0]
    )
    f, _ = DIVERGENCES["fgan-js"]
    df = scipy.integrate.quad(lambda x: Q.pdf(x) * f(P.pdf(x) / Q.pdf(x)), -30, 30)[0]
    assert df == pytest.approx(2 * jsd, rel=1e-6)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_generator_objectives_and_finite_values(name):
    v = torch.linspace(-20, 20, 101)
    trick, saddle = build_loss(name), build_loss(name, generator="saddle")
    assert torch.isfinite(trick.d_loss(v, v))
    assert torch.isfinite(trick.g_loss(v))
    assert not torch.equal(trick.g_loss(v), saddle.g_loss(v))
    with pytest.raises(ValueError, match="choose one of: saddle, trick"):
        build_loss(name, generator="minimax")
