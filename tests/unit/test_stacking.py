"""Several seeds in one job: stacked into one model, each seed gets what it would
get trained alone (same parameters, logs and snapshots, to float tolerance)."""

import copy
import json
import subprocess
import sys

import pandas as pd
import pytest
import torch
import yaml

import gans.job as gjob
import gans.train as gtrain
from analysis import config as acfg
from gans import config as gcfg
from gans import stacking
from gans.layout import RESUME
from gans.losses import LOSSES
from gans.train import train, train_seeds
from metrics.config import resolve_eval
from metrics.evaluate import evaluate
from tests.conftest import ROOT, TINY


def run_cfgs(tiny_config, loss="wgan-gp", variant="gan", seeds=(0, 1, 2), **train_overrides):
    cfgs = [gcfg.resolve_run(tiny_config, "8gaussians", variant, loss, s) for s in seeds]
    for cfg in cfgs:
        cfg["train"].update(train_overrides)
    return cfgs


def final_state(folder):
    return torch.load(folder / "checkpoint.pt", weights_only=True)["state"]


def assert_close_runs(a, b, atol, vector_atol=None):
    """Runs ``a`` and ``b`` agree to ``atol``: final networks, logs and snapshots. The
    power-iteration vectors of spectral normalisation (``_u``, ``_v``) are compared to
    ``vector_atol`` where given: a singular vector's rounding error grows as the gap
    between the top two singular values shrinks, while sigma, hence the normalised
    weight, stays as close as the weight."""
    sa, sb = final_state(a), final_state(b)
    for name in ("generator", "discriminator"):
        for key, tensor in sa[name].items():
            tol = vector_atol if vector_atol is not None and key.endswith(("._u", "._v")) else atol
            torch.testing.assert_close(sb[name][key], tensor, atol=tol, rtol=0, msg=f"{name}.{key}")
    la, lb = (pd.read_csv(d / "train_log.csv").drop(columns="wall_time") for d in (a, b))
    assert list(la.columns) == list(lb.columns) and list(la["step"]) == list(lb["step"])
    pd.testing.assert_frame_equal(la, lb, check_exact=False, atol=atol, rtol=1e-5)
    snaps = [torch.load(d / "snapshots.pt", weights_only=True) for d in (a, b)]
    assert snaps[0]["steps"] == snaps[1]["steps"]
    for step in snaps[0]["steps"]:
        for key, tensor in snaps[0]["states"][step]["generator"].items():
            torch.testing.assert_close(snaps[1]["states"][step]["generator"][key], tensor, atol=atol, rtol=0)


def assert_each_members_state_and_gradients(stacked, nets):
    """Member i's slice of the stacked module's state and gradients is ``nets[i]``'s own."""
    for i, net in enumerate(nets):
        member, own = stacking.unstack_state(stacked.state_dict(), i), net.state_dict()
        assert member.keys() == own.keys()
        for key in own:
            torch.testing.assert_close(member[key], own[key], msg=key)
        for (name, p), q in zip(stacked.named_parameters(), net.parameters(), strict=True):
            torch.testing.assert_close(p.grad[i], q.grad, msg=name)


def interrupt_at(monkeypatch, step, cfgs, outs):
    """Train ``cfgs`` into ``outs`` and kill the job at ``step``; returns the real
    divergence check, for the caller to put back."""
    real_divergence = gtrain.divergence

    def interrupt(row, threshold):
        if row["step"] == step:
            raise KeyboardInterrupt
        return real_divergence(row, threshold)

    monkeypatch.setattr(gtrain, "divergence", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_seeds(cfgs, outs, progress=False)
    return real_divergence


@pytest.fixture
def small_blocks(monkeypatch):
    # blocks of 300 numbers: refills every few steps (and draws larger than a block)
    monkeypatch.setattr(gjob, "DRAW_BLOCK", 300)


@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating", "wgan"])
def test_each_stacked_seed_matches_its_run_alone(tiny_config, tmp_path, loss):
    cfgs = run_cfgs(tiny_config, loss, steps=60)
    for cfg in cfgs:
        train(cfg, tmp_path / f"alone{cfg['seed']}", progress=False)
    summaries = train_seeds(cfgs, [tmp_path / f"stacked{c['seed']}" for c in cfgs], progress=False)
    assert [s["seeds_in_job"] for s in summaries] == [3, 3, 3]
    for cfg in cfgs:
        assert_close_runs(tmp_path / f"alone{cfg['seed']}", tmp_path / f"stacked{cfg['seed']}", atol=1e-6)
    # and the seeds really are different runs
    g0, g1 = final_state(tmp_path / "stacked0")["generator"], final_state(tmp_path / "stacked1")["generator"]
    assert not all(torch.equal(g0[k], g1[k]) for k in g0)


def test_stacked_checkpoint_is_a_plain_one_seed_checkpoint(tiny_config, tmp_path):
    """Evaluation (and anything else) reads a stacked seed's folder as an ordinary run."""
    cfgs = run_cfgs(tiny_config, steps=40)
    train_seeds(cfgs, [tmp_path / f"s{c['seed']}" for c in cfgs], progress=False)
    state = final_state(tmp_path / "s1")
    assert state["generator"]["0.0.weight"].shape == (32, 2)  # no seed dimension left
    assert state["opt_d"]["state"][0]["exp_avg"].shape == state["discriminator"]["trunk.0.weight"].shape
    result = evaluate(tmp_path / "s1", resolve_eval(tiny_config, "8gaussians"))
    assert result["status"] == "completed" and result["final"]["modes_covered"] >= 0


def test_every_loss_is_a_function_of_each_seeds_outputs():
    """vmap over the seed dimension gives each seed's loss exactly as computed alone."""
    torch.manual_seed(0)
    real, fake = torch.randn(4, 64), torch.randn(4, 64)
    for name, cls in LOSSES.items():
        if not cls.stackable:
            continue
        loss = cls(**cls.resolve_params(None))
        stacked_d = torch.vmap(loss.d_loss)(real, fake)
        g_args = (fake, real) if cls.g_needs_real else (fake,)
        stacked_g = torch.vmap(loss.g_loss)(*g_args)
        for s in range(4):
            torch.testing.assert_close(stacked_d[s], loss.d_loss(real[s], fake[s]), msg=name)
            torch.testing.assert_close(stacked_g[s], loss.g_loss(*(a[s] for a in g_args)), msg=name)


def test_seeds_that_cannot_be_stacked_train_one_after_another(tiny_config, tmp_path, capsys):
    cfgs = run_cfgs(tiny_config, "nonsaturating", variant="infogan", seeds=(0, 1), steps=20)
    assert "infogan" in stacking.reason_not_stackable(cfgs[0])
    summaries = train_seeds(cfgs, [tmp_path / "a", tmp_path / "b"], progress=False)
    assert "one after another" in capsys.readouterr().err
    assert [s["seeds_in_job"] for s in summaries] == [1, 1]
    train(cfgs[1], tmp_path / "alone", progress=False)
    assert_close_runs(tmp_path / "alone", tmp_path / "b", atol=0)


def test_what_cannot_be_stacked_says_why(tiny_config):
    cfg = run_cfgs(tiny_config)[0]
    assert stacking.reason_not_stackable(cfg) is None
    cfg["regularizers"] = {"spectral_norm": {"power_iterations": 1}}  # on an MLP: stacks
    assert stacking.reason_not_stackable(cfg) is None
    with pytest.raises(stacking.NotStackable, match="Conv2d"):
        stacking.check_stackable(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)))


def test_only_seeds_of_one_cell_share_a_job(tiny_config, tmp_path):
    a = run_cfgs(tiny_config, seeds=(0,))[0]
    b = run_cfgs(tiny_config, "nonsaturating", seeds=(1,))[0]
    with pytest.raises(ValueError, match="differ only in their seed and member values .*; these keys differ: .*loss"):
        train_seeds([a, b], [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ValueError, match="distinct"):
        train_seeds([a, a], [tmp_path / "a", tmp_path / "b"])
    assert not (tmp_path / "a").exists(), "refused before any work"


def test_a_diverging_seed_stops_alone_and_the_others_finish(tiny_config, tmp_path, monkeypatch):
    real_divergence = gtrain.divergence
    calls = []

    def second_seed_diverges_at_20(row, threshold):
        calls.append(row["step"])
        if row["step"] == 20 and calls.count(20) == 2:  # rows come in seed order
            return "forced for the test"
        return real_divergence(row, threshold)

    monkeypatch.setattr(gtrain, "divergence", second_seed_diverges_at_20)
    cfgs = run_cfgs(tiny_config, steps=40)
    summaries = train_seeds(cfgs, [tmp_path / f"s{c['seed']}" for c in cfgs], progress=False)
    assert [s["status"] for s in summaries] == ["completed", "diverged", "completed"]
    assert summaries[1]["diverged_at_step"] == 20 and summaries[0]["steps_completed"] == 40
    assert list(pd.read_csv(tmp_path / "s1" / "train_log.csv")["step"]) == [10, 20]
    assert torch.load(tmp_path / "s1" / "checkpoint.pt", weights_only=True)["step"] == 20


@pytest.mark.parametrize("draws", ["direct", "buffered"])
def test_stacked_job_resumes_where_it_stopped(tiny_config, tmp_path, monkeypatch, draws, small_blocks):
    cfgs = run_cfgs(tiny_config, steps=60, checkpoint_every=25, random_draws=draws)
    whole = [tmp_path / f"whole{c['seed']}" for c in cfgs]
    cut = [tmp_path / f"cut{c['seed']}" for c in cfgs]
    train_seeds(cfgs, whole, progress=False)
    real_divergence = interrupt_at(monkeypatch, 40, cfgs, cut)
    assert torch.load(cut[0] / RESUME, weights_only=True)["step"] == 25
    monkeypatch.setattr(gtrain, "divergence", real_divergence)
    torch.manual_seed(999)
    summaries = train_seeds(cfgs, cut, progress=False)
    assert all(s["resumed_from_step"] == 25 for s in summaries)
    for a, b in zip(whole, cut, strict=True):
        assert_close_runs(a, b, atol=0)


def test_cli_trains_several_seeds_into_their_folders(tiny_config, tmp_path):
    cfgs = run_cfgs(tiny_config, seeds=(3, 4), steps=20)
    outs = [str(tmp_path / "s3"), str(tmp_path / "s4")]
    cmd = [sys.executable, "-m", "gans.train", "--run-config", json.dumps(cfgs), "--out", *outs, "--no-progress"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    for out, cfg in zip(outs, cfgs, strict=True):
        assert json.loads((tmp_path / out / "train_summary.json").read_text())["seeds_in_job"] == 2
        assert yaml.safe_load((tmp_path / out / "config.resolved.yaml").read_text())["seed"] == cfg["seed"]
    bad = subprocess.run([*cmd[:-4], "--out", outs[0]], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "one --out folder per seed" in bad.stderr


def test_stacked_seeds_follow_lr_decay_and_n_gen_as_alone(tiny_config, tmp_path):
    cfgs = run_cfgs(tiny_config, "nonsaturating", seeds=(0, 1), steps=30)
    for cfg in cfgs:
        cfg["optimizer"]["lr_decay"] = {"kind": "linear"}
        cfg["n_gen"] = 2
    train(cfgs[1], tmp_path / "alone", progress=False)
    train_seeds(cfgs, [tmp_path / "s0", tmp_path / "s1"], progress=False)
    assert_close_runs(tmp_path / "alone", tmp_path / "s1", atol=1e-6)
    groups = final_state(tmp_path / "s1")["opt_g"]["param_groups"]
    assert groups[0]["lr"] == pytest.approx(0.0, abs=1e-12), "linear decay reaches 0 at the last update"


def test_population_size_is_not_a_sweep_axis(tiny_config):
    cfg = copy.deepcopy(TINY)
    cfg["grid"] = {**TINY["grid"], "sweep": {"train.population_size": [1, 2]}}
    with pytest.raises(gcfg.ConfigError, match="'train.population_size' cannot vary along the grid"):
        acfg.validate(cfg)


# -- buffered random draws (train.random_draws) ---------------------------------------------


def test_buffered_draws_are_each_seeds_own_and_refill_in_blocks():
    gens = lambda: [torch.Generator().manual_seed(s) for s in (5, 6, 7)]  # noqa: E731
    stacked = stacking.SeedRNG(gens(), block=10)
    alone = stacking.SeedRNG(gens()[1:2], block=10)
    for shape in [(4,), (3, 2), (25,), (1,)]:  # 25 > block: a block of 25
        s, a = stacked.randn(*shape), alone.randn(*shape)
        assert s.shape == (3, *shape) and a.shape == (1, *shape)
        assert torch.equal(s[1], a[0]), "seed 6 draws the same numbers stacked and alone"
        assert not torch.equal(s[0], s[1])
        assert torch.equal(stacked.rand(*shape)[1], alone.rand(*shape)[0])
        ints = stacked.randint(7, *shape)
        assert torch.equal(ints[1], alone.randint(7, *shape)[0]) and 0 <= ints.min() and ints.max() < 7
    direct = stacking.SeedRNG(gens())
    assert torch.equal(direct.randn(3, 2)[2], torch.randn(3, 2, generator=torch.Generator().manual_seed(7)))
    assert not torch.equal(stacking.SeedRNG(gens(), block=10).randn(3, 2), direct.randn(3, 2))


def test_buffered_draws_resume_from_their_saved_state():
    rng = stacking.SeedRNG([torch.Generator().manual_seed(s) for s in (1, 2)], block=8)
    rng.randn(5)
    state = copy.deepcopy(rng.get_state())
    expected = [rng.randn(5), rng.rand(3), rng.randn(6)]
    again = stacking.SeedRNG([torch.Generator().manual_seed(s) for s in (8, 9)], block=8)
    again.set_state(state)
    assert all(
        torch.equal(a, b) for a, b in zip(expected, [again.randn(5), again.rand(3), again.randn(6)], strict=True)
    )
    with pytest.raises(ValueError, match="direct vs buffered"):
        stacking.SeedRNG([torch.Generator()]).set_state(state)


def test_buffered_seed_matches_its_run_alone_and_differs_from_direct(tiny_config, tmp_path, small_blocks):
    cfgs = run_cfgs(tiny_config, "wgan-gp", steps=40, random_draws="buffered")
    alone = train(cfgs[1], tmp_path / "alone", progress=False)
    summaries = train_seeds(cfgs, [tmp_path / f"s{c['seed']}" for c in cfgs], progress=False)
    assert alone["random_draws"] == "buffered" and alone["seeds_in_job"] == 1
    assert {s["random_draws"] for s in summaries} == {"buffered"}
    assert_close_runs(tmp_path / "alone", tmp_path / "s1", atol=1e-6)
    direct = [{**c, "train": {**c["train"], "random_draws": "direct"}} for c in cfgs[1:2]]
    assert train(direct[0], tmp_path / "direct", progress=False)["random_draws"] == "direct"
    g_buf, g_dir = final_state(tmp_path / "alone")["generator"], final_state(tmp_path / "direct")["generator"]
    assert not all(torch.equal(g_buf[k], g_dir[k]) for k in g_buf)


def test_auto_draws_directly_on_a_cpu(tiny_config, tmp_path):
    cfg = run_cfgs(tiny_config, seeds=(0,), steps=5)[0]
    assert cfg["train"]["random_draws"] == "auto"
    assert train(cfg, tmp_path / "run", progress=False)["random_draws"] == "direct"
    assert gjob.draw_block({"random_draws": "auto"}, torch.device("cuda")) == gjob.DRAW_BLOCK
    assert gjob.draw_block({}, torch.device("cuda")) is None, "configs from before the key draw directly"


def test_datasets_that_cannot_serve_buffered_draws_draw_directly(tmp_path):
    config = acfg.validate(
        {
            "grid": {"datasets": ["digits"], "variants": ["gan"], "losses": ["nonsaturating"], "seeds": [0]},
            "train": {"steps": 2, "batch_size": 8, "random_draws": "buffered"},
        }
    )
    summary = train(gcfg.resolve_run(config, "digits", "gan", "nonsaturating", 0), tmp_path / "run", progress=False)
    assert summary["status"] == "completed" and summary["random_draws"] == "direct"


class CountRandomOps(torch.utils._python_dispatch.TorchDispatchMode):
    """How many random-number kernels run (one per op on a GPU)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func.overloadpacket.__name__ in ("randn", "rand", "randint", "normal_", "uniform_", "random_")
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("draws", ["direct", "buffered"])
def test_random_kernels_per_step_grow_with_seeds_only_when_direct(tiny_config, draws):
    counts = {}
    for seeds in (2, 6):
        cfgs = run_cfgs(tiny_config, "wgan-gp", seeds=range(seeds), random_draws=draws)
        job = gjob.Job(cfgs, torch.device("cpu"), stacked=True, block=gjob.DRAW_BLOCK if draws == "buffered" else None)
        variant = job.variant
        variant.d_step(variant.real_batch(8, job.data))  # fills the blocks
        with CountRandomOps() as mode:
            for _ in range(3):
                variant.d_step(variant.real_batch(8, job.data))
                variant.g_step(8)
        counts[seeds] = mode.count
    if draws == "direct":
        assert counts[6] == 3 * counts[2] > 0, counts
    else:
        assert counts[6] == counts[2] == 0, counts


def test_with_buffered_draws_a_gpu_step_runs_the_same_ops_for_any_number_of_seeds(tiny_config, monkeypatch):
    from benchmarks.timing import ops_per_step

    counts = {}
    for seeds in (1, 3, 8):
        cfgs = run_cfgs(tiny_config, "wgan-gp", seeds=range(seeds), random_draws="buffered")
        job = gjob.Job(cfgs, torch.device("cpu"), stacked=True, block=gjob.DRAW_BLOCK)

        def step(job=job):
            job.variant.d_step(job.variant.real_batch(8, job.data))
            job.variant.g_step(8)

        counts[seeds] = ops_per_step(step)
    assert counts[1] == counts[3] == counts[8], counts
