import pytest
import torch
from torch import nn

from analysis import config as acfg
from gans.regularizers import REGULARIZERS, build_regularizers


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = w.x has gradient w everywhere: the penalty is weight * (|w| - 1)^2."""
    d = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
    (gp,) = build_regularizers({"gradient_penalty": {"weight": 10.0}})
    value = gp.penalty(lambda x: d(x).squeeze(-1), torch.randn(16, 2), torch.randn(16, 2), None, None)
    assert value.item() == pytest.approx(10.0 * 16.0)
    value.backward()
    assert d.weight.grad is not None, "the penalty must train the critic"


def test_weight_clipping():
    d = nn.Linear(4, 1)
    with torch.no_grad():
        d.weight.fill_(0.5)
    (clip,) = build_regularizers({"weight_clipping": {"clip": 0.01}})
    clip.after_d_step(d)
    assert all(p.abs().max() <= 0.01 for p in d.parameters())


def test_unknown_regularizer_names_choices():
    with pytest.raises(KeyError, match="choose one of: .*gradient_penalty"):
        build_regularizers({"gradient_penalti": {}})
    assert "weight_clipping" in REGULARIZERS


def test_r1_of_a_linear_critic():
    d = nn.Linear(2, 1)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[3.0, 4.0]]))
    (r1,) = build_regularizers({"r1": {"weight": 2.0}})
    value = r1.penalty(lambda x: d(x).squeeze(-1), torch.randn(8, 2), None, None, None)
    assert value.item() == pytest.approx(0.5 * 2.0 * 25.0)


def test_r2_penalises_the_gradient_on_generated_samples_only():
    """R2 = weight/2 * E_fake ||grad_x D(x)||^2. D(x) = x1^2 + 3 x2 has gradient (2 x1, 3):
    on fakes (1, 0) and (2, 0) the squared norms are 4 + 9 and 16 + 9, so with weight 2
    the penalty is 0.5 * 2 * (13 + 25) / 2 = 19; the real samples do not count."""
    (r2,) = build_regularizers({"r2": {"weight": 2.0}})

    def d(x):
        return x[..., 0] ** 2 + 3 * x[..., 1]

    fake = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    value = r2.penalty(d, torch.full((2, 2), 100.0), fake, None, None)
    assert value.item() == pytest.approx(19.0)
    (r1,) = build_regularizers({"r1": {"weight": 2.0}})
    assert r1.penalty(d, fake, torch.full((2, 2), 100.0), None, None).item() == pytest.approx(19.0)


def test_spectral_norm_bounds_every_layer():
    d = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(50)
    (sn,) = build_regularizers({"spectral_norm": {"power_iterations": 20}})
    d = sn.wrap(d)
    for _ in range(5):
        d(torch.randn(3, 4))  # power iterations run in training mode
    for layer in (d[0], d[2]):
        assert torch.linalg.matrix_norm(layer.weight, ord=2).item() == pytest.approx(1.0, rel=1e-2)


def test_instance_noise_anneals_to_zero():
    (noise,) = build_regularizers({"instance_noise": {"std": 0.5, "anneal_until": 0.5}})
    x = torch.zeros(20000, 2)
    assert noise.inputs(x, 0.0).std().item() == pytest.approx(0.5, rel=0.05)
    assert noise.inputs(x, 0.25).std().item() == pytest.approx(0.25, rel=0.05)
    assert torch.equal(noise.inputs(x, 0.6), x)


def test_one_sided_label_smoothing_equals_bce_with_a_soft_target():
    from gans.losses import build_loss

    real, fake = torch.tensor([2.0, -1.0, 0.3]), torch.tensor([0.5, -3.0, 1.0])
    (ls,) = build_regularizers({"label_smoothing": {"real_label": 0.9}})
    ours = build_loss("nonsaturating").d_loss(real, fake) + ls.penalty(None, None, None, real, fake)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    reference = bce(real, torch.full_like(real, 0.9)) + bce(fake, torch.zeros_like(fake))
    assert ours.item() == pytest.approx(reference.item(), rel=1e-6)


def test_label_smoothing_is_refused_for_losses_without_labels():
    import copy

    from gans import config as gcfg
    from tests.conftest import TINY

    cfg = copy.deepcopy(TINY)
    cfg["regularizers"] = {"label_smoothing": {}}
    with pytest.raises(gcfg.ConfigError, match="applies only to the losses minimax, nonsaturating, not to 'wgan-gp'"):
        acfg.validate(cfg)
    cfg["grid"]["losses"] = ["nonsaturating"]
    run = gcfg.resolve_run(acfg.validate(cfg), "8gaussians", "gan", "nonsaturating", 0)
    assert run["regularizers"] == {"label_smoothing": {"real_label": 0.9}}
