"""Populations: members of different settings and seeds trained as one batched model.
Each member gets what it gets trained alone (float tolerance, on this machine),
stopped members leave without changing the others, and a population resumes exactly."""

import copy

import pandas as pd
import pytest
import torch

import gans.train as gtrain
from gans import config as gcfg
from gans import members
from gans.config.populations import reason_not_batched
from gans.job import Job
from gans.layout import RESUME
from gans.population import BarMonitor, mode_counts
from gans.population_optim import PopulationOptimizer
from gans.stacking import reason_not_stackable
from gans.train import train, train_seeds
from metrics.library.modes import mode_statistics
from tests.unit.test_stacking import assert_close_runs, final_state, interrupt_at


def settings(tiny_config, loss, values, steps=40, variant="gan", **train_overrides):
    """One resolved run of ``variant`` per (seed, {dotted path: value}) of ``values``."""
    cfgs = []
    for seed, setting in values:
        cfg = gcfg.resolve_run(tiny_config, "8gaussians", variant, loss, seed)
        cfg["train"].update(steps=steps, **train_overrides)
        for path, value in setting.items():
            *parents, leaf = path.split(".")
            node = cfg
            for p in parents:
                node = node[p]
            node[leaf] = value
        cfgs.append(cfg)
    return cfgs


def train_population_and_alone(cfgs, tmp_path):
    """``cfgs`` trained as one population, then each alone (torch.optim, no stacking):
    the two lists of run folders."""
    outs = [tmp_path / f"pop{i}" for i in range(len(cfgs))]
    summaries = train_seeds(cfgs, outs, progress=False)
    assert [s["seeds_in_job"] for s in summaries] == [len(cfgs)] * len(cfgs)
    alone = [tmp_path / f"alone{i}" for i in range(len(cfgs))]
    for cfg, out in zip(cfgs, alone, strict=True):
        train(cfg, out, progress=False)
    return outs, alone


MIXED = [
    (0, {"optimizer.lr_d": 3e-4, "optimizer.lr_g": 1e-4, "optimizer.betas": [0.5, 0.9]}),
    (1, {"optimizer.lr_d": 1e-3, "optimizer.lr_g": 2e-4, "optimizer.betas": [0.0, 0.99]}),
    (0, {"optimizer.lr_d": 5e-5, "optimizer.lr_g": 5e-5, "regularizers.gradient_penalty.weight": 1.0}),
    (2, {"regularizers.gradient_penalty.weight": 30.0}),
]


def test_members_of_different_settings_share_one_population_key(tiny_config):
    cfgs = settings(tiny_config, "wgan-gp", MIXED)
    assert len({members.population_key(c) for c in cfgs}) == 1
    assert members.group_members(cfgs, 3) == [[0, 1, 2], [3]]
    other = copy.deepcopy(cfgs[0])
    other["architecture"]["params"]["width"] += 16  # another network shape
    assert members.differing_keys([cfgs[0], other]) == ["architecture"]
    assert members.group_members([cfgs[0], other, cfgs[1]], 64) == [[0, 2], [1]]
    other = copy.deepcopy(cfgs[0])
    other["n_critic"] = 2  # critic steps: the members step apart within one population
    assert members.differing_keys([cfgs[0], other]) == []


# critic steps 1 to 5 across members, listed out of order: the population orders them
CRITIC = [
    (0, {"n_critic": 2, "optimizer.lr_d": 3e-4, "optimizer.lr_g": 1e-4}),
    (1, {"n_critic": 5, "optimizer.lr_d": 1e-3, "optimizer.betas": [0.0, 0.99]}),
    (2, {"n_critic": 1, "optimizer.lr_d": 5e-4}),
    (0, {"n_critic": 3, "optimizer.lr_g": 3e-4}),
    (3, {"n_critic": 5}),
]


@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating"])  # hinge: tests/unit/test_population_sn.py
def test_members_with_other_critic_steps_each_match_their_run_alone(tiny_config, tmp_path, loss):
    cfgs = settings(tiny_config, loss, CRITIC, steps=30, log_every=5, eval_every=10)
    for cfg in cfgs:  # each member's rate decays over its own number of D updates
        cfg["optimizer"]["lr_decay"] = {"kind": "linear", "start": 0.5}
    outs, alone = train_population_and_alone(cfgs, tmp_path)
    for cfg, out, own in zip(cfgs, outs, alone, strict=True):
        assert_close_runs(own, out, atol=1e-5)
        d_opt = final_state(out)["opt_d"]
        assert d_opt["state"][0]["step"].item() == 30 * cfg["n_critic"]
        assert d_opt["param_groups"][0]["lr"] == final_state(own)["opt_d"]["param_groups"][0]["lr"]


def test_under_buffered_draws_members_with_other_critic_steps_train_apart(tiny_config, tmp_path):
    cfgs = settings(tiny_config, "lsgan", CRITIC[:3], steps=20, random_draws="buffered")
    outs = [tmp_path / f"pop{i}" for i in range(3)]
    summaries = train_seeds(cfgs, outs, progress=False)
    assert [s["seeds_in_job"] for s in summaries] == [1, 1, 1]  # one group per critic-step count
    train_seeds([cfgs[0]], [tmp_path / "alone"], progress=False)  # buffered: a stack of one
    assert_close_runs(tmp_path / "alone", outs[0], atol=1e-6)


@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating"])
def test_each_member_of_a_mixed_population_matches_its_run_alone(tiny_config, tmp_path, loss):
    values = MIXED if loss == "wgan-gp" else [(s, {k: v for k, v in d.items() if "penalty" not in k}) for s, d in MIXED]
    cfgs = settings(tiny_config, loss, values)
    outs, alone = train_population_and_alone(cfgs, tmp_path)
    for own, out in zip(alone, outs, strict=True):
        assert_close_runs(own, out, atol=1e-5)
    # the settings really train differently
    g0, g1 = final_state(outs[0])["generator"], final_state(outs[2])["generator"]
    assert not all(torch.allclose(g0[k], g1[k]) for k in g0)


def test_a_member_alone_and_in_a_population_of_64_train_alike(tiny_config, tmp_path):
    g = torch.Generator().manual_seed(0)
    lrs = (10 ** (-4.5 + 1.5 * torch.rand(64, 2, generator=g))).tolist()
    values = [(i % 5, {"optimizer.lr_d": d, "optimizer.lr_g": gg}) for i, (d, gg) in enumerate(lrs)]
    cfgs = settings(tiny_config, "nonsaturating", values, steps=20, log_every=10, eval_every=10)
    outs = [tmp_path / f"m{i}" for i in range(64)]
    train_seeds(cfgs, outs, progress=False)
    for i in (0, 37):
        train_seeds([cfgs[i]], [tmp_path / f"one{i}"], progress=False)
        assert_close_runs(tmp_path / f"one{i}", outs[i], atol=1e-6)


PACGAN2 = [
    (0, {"optimizer.lr_d": 3e-4, "optimizer.lr_g": 1e-4, "architecture.params.width": 64}),
    (1, {"optimizer.lr_d": 1e-3, "optimizer.lr_g": 5e-4, "architecture.params.width": 64}),
    (0, {"optimizer.lr_d": 5e-5, "optimizer.lr_g": 2e-4, "architecture.params.width": 64}),
]


def test_pacgan_members_pack_within_their_own_batch(tiny_config, tmp_path):
    cfgs = settings(tiny_config, "nonsaturating", PACGAN2, variant="pacgan")
    assert reason_not_stackable(cfgs[0]) is None and reason_not_batched(cfgs[0]) is None
    other = copy.deepcopy(cfgs[0])
    other["variant"]["params"]["pack"] = 3  # D sees 3 points: another network shape
    assert members.differing_keys([cfgs[0], other]) == ["variant"]
    outs = [tmp_path / f"pop{i}" for i in range(len(cfgs))]
    summaries = train_seeds(cfgs, outs, progress=False)
    assert [s["seeds_in_job"] for s in summaries] == [3] * 3
    for i, cfg in enumerate(cfgs):
        train(cfg, tmp_path / f"alone{i}", progress=False)  # unstacked, torch.optim.Adam
        assert_close_runs(tmp_path / f"alone{i}", outs[i], atol=1e-5)
    g0, g2 = final_state(outs[0])["generator"], final_state(outs[2])["generator"]
    assert not all(torch.allclose(g0[k], g2[k]) for k in g0)


def test_a_stacked_pacgan_packs_and_judges_each_members_samples(tiny_config):
    cfgs = settings(tiny_config, "nonsaturating", [(s, {"variant.params.pack": 3}) for s in (0, 1)], variant="pacgan")
    alone = [Job([c], torch.device("cpu")).variant for c in cfgs]
    stacked = Job(cfgs, torch.device("cpu")).variant
    x = torch.randn(2, 12, 2, generator=torch.Generator().manual_seed(0))
    outputs, scores = stacked.d_outputs(x), stacked.discriminate(x)
    assert outputs.shape == (2, 4) and scores.shape == (2, 12)
    for i, v in enumerate(alone):
        torch.testing.assert_close(outputs[i], v.d_outputs(x[i]))
        torch.testing.assert_close(scores[i], v.discriminate(x[i]))


def test_a_diverged_member_leaves_the_others_unchanged(tiny_config, tmp_path):
    values = [(0, {}), (1, {"optimizer.lr_d": 5.0, "optimizer.lr_g": 5.0}), (2, {})]
    cfgs = settings(tiny_config, "lsgan", values, steps=40, divergence_threshold=50.0)
    summaries = train_seeds(cfgs, [tmp_path / f"with{i}" for i in range(3)], progress=False)
    assert [s["status"] for s in summaries] == ["completed", "diverged", "completed"]
    assert summaries[1]["steps_completed"] < 40
    train_seeds([cfgs[0], cfgs[2]], [tmp_path / "without0", tmp_path / "without2"], progress=False)
    assert_close_runs(tmp_path / "with0", tmp_path / "without0", atol=1e-6)
    assert_close_runs(tmp_path / "with2", tmp_path / "without2", atol=1e-6)


def stop_at(cfgs, modes, hq_share, hold_points=2):
    for cfg in cfgs:
        cfg["train"]["until"] = "bar"
        cfg["stop"] = {
            "modes": modes,
            "hq_share": hq_share,
            "hold_points": hold_points,
            "num_samples": 200,
            "seed": 2024,
            "hq_std": 3.0,
            "min_count": 1,
        }
    return cfgs


def first_member_meets_the_bar(monkeypatch):
    """The bar met by the first member of the population only (while it trains)."""
    monkeypatch.setattr(
        BarMonitor, "met", lambda self, variant, n: torch.arange(n or 1) == 0 if n > 2 else ~torch.ones(n, dtype=bool)
    )


def test_an_easy_bar_stops_every_member_after_its_hold_points(tiny_config, tmp_path):
    cfgs = stop_at(settings(tiny_config, "nonsaturating", [(0, {}), (1, {})], steps=60, eval_every=10), None, None)
    summaries = train_seeds(cfgs, [tmp_path / "a", tmp_path / "b"], progress=False)
    assert [s["steps_completed"] for s in summaries] == [20, 20]
    assert all("held the quality bar at 2 evaluation points" in s["reason"] for s in summaries)
    assert list(pd.read_csv(tmp_path / "a" / "train_log.csv")["step"]) == [10, 20]
    assert torch.load(tmp_path / "a" / "snapshots.pt", weights_only=True)["steps"] == [0, 10, 20]


def test_a_member_that_holds_the_bar_stops_and_the_others_go_on(tiny_config, tmp_path, monkeypatch):
    first_member_meets_the_bar(monkeypatch)
    values = [(0, {}), (1, {"optimizer.lr_d": 4e-4}), (2, {})]
    cfgs = stop_at(settings(tiny_config, "nonsaturating", values, steps=60, eval_every=10), 1.0, 0.5)
    summaries = train_seeds(cfgs, [tmp_path / f"m{i}" for i in range(3)], progress=False)
    assert [s["steps_completed"] for s in summaries] == [20, 60, 60]
    # the ones that went on trained as they would have without it
    train_seeds(copy.deepcopy(cfgs[1:]), [tmp_path / "alone1", tmp_path / "alone2"], progress=False)
    assert_close_runs(tmp_path / "alone1", tmp_path / "m1", atol=1e-6)
    assert_close_runs(tmp_path / "alone2", tmp_path / "m2", atol=1e-6)


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge"])  # hinge: spectral norm's u, v resume too
def test_a_population_resumes_bit_exactly_after_a_member_stopped(tiny_config, tmp_path, monkeypatch, loss):
    values = [
        (0, {"n_critic": 3}),
        (1, {"optimizer.lr_d": 4e-4, "n_critic": 2}),
        (2, {"optimizer.betas": [0.0, 0.9], "n_critic": 1}),
    ]
    cfgs = settings(tiny_config, loss, values, steps=60, eval_every=10, checkpoint_every=25)
    cfgs = stop_at(cfgs, 1.0, 0.5)
    first_member_meets_the_bar(monkeypatch)  # member 0 stops at step 20
    whole = [tmp_path / f"whole{i}" for i in range(3)]
    cut = [tmp_path / f"cut{i}" for i in range(3)]
    train_seeds(cfgs, whole, progress=False)
    real_divergence = interrupt_at(monkeypatch, 40, cfgs, cut)
    saved = torch.load(cut[0] / RESUME, weights_only=True)
    assert saved["step"] == 25 and saved["active"] == [1, 2]
    monkeypatch.setattr(gtrain, "divergence", real_divergence)
    torch.manual_seed(999)
    summaries = train_seeds(cfgs, cut, progress=False)
    assert [s["steps_completed"] for s in summaries] == [20, 60, 60]
    for a, b in zip(whole, cut, strict=True):
        assert_close_runs(a, b, atol=0)


@pytest.mark.parametrize(
    "kind, specs",
    [
        ("adam", [{"lr_d": 1e-3, "betas": [0.5, 0.999]}, {"lr_d": 2e-4, "betas": [0.0, 0.9]}, {"lr_d": 5e-3}]),
        ("rmsprop", [{"lr_d": 1e-3}, {"lr_d": 5e-5, "alpha": 0.9}, {"lr_d": 2e-2, "alpha": 0.5}]),
        ("sgd", [{"lr_d": 1e-2}, {"lr_d": 1e-3}, {"lr_d": 0.1}]),
    ],
)
def test_the_population_optimizer_is_each_members_torch_optimizer(kind, specs):
    specs = [{"name": kind, "lr_g": 1.0, **s} for s in specs]
    g = torch.Generator().manual_seed(0)
    start = torch.randn(len(specs), 5, 3, generator=g)
    grads = [torch.randn(len(specs), 5, 3, generator=g) for _ in range(30)]
    stacked = torch.nn.Parameter(start.clone())
    opt = PopulationOptimizer([stacked], specs, "d")
    for grad in grads:
        stacked.grad = grad.clone()
        opt.step()
    torch_kind = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}[kind]
    for i, spec in enumerate(specs):
        alone = torch.nn.Parameter(start[i].clone())
        args = {k: (tuple(v) if k == "betas" else v) for k, v in spec.items() if k not in ("name", "lr_d", "lr_g")}
        ref = torch_kind([alone], lr=spec["lr_d"], **args)
        for grad in grads:
            alone.grad = grad[i].clone()
            ref.step()
        torch.testing.assert_close(stacked.data[i], alone.data, rtol=1e-5, atol=1e-7)
        member = opt.member_state(i)
        for key, value in ref.state_dict()["state"].get(0, {}).items():
            torch.testing.assert_close(member["state"][0][key], value.reshape(member["state"][0][key].shape))


def test_members_are_dropped_with_their_optimizer_state():
    specs = [{"name": "adam", "lr_d": lr, "lr_g": lr, "betas": [0.5, 0.999]} for lr in (1e-3, 2e-3, 3e-3)]
    p = torch.nn.Parameter(torch.zeros(3, 4))
    opt = PopulationOptimizer([p], specs, "d")
    p.grad = torch.ones(3, 4)
    opt.step()
    before = opt.state[0]["exp_avg"].clone()
    keep = torch.tensor([0, 2])
    p.data = p.data[keep]
    opt.keep(keep)
    assert opt.hyper["lr"].tolist() == [1e-3, 3e-3] and torch.equal(opt.state[0]["exp_avg"], before[keep])


def test_batched_mode_counts_match_the_evaluation_metric():
    from gans.datasets import build_dataset

    data = build_dataset("25gaussians")
    g = torch.Generator().manual_seed(3)
    sets = torch.stack([data.sample(300, g), torch.randn(300, 2, generator=g) * 0.5, data.sample(300, g) * 0.9])
    counts = mode_counts(sets, data.centers, data.mode_std, 3.0)
    for points, row in zip(sets, counts, strict=True):
        expected = mode_statistics(points, data.centers, data.mode_std, 3.0, 1)
        assert int((row >= 1).sum()) == expected["modes_covered"]
        assert float(row.sum()) / len(points) == pytest.approx(expected["hq_fraction"])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating"])
def test_on_cuda_a_member_alone_and_in_a_population_train_alike(tiny_config, tmp_path, loss):
    values = MIXED if loss == "wgan-gp" else [(s, {k: v for k, v in d.items() if "penalty" not in k}) for s, d in MIXED]
    cfgs = settings(tiny_config, loss, values, device="cuda", precision="fp32", eval_every=20)
    cfgs = stop_at(cfgs, None, None)  # the in-training bar on the GPU: every member stops at step 40
    outs = [tmp_path / f"pop{i}" for i in range(len(cfgs))]
    summaries = train_seeds(cfgs, outs, progress=False)
    assert {s["random_draws"] for s in summaries} == {"buffered"} and all(s["steps_completed"] == 40 for s in summaries)
    for i in (0, 3):
        train_seeds([cfgs[i]], [tmp_path / f"one{i}"], progress=False)
        assert_close_runs(tmp_path / f"one{i}", outs[i], atol=1e-4)
