"""Every loss against values computed by hand on small inputs."""

import math

import pytest
import torch

from gans.losses import LOSSES, build_loss

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sig(t):
    return 1 / (1 + math.exp(-t))


def mean(xs):
    return sum(xs) / len(xs)


EXPECTED = {
    # D: -E log D(x) - E log(1 - D(G(z))), D = sigmoid(logit)
    "minimax": (
        mean([-math.log(sig(2.0)), -math.log(sig(-1.0))]) + mean([-math.log(1 - sig(0.5)), -math.log(1 - sig(-3.0))]),
        mean([math.log(1 - sig(0.5)), math.log(1 - sig(-3.0))]),  # G: E log(1 - D(G(z)))
    ),
    "nonsaturating": (
        mean([-math.log(sig(2.0)), -math.log(sig(-1.0))]) + mean([-math.log(1 - sig(0.5)), -math.log(1 - sig(-3.0))]),
        mean([-math.log(sig(0.5)), -math.log(sig(-3.0))]),  # G: -E log D(G(z))
    ),
    "wgan": (mean([0.5, -3.0]) - mean([2.0, -1.0]), -mean([0.5, -3.0])),
    "wgan-gp": (mean([0.5, -3.0]) - mean([2.0, -1.0]), -mean([0.5, -3.0])),
    # D: 1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2 ; G: 1/2 E (D(G(z)) - 1)^2
    "lsgan": (0.5 * mean([1.0, 4.0]) + 0.5 * mean([0.25, 9.0]), 0.5 * mean([0.25, 16.0])),
    # D: E relu(1 - D(x)) + E relu(1 + D(G(z))) ; G: -E D(G(z))
    "hinge": (mean([0.0, 2.0]) + mean([1.5, 0.0]), -mean([0.5, -3.0])),
}


def test_every_loss_has_a_hand_computed_case():
    assert set(EXPECTED) <= set(LOSSES.names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_values(name):
    loss = build_loss(name)
    d, g = EXPECTED[name]
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.g_loss(FAKE).item() == pytest.approx(g, rel=1e-6)


def test_rpgan_pairs_each_fake_with_its_real_sample():
    """RpGAN (R3GAN's loss): D's loss is the mean of softplus(D(fake_i) - D(real_i)) over
    the pairs, G's the mean of softplus(D(real_i) - D(fake_i)); by hand on two pairs,
    with softplus(t) = log(1 + e^t)."""
    loss = build_loss("rpgan")
    softplus = lambda t: math.log1p(math.exp(t))  # noqa: E731
    d = mean([softplus(0.5 - 2.0), softplus(-3.0 - (-1.0))])  # log(1 + e^-1.5), log(1 + e^-2)
    g = mean([softplus(2.0 - 0.5), softplus(-1.0 - (-3.0))])
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.g_loss(FAKE, REAL).item() == pytest.approx(g, rel=1e-6)
    assert d == pytest.approx(0.5 * (math.log(1 + math.exp(-1.5)) + math.log(1 + math.exp(-2.0))))
    # not the unpaired loss: swapping the fakes changes it
    assert loss.d_loss(REAL, FAKE.flip(0)).item() != pytest.approx(d, rel=1e-3)
    with pytest.raises(ValueError, match="pairs"):
        loss.g_loss(FAKE)
    with pytest.raises(ValueError, match="one to one"):
        loss.d_loss(REAL, torch.cat([FAKE, FAKE]))


def test_saturation():
    """The saturating loss gives G almost no gradient when D confidently rejects
    its samples; the non-saturating loss gives a strong one."""
    fake = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(build_loss("minimax").g_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(build_loss("nonsaturating").g_loss(fake), fake)
    assert abs(g_mm.item()) < 1e-3 < 0.99 < abs(g_ns.item())


def test_logit_losses_stay_finite_for_extreme_logits():
    big = torch.tensor([1e4, -1e4])
    for name in ("minimax", "nonsaturating"):
        loss = build_loss(name)
        assert torch.isfinite(loss.d_loss(big, -big)) and torch.isfinite(loss.g_loss(big))


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("family", ["points", "images"])
def test_paper_training_setup_is_complete(name, family):
    training = LOSSES.get(name).training[family]
    assert training["optimizer"]["name"] in ("adam", "rmsprop", "sgd")
    assert training["optimizer"]["lr_d"] > 0 and training["optimizer"]["lr_g"] > 0
    assert training["n_critic"] >= 1
    assert training["source"]  # every set-up says where it comes from
