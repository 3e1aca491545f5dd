"""Training options: learning-rate decay (per optimizer step, both players) and
separate update counts for G (n_gen) next to D's (n_critic)."""

import copy

import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans.optim import build_optimizer
from gans.train import train
from tests.conftest import TINY


def lrs_over(spec, updates, steps):
    p = torch.nn.Parameter(torch.zeros(3))
    opt = build_optimizer([p], {"name": "sgd", "lr_d": 0.5, "lr_g": 0.1, **spec}, "d", updates)
    out = []
    for _ in range(steps):
        p.grad = torch.ones(3)
        opt.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def test_linear_decay_reaches_the_end_factor_at_the_last_update():
    assert lrs_over({"lr_decay": {"kind": "linear"}}, 4, 4) == pytest.approx([0.375, 0.25, 0.125, 0.0])
    # constant for the first half, then down to a fifth
    assert lrs_over({"lr_decay": {"kind": "linear", "start": 0.5, "end_factor": 0.2}}, 4, 4) == pytest.approx(
        [0.5, 0.5, 0.3, 0.1]
    )
    assert lrs_over({"lr_decay": {"kind": "exponential", "gamma": 0.5}}, 4, 3) == pytest.approx([0.25, 0.125, 0.0625])
    assert lrs_over({}, 4, 3) == [0.5] * 3 == lrs_over({"lr_decay": {"kind": "none"}}, 4, 3)


def trained_run(tmp_path, loss="nonsaturating", **override):
    config = copy.deepcopy(TINY)
    config["grid"] = {**config["grid"], "losses": [loss], "seeds": [0]}
    config["losses"] = {loss: override}
    config["train"].update(steps=10, eval_every=10, log_every=5)
    cfg = gcfg.resolve_run(acfg.validate(config), "8gaussians", "gan", loss, 0)
    train(cfg, tmp_path, progress=False)
    return cfg, torch.load(tmp_path / "checkpoint.pt", weights_only=True)["state"]


def adam_steps(opt_state):
    return {int(s["step"]) for s in opt_state["state"].values()}


def test_n_gen_and_n_critic_count_each_players_updates_and_linear_decay_ends_at_zero(tmp_path):
    cfg, state = trained_run(tmp_path, n_critic=2, n_gen=3, optimizer={"lr_decay": {"kind": "linear"}})
    assert cfg["n_gen"] == 3 and cfg["n_critic"] == 2
    assert adam_steps(state["opt_g"]) == {30} and adam_steps(state["opt_d"]) == {20}  # 10 steps x 3 and x 2
    for opt, rate in (("opt_g", "lr_g"), ("opt_d", "lr_d")):
        group = state[opt]["param_groups"][0]
        assert group["lr"] == pytest.approx(0.0, abs=1e-12) and group["initial_lr"] == cfg["optimizer"][rate]
    assert gcfg.resolve_run(acfg.validate(copy.deepcopy(TINY)), "8gaussians", "gan", "nonsaturating", 0)["n_gen"] == 1


def test_exponential_decay_of_both_players(tmp_path):
    _, state = trained_run(
        tmp_path, optimizer={"lr_d": 1e-3, "lr_g": 2e-3, "lr_decay": {"kind": "exponential", "gamma": 0.9}}
    )
    assert state["opt_d"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.9**10)
    assert state["opt_g"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * 0.9**10)


def test_bad_decay_is_refused_naming_the_valid_keys():
    config = {
        **copy.deepcopy(TINY),
        "losses": {"nonsaturating": {"optimizer": {"lr_decay": {"kind": "linear", "gamma": 0.9}}}},
    }
    with pytest.raises(
        gcfg.ConfigError, match=r"lr_decay': Additional properties .*'gamma'.*valid keys: end_factor, kind, start"
    ):
        acfg.validate(config)
    config["losses"]["nonsaturating"]["optimizer"]["lr_decay"] = {"kind": "cosine"}
    with pytest.raises(gcfg.ConfigError, match="'cosine' is not one of"):
        acfg.validate(config)
