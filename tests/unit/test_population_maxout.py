"""Populations of PacGAN's 2-D networks (gans/architectures/maxout.py): a generator with
bias-free linear layers and batch norm, a maxout discriminator. Each member normalises
by its own batch, keeps its own running statistics and trains as it does alone."""

import copy

import torch

from gans import stacking
from gans.architectures import build_architecture
from gans.config.populations import reason_not_batched
from gans.job import Job
from gans.population import BarMonitor, keep_members
from tests.unit.test_population import settings, stop_at, train_population_and_alone
from tests.unit.test_stacking import assert_close_runs, assert_each_members_state_and_gradients, final_state

MAXOUT = {"architecture.name": "maxout-mlp", "architecture.params": {"g_width": 16, "d_width": 8, "pieces": 3}}


def networks(seed):
    torch.manual_seed(seed)
    arch = build_architecture("maxout-mlp", g_width=16, g_depth=2, d_width=8, d_depth=2, pieces=3)
    return arch.generator((2,), 2), arch.discriminator((2,))


def test_stacked_batch_norm_and_maxout_are_each_members_own():
    alone = [networks(s) for s in range(3)]
    for k in (0, 1):  # the generator (batch norm, no biases), then the maxout discriminator
        nets = [pair[k] for pair in alone]
        stacked = stacking.stack_modules(copy.deepcopy(nets))
        x = torch.randn(3, 32, 2, generator=torch.Generator().manual_seed(k))
        for _ in range(3):  # training mode: batch statistics, running statistics updated
            out = stacked(x)
            out.square().sum().backward()
            for i, net in enumerate(nets):
                own = net(x[i])
                torch.testing.assert_close(out[i], own)
                own.square().sum().backward()
        assert_each_members_state_and_gradients(stacked, nets)
        stacked.eval()  # running statistics, as each member's own in evaluation mode
        for i, net in enumerate(nets):
            torch.testing.assert_close(stacked(x)[i], net.eval()(x[i]))


def test_a_dropped_member_takes_its_running_statistics_along():
    gens = [networks(s)[0] for s in range(3)]
    stacked = stacking.stack_modules(gens)
    stacked(torch.randn(3, 16, 2))
    before = stacking.unstack_state(stacked.state_dict(), 2)
    keep_members([stacked], torch.tensor([0, 2]))
    after = stacking.unstack_state(stacked.state_dict(), 1)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_pacgan_members_with_maxout_networks_match_their_runs_alone(tiny_config, tmp_path):
    values = [
        (0, {**MAXOUT, "optimizer.lr_d": 2e-4, "n_critic": 2}),
        (1, {**MAXOUT, "optimizer.lr_d": 1e-3, "optimizer.lr_g": 5e-4}),
        (2, {**MAXOUT, "optimizer.betas": [0.5, 0.999]}),
    ]
    cfgs = settings(tiny_config, "nonsaturating", values, steps=20, variant="pacgan", log_every=5, eval_every=10)
    assert reason_not_batched(cfgs[0]) is None
    outs, alone = train_population_and_alone(cfgs, tmp_path)
    for own, out in zip(alone, outs, strict=True):
        assert_close_runs(own, out, atol=1e-5)
        assert "1.running_var" in final_state(out)["generator"]


def test_the_in_training_bar_samples_as_the_evaluation_does(tiny_config):
    """In evaluation mode: the bar's samples use batch norm's running statistics and
    leave them as they were."""
    cfgs = settings(tiny_config, "nonsaturating", [(s, MAXOUT) for s in (0, 1)], variant="pacgan")
    stop_at(cfgs, 1.0, 0.5)
    job = Job(cfgs, torch.device("cpu"))
    generator = job.variant.generator
    generator(torch.randn(2, 8, 2))  # a training-mode forward: running statistics move
    before = copy.deepcopy(generator.state_dict())
    samples = BarMonitor(cfgs[0]["stop"], job.dataset, job.variant.device).samples(job.variant, 2)
    assert generator.training and all(torch.equal(v, generator.state_dict()[k]) for k, v in before.items())
    z = torch.randn(200, 2, generator=torch.Generator().manual_seed(2024 + 1))  # the stop's noise seed
    generator.eval()
    with torch.no_grad():
        torch.testing.assert_close(samples, generator(z.expand(2, 200, 2).contiguous()))
