"""Populations under spectral normalisation (the hinge loss's SNGAN set-up) on MLPs:
each member's linear layers keep their own power iteration, so a member trains as it
does alone (float tolerance), its checkpoint is an ordinary one-run checkpoint, and
members leave the population without changing the others."""

import copy

import pytest
import torch
from torch import nn

from gans import stacking
from gans.config.populations import reason_not_batched
from gans.job import build
from gans.population import keep_members
from gans.train import train_seeds
from tests.unit.test_population import first_member_meets_the_bar, settings, stop_at, train_population_and_alone
from tests.unit.test_stacking import assert_close_runs, assert_each_members_state_and_gradients, final_state

WIDE = {"architecture.params.width": 64, "architecture.params.depth": 2}
LRS = [
    (0, {**WIDE, "optimizer.lr_d": 2e-4, "optimizer.lr_g": 2e-4}),
    (1, {**WIDE, "optimizer.lr_d": 1e-3, "optimizer.lr_g": 5e-4}),
    (2, {**WIDE, "optimizer.lr_d": 5e-5, "optimizer.lr_g": 1e-4}),
]


def normalised_mlp(seed):
    torch.manual_seed(seed)
    d = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    for layer in (d[0], d[2]):
        nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2)
    return d


def assert_close_normalised_weights(a, b, atol):
    """D's spectrally normalised weights W / (u . W v) agree in runs ``a`` and ``b``."""
    sa, sb = final_state(a)["discriminator"], final_state(b)["discriminator"]
    for layer in ("trunk.0", "trunk.2", "head"):
        normalised = []
        for state in (sa, sb):
            w, u, v = (state[f"{layer}.parametrizations.weight.{k}"] for k in ("original", "0._u", "0._v"))
            normalised.append(w / torch.dot(u, w @ v))
        torch.testing.assert_close(normalised[1], normalised[0], atol=atol, rtol=0, msg=layer)


def test_a_hinge_config_is_batched(tiny_config):
    cfg = settings(tiny_config, "hinge", LRS[:1])[0]
    assert "spectral_norm" in cfg["regularizers"]
    assert stacking.reason_not_stackable(cfg) is None
    assert reason_not_batched(cfg) is None


def test_stacked_spectral_norm_is_each_members_own():
    alone = [normalised_mlp(s) for s in range(3)]
    stacked = stacking.stack_modules(copy.deepcopy(alone))
    assert [n for n, _ in stacked.named_parameters()] == [n for n, _ in alone[0].named_parameters()]
    x = torch.randn(3, 16, 2, generator=torch.Generator().manual_seed(0))
    for _ in range(4):  # forwards in training mode: one power-iteration step each (two iterations)
        out = stacked(x)
        out.sum().backward()
        for i, d in enumerate(alone):
            torch.testing.assert_close(out[i], d(x[i]))
            d(x[i]).sum().backward()
    assert_each_members_state_and_gradients(stacked, alone)
    stacked.eval()  # no power iteration in evaluation mode, as torch
    before = copy.deepcopy(stacked.state_dict())
    stacked(x)
    assert all(torch.equal(v, stacked.state_dict()[k]) for k, v in before.items())


def test_a_dropped_member_takes_its_u_and_v_along():
    stacked = stacking.stack_modules([normalised_mlp(s) for s in range(3)])
    before = stacking.unstack_state(stacked.state_dict(), 2)
    keep_members([stacked], torch.tensor([0, 2]))
    after = stacking.unstack_state(stacked.state_dict(), 1)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert stacked(torch.zeros(2, 5, 2)).shape == (2, 5, 1)
    with pytest.raises(ValueError, match="buffer 'running_mean' without a member dimension"):
        keep_members([nn.Sequential(nn.BatchNorm1d(2))], torch.tensor([0]))


def test_other_parametrizations_and_conv_layers_do_not_stack():
    orthogonal = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3))
    with pytest.raises(stacking.NotStackable, match="other than spectral normalisation"):
        stacking.check_stackable(nn.Sequential(orthogonal))
    conv = nn.utils.parametrizations.spectral_norm(nn.Conv2d(1, 2, 3))
    with pytest.raises(stacking.NotStackable, match="Conv2d"):
        stacking.check_stackable(nn.Sequential(conv))


def test_hinge_members_with_spectral_norm_match_their_runs_alone(tiny_config, tmp_path):
    cfgs = settings(tiny_config, "hinge", LRS, steps=10, log_every=5, eval_every=5)
    outs, alone = train_population_and_alone(cfgs, tmp_path)
    for a, b in zip(alone, outs, strict=True):
        assert_close_runs(a, b, atol=1e-5, vector_atol=1e-3)
        assert_close_normalised_weights(a, b, atol=1e-5)
    # a member's checkpoint is a one-run checkpoint: it loads into a variant built alone
    saved = final_state(outs[1])
    _, variant = build(cfgs[1])
    variant.load_state_dict(saved)
    loaded = variant.discriminator.state_dict()
    assert loaded.keys() == saved["discriminator"].keys() and "head.parametrizations.weight.0._u" in loaded
    assert all(torch.equal(v, saved["discriminator"][k]) for k, v in loaded.items())
    assert variant.opt_d.state_dict()["state"][0]["exp_avg"].shape == loaded["trunk.0.bias"].shape


def test_in_float64_hinge_members_match_their_runs_alone_to_rounding(tiny_config, tmp_path):
    """The batched power iteration rounds unlike torch's matrix-vector products, and
    over more steps training amplifies that in float32 (a member at lr 1e-3 ends 30
    steps about 5e-3 away from its run alone); in float64 the same runs agree to 1e-9,
    u and v included. The members take 5, 2 and 1 critic steps: u and v step apart too."""
    critic = [(seed, {**values, "n_critic": n}) for (seed, values), n in zip(LRS, (2, 5, 1), strict=True)]
    cfgs = settings(tiny_config, "hinge", critic, steps=30, log_every=10, eval_every=10)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        outs, alone = train_population_and_alone(cfgs, tmp_path)
    finally:
        torch.set_default_dtype(default)
    assert final_state(outs[0])["discriminator"]["head.bias"].dtype == torch.float64
    for a, b in zip(alone, outs, strict=True):
        assert_close_runs(a, b, atol=1e-9)


def test_a_hinge_member_that_stops_leaves_the_others_unchanged(tiny_config, tmp_path, monkeypatch):
    first_member_meets_the_bar(monkeypatch)  # member 0 stops at step 20
    cfgs = stop_at(settings(tiny_config, "hinge", LRS, steps=40, eval_every=10), 1.0, 0.5)
    summaries = train_seeds(cfgs, [tmp_path / f"m{i}" for i in range(3)], progress=False)
    assert [s["steps_completed"] for s in summaries] == [20, 40, 40]
    train_seeds(copy.deepcopy(cfgs[1:]), [tmp_path / "alone1", tmp_path / "alone2"], progress=False)
    assert_close_runs(tmp_path / "alone1", tmp_path / "m1", atol=1e-6, vector_atol=1e-3)
    assert_close_runs(tmp_path / "alone2", tmp_path / "m2", atol=1e-6, vector_atol=1e-3)
