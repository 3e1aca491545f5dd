"""A run's cost before it runs (gans.config.cost): the arithmetic and memory counted
on the meta device against an independent count, and jobs larger than the machine
refused where they run here, named as notes by `make check`."""

import math

import pytest
import torch

from analysis import config as acfg
from analysis.launch import main as check_main
from gans.architectures import build_architecture
from gans.config import cost
from gans.config.run import resolve_run
from tests.conftest import ROOT
from tests.conftest import tiny_with as bad


def mlp_step_flop(noise: int, width: int, depth: int, data: int, batch: int) -> int:
    """Matrix-product FLOP of G's batch through D and back plus D over as many real
    samples, counted layer by layer: forward 2·B·in·out a layer, the weights' gradient
    as much again, the inputs' gradient where the input needs one (not z, not real data)."""
    g = [(noise, width)] + [(width, width)] * (depth - 1) + [(width, data)]
    d = [(data, width)] + [(width, width)] * (depth - 1) + [(width, 1)]
    macs = lambda layers: sum(i * o for i, o in layers)  # noqa: E731
    forward = macs(g) + 2 * macs(d)
    weights = forward
    inputs = macs(g[1:]) + macs(d) + macs(d[1:])
    return 2 * batch * (forward + weights + inputs)


def toy_run(**train):
    cfg = acfg.validate(bad(train={**train}))
    return resolve_run(cfg, "8gaussians", "gan", "nonsaturating", 0)


@pytest.mark.parametrize("width, depth, batch", [(64, 2, 128), (32, 3, 50), (128, 1, 7)])
def test_step_arithmetic_equals_a_layer_by_layer_count(width, depth, batch):
    run = toy_run(batch_size=batch)
    run["architecture"]["params"] = {"width": width, "depth": depth}
    passes = run["n_critic"] + run["n_gen"]
    assert cost.step_cost(run).flop == passes * mlp_step_flop(run["noise_dim"], width, depth, 2, batch)


def test_parameter_memory_counts_the_built_networks_and_adams_state():
    run = toy_run()
    arch = build_architecture(run["architecture"]["name"], **run["architecture"]["params"])
    count = sum(
        p.numel()
        for net in (arch.generator((2,), run["noise_dim"]), arch.discriminator((2,)))
        for p in net.parameters()
    )
    assert cost.step_cost(run).parameter_bytes == count * 4 * 4  # weights, gradients, two moments, fp32


def test_saved_activations_grow_with_the_batch():
    small, large = (cost.step_cost(toy_run(batch_size=b)).activation_bytes for b in (64, 128))
    assert small > 0 and large == 2 * small


def test_a_run_no_machine_could_finish_is_refused_naming_its_steps():
    run = toy_run()
    limit_steps = math.floor(cost.LIMIT_FLOP / cost.step_cost(run).flop)
    cost.check_arithmetic({**run, "train": {**run["train"], "steps": limit_steps}})
    with pytest.raises(ValueError, match=r"'train.steps': .* more than a machine at 1 PFLOP/s does in 30 days"):
        cost.check_arithmetic({**run, "train": {**run["train"], "steps": limit_steps + 1}})


def test_memory_problems_name_the_job_and_the_key():
    assert acfg.memory_problems(acfg.validate(bad())) == []
    huge_batch = acfg.memory_problems(acfg.validate(bad(train={"batch_size": 10**9})))
    assert huge_batch and "a training job of" in huge_batch[0] and "train.batch_size" in huge_batch[0]
    huge_eval = acfg.memory_problems(acfg.validate(bad(evaluation={"num_samples": 10**11})))
    assert huge_eval and "evaluation.num_samples" in huge_eval[0]


def test_memory_is_compared_with_the_gpu_for_a_cuda_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: type("P", (), {"total_memory": 2**30})())
    assert cost.machine_bytes("cuda") == (2**30, "GPU 0's memory")
    assert cost.machine_bytes("cpu")[1] == "this machine's memory"


def test_make_check_says_a_too_large_job_as_a_note(capsys):
    assert check_main([str(ROOT / "config/config.yaml"), "--config", 'evaluation={"num_samples": 100000000000}']) == 0
    said = capsys.readouterr().err
    assert "note: 8gaussians: an evaluation point holds" in said and "(checked on this machine)" in said
    assert said.rstrip().endswith("valid")


def test_the_pipeline_refuses_a_too_large_job_before_any_work(monkeypatch, capsys):
    from analysis.launch import launch

    workflow = type(
        "W",
        (),
        {
            "overwrite_configfiles": [],
            "local_exec": True,
            "remote_exec": False,
            "subprocess_exec": False,
            "config_settings": type("S", (), {"config": {}})(),
        },
    )()
    with pytest.raises(SystemExit):
        launch(bad(evaluation={"num_samples": 10**11}), workflow)
    assert capsys.readouterr().err.startswith("error: 8gaussians: an evaluation point holds")
