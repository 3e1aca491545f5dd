"""Several runs in one ``python -m metrics.evaluate`` call (what the evaluate rule runs for
a population): each run's files and numbers are those it gets evaluated alone, the real
side made once; a run that fails is named and the others are still evaluated."""

import json
import shutil

import numpy as np
import pytest
import yaml

from gans import config as gcfg
from gans import layout, population_job
from gans.train import train, train_seeds
from metrics import evaluate as gevaluate
from metrics.config import resolve_eval
from metrics.points import PointInputs

RUNS = [("8gaussians", "gan", 0), ("8gaussians", "gan", 1), ("8gaussians", "cgan", 0), ("25gaussians", "gan", 0)]


def folder(root, dataset, variant, seed):
    return root / dataset / variant / f"seed{seed}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Four tiny runs: two seeds of one population (one batched model), a conditional
    variant and another dataset; and the config file that evaluates them."""
    from analysis import config as acfg
    from tests.conftest import TINY

    root = tmp_path_factory.mktemp("trained")
    config = acfg.validate(json.loads(json.dumps(TINY)))
    cfgs = {run: gcfg.resolve_run(config, run[0], run[1], "nonsaturating", run[2]) for run in RUNS}
    train_seeds([cfgs[RUNS[0]], cfgs[RUNS[1]]], [folder(root, *RUNS[0]), folder(root, *RUNS[1])], progress=False)
    for run in RUNS[2:]:
        train(cfgs[run], folder(root, *run), progress=False)
    (root / "config.yaml").write_text(yaml.safe_dump(TINY))
    return root, config, cfgs


def copy_runs(trained, to):
    root, _, _ = trained
    shutil.copytree(root, to)
    return [folder(to, *run) for run in RUNS]


def evaluated(run):
    """A run's evaluation files, read back: the table's text, the JSON and the arrays."""
    with np.load(run / layout.SAMPLES) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return (run / layout.METRICS_TABLE).read_text(), json.loads((run / layout.METRICS_FINAL).read_text()), arrays


def assert_same_evaluation(a, b):
    table_a, final_a, arrays_a = evaluated(a)
    table_b, final_b, arrays_b = evaluated(b)
    assert table_a == table_b and final_a == final_b, (a, b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for key, value in arrays_a.items():
        np.testing.assert_array_equal(arrays_b[key], value, err_msg=f"{b} {key}")


def test_runs_evaluated_in_one_call_match_each_run_evaluated_alone(trained, tmp_path, monkeypatch):
    together, alone = copy_runs(trained, tmp_path / "together"), copy_runs(trained, tmp_path / "alone")
    config = str(tmp_path / "together" / "config.yaml")
    made, real = [], PointInputs.real
    monkeypatch.setattr(PointInputs, "real", lambda self: made.append(self.dataset.name) or real(self))
    assert gevaluate.main(["--config", config, "--run", *map(str, together)]) == 0
    assert made == ["8gaussians", "25gaussians"]  # the real side once per dataset
    for run in alone:
        assert gevaluate.main(["--config", config, "--run", str(run)]) == 0
    for a, b in zip(together, alone, strict=True):
        assert_same_evaluation(a, b)
    assert evaluated(together[0])[0] != evaluated(together[1])[0]  # two runs, two sets of metrics
    assert "class_accuracy" in evaluated(together[2])[1]["final"]  # the conditional variant's own metrics


def test_a_population_is_evaluated_from_its_marker_and_its_evaluation_marker_written(trained, tmp_path):
    _, config, cfgs = trained
    runs = copy_runs(trained, tmp_path / "runs")[:2]
    trained_marker, marker = tmp_path / "populations/p0.json", tmp_path / "evaluations/p0.json"
    pair = [cfgs[RUNS[0]], cfgs[RUNS[1]]]
    population_job.write_marker(
        trained_marker, population_job.marker("8gaussians/gan/x/p0", pair, list(map(str, runs)))
    )
    ev = json.dumps(resolve_eval(config, "8gaussians"))
    args = ["--eval-config", ev, "--runs-from", str(trained_marker), "--marker", str(marker)]
    assert gevaluate.main(args) == 0
    record = json.loads(marker.read_text())
    assert record["population"] == "8gaussians/gan/x/p0"
    assert [(m["seed"], m["run"], m["status"]) for m in record["members"]] == [
        (0, str(runs[0]), "completed"),
        (1, str(runs[1]), "completed"),
    ]
    assert record["members"][1]["files"] == [str(runs[1] / name) for name in layout.EVAL_FILES]
    assert population_job.stale_evaluation(marker) == {}
    (runs[1] / layout.SAMPLES).unlink()
    assert population_job.stale_evaluation(marker) == {str(runs[1]): [f"{runs[1] / layout.SAMPLES} is gone"]}


def test_a_failed_run_is_named_and_the_others_are_still_evaluated(trained, tmp_path, capsys):
    _, config, _ = trained
    runs = copy_runs(trained, tmp_path / "runs")[:2]
    damaged, never = runs[0], tmp_path / "never"
    checkpoint = damaged / layout.CHECKPOINT
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    ev = json.dumps(resolve_eval(config, "8gaussians"))
    marker = tmp_path / "evaluations/p0.json"
    with pytest.raises(SystemExit) as code:
        gevaluate.main(["--eval-config", ev, "--run", str(damaged), str(never), str(runs[1]), "--marker", str(marker)])
    assert code.value.code == 2  # the worst of: damaged (1, retrained next call), never trained (2)
    err = capsys.readouterr().err
    assert "checkpoint.pt has 100 bytes, but training wrote" in err and f"run folder '{never}' lacks" in err
    assert f"error: 2 of 3 runs not evaluated: {damaged}, {never}" in err
    assert all((runs[1] / name).is_file() for name in layout.EVAL_FILES), "the run after the failed ones"
    assert not (damaged / layout.METRICS_FINAL).exists() and not marker.exists()
    with pytest.raises(SystemExit) as code:
        gevaluate.main(["--eval-config", ev, "--runs-from", str(tmp_path / "absent.json")])
    assert code.value.code == 2 and "is not a population's training marker" in capsys.readouterr().err
