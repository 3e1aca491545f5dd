"""A damaged result file (cut short, or edited) is named and set aside before any work
reads it, so the next pipeline call remakes it and no call fails the same way again;
output folders and evaluation configs a command cannot use are refused up front."""

import copy
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from analysis import config as acfg
from gans import config as gcfg
from gans import layout, population_job, safe_io
from gans.checkpoints import load_resume
from gans.job import Job
from gans.train import main as train_main
from gans.train import train
from metrics.config import resolve_eval
from metrics.evaluate import main as evaluate_main
from tests.conftest import TINY

POPULATION = "8gaussians/gan/nonsaturating/p0"


def tiny_run_cfg(seed=0):
    config = acfg.validate(copy.deepcopy(TINY))
    return gcfg.resolve_run(config, "8gaussians", "gan", "nonsaturating", seed), resolve_eval(config, "8gaussians")


@pytest.fixture(scope="module")
def evaluated_once(tmp_path_factory):
    """One trained and evaluated run, copied by each test that damages it."""
    cfg, ev = tiny_run_cfg()
    run = tmp_path_factory.mktemp("evaluated") / "run"
    train(cfg, run, progress=False)
    evaluate_main(["--eval-config", json.dumps(ev), "--run", str(run)])
    return run


@pytest.fixture
def evaluated(evaluated_once, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(evaluated_once, run)
    return run


def test_a_whole_run_passes_the_check(evaluated):
    safe_io.check_evaluation_outputs(evaluated)  # raises nothing


def table_cuts(text):
    lines = text.splitlines(keepends=True)
    return {
        "empty": "",
        "inside the header": text[: len(lines[0]) // 2],
        "header only": lines[0],
        "inside the last row": text[:-4],
        "without the last row": "".join(lines[:-1]),
    }


@pytest.mark.parametrize(
    "cut", ["empty", "inside the header", "header only", "inside the last row", "without the last row"]
)
def test_a_metrics_table_cut_short_anywhere_is_refused(evaluated, cut):
    table = evaluated / layout.METRICS_TABLE
    text = table.read_text()
    assert (
        pd.read_csv(table)["step"].iloc[-1] == json.loads((evaluated / layout.METRICS_FINAL).read_text())["final_step"]
    )
    table.write_text(table_cuts(text)[cut])
    with pytest.raises(safe_io.DamagedFile, match="metrics.csv .*(cut short|empty)") as caught:
        safe_io.check_evaluation_outputs(evaluated)
    assert caught.value.path == table


def test_a_metrics_table_with_a_row_lacking_its_step_is_refused(evaluated):
    table = evaluated / layout.METRICS_TABLE
    lines = table.read_text().splitlines(keepends=True)
    lines[1] = "," + lines[1].split(",", 1)[1]
    table.write_text("".join(lines))
    with pytest.raises(safe_io.DamagedFile, match="without its evaluation step"):
        safe_io.check_evaluation_outputs(evaluated)


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda r: {"final": "x"}, "status, reason, final, train, evaluation, sampling"),
        (lambda r: {**r, "final": "x"}, "final:"),
        (lambda r: {**r, "train": {**r["train"], "steps_planned": None}}, "train.steps_planned"),
        (lambda r: {**r, "final": {**r["final"], "fid": [1.0]}}, "not one value per metric"),
        (lambda r: [r], "is not a JSON object"),
    ],
    ids=["no-structure", "final-not-a-mapping", "train-key", "final-value", "a-list"],
)
def test_a_metrics_record_without_what_aggregation_reads_is_refused(evaluated, edit, named):
    path = evaluated / layout.METRICS_FINAL
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(safe_io.DamagedFile) as caught:
        safe_io.check_evaluation_outputs(evaluated)
    assert caught.value.path == path and named in caught.value.problem


def test_the_aggregation_sets_a_damaged_metrics_table_aside_before_any_table(evaluated, tmp_path, capsys):
    from analysis.aggregate import main as aggregate_main

    table = evaluated / layout.METRICS_TABLE
    table.write_text(table.read_text()[:-4])
    with pytest.raises(SystemExit) as code:
        aggregate_main([str(evaluated), "--out", str(tmp_path / "tables")])
    assert code.value.code == 1 and not (tmp_path / "tables").exists()
    err = capsys.readouterr().err
    assert "metrics.csv ends inside a row: it was cut short" in err and "it was moved to metrics.csv.damaged" in err
    assert "Run snakemake again to remake it" in err
    assert (evaluated / "metrics.csv.damaged").is_file() and not table.exists()


def truncate(path, size):
    path.write_bytes(path.read_bytes()[:size])


def test_cut_samples_are_refused_by_the_check_and_set_aside_by_the_figures(evaluated):
    from analysis.figures.samples import _run_samples

    row = pd.Series({"run": evaluated.name})
    assert set(_run_samples(evaluated.parent, row)) >= {"steps", "real", "fake_40", "d_score"}
    samples = evaluated / layout.SAMPLES
    truncate(samples, 500)
    with pytest.raises(safe_io.DamagedFile, match="samples.npz cannot be read"):
        safe_io.check_evaluation_outputs(evaluated)
    with pytest.raises(SystemExit) as stop:
        _run_samples(evaluated.parent, row)
    assert str(stop.value).startswith(f"error: {samples} cannot be read (")
    assert "it was moved to samples.npz.damaged. Run snakemake again to remake it" in str(stop.value)
    assert not samples.exists() and (evaluated / "samples.npz.damaged").is_file()
    # a gone evaluation file makes the population's evaluation marker stale: it is evaluated again
    marker = evaluated.parent / "evaluated.json"
    population_job.write_marker(marker, {"population": POPULATION, "members": [{"run": str(evaluated)}]})
    assert population_job.stale_evaluation(marker) == {str(evaluated): [f"{samples} is gone"]}


def population_main(cfg, run, marker):
    args = ["--population", POPULATION, "--run-config", json.dumps([cfg]), "--out", str(run), "--marker", str(marker)]
    return population_job.main(args)


@pytest.mark.parametrize("damage", ['{"status": "compl', '{"status": "completed"}', "[]"], ids=["cut", "keys", "list"])
def test_a_population_job_sets_an_unreadable_summary_aside_and_trains_the_run_again(tmp_path, capsys, damage):
    cfg, _ = tiny_run_cfg()
    run, marker = tmp_path / "run", tmp_path / "p0.json"
    assert population_main(cfg, run, marker) == 0
    first = safe_io.load_tensors(run / layout.CHECKPOINT)["state"]["generator"]
    (run / layout.TRAIN_SUMMARY).write_text(damage)
    capsys.readouterr()
    assert population_main(cfg, run, marker) == 0  # not stuck: the job trains the run again
    err = capsys.readouterr().err
    assert f"note: {run / layout.TRAIN_SUMMARY} " in err and "it was moved to train_summary.json.damaged," in err
    assert "kept (a finished run" not in err
    assert (run / "train_summary.json.damaged").read_text() == damage
    assert safe_io.read_summary(run)["steps_completed"] == cfg["train"]["steps"]
    again = safe_io.load_tensors(run / layout.CHECKPOINT)["state"]["generator"]
    assert all(torch.equal(t, again[k]) for k, t in first.items()), "the same run as the first training"
    assert json.loads(marker.read_text())["members"][0]["status"] == "completed"
    capsys.readouterr()
    assert population_main(cfg, run, marker) == 0
    assert "kept (a finished run of the same config)" in capsys.readouterr().err


def test_an_output_unlike_its_record_is_set_aside_and_trained_again_in_the_same_job(tmp_path, capsys):
    cfg, _ = tiny_run_cfg()
    run, marker = tmp_path / "run", tmp_path / "p0.json"
    assert population_main(cfg, run, marker) == 0
    first = safe_io.load_tensors(run / layout.CHECKPOINT)["state"]["generator"]
    data = bytearray((run / layout.CHECKPOINT).read_bytes())
    data[len(data) // 2] ^= 0xFF  # the same size, other bytes: only the checksum tells
    (run / layout.CHECKPOINT).write_bytes(data)
    capsys.readouterr()
    assert population_main(cfg, run, marker) == 0
    err = capsys.readouterr().err
    assert f"note: {run / layout.CHECKPOINT} cannot be read (differs from what training wrote" in err
    assert "it was moved to checkpoint.pt.damaged (and train_summary.json to train_summary.json.damaged)" in err
    again = safe_io.load_tensors(run / layout.CHECKPOINT)["state"]["generator"]
    assert all(torch.equal(t, again[k]) for k, t in first.items()), "the same run as the first training"


def test_a_training_file_cut_with_its_time_kept_makes_the_marker_stale(tmp_path):
    cfg, _ = tiny_run_cfg()
    run, marker = tmp_path / "run", tmp_path / "p0.json"
    assert population_main(cfg, run, marker) == 0
    assert population_job.stale(marker) == {}
    checkpoint = run / layout.CHECKPOINT
    times = checkpoint.stat()
    with open(checkpoint, "r+b") as f:
        f.truncate(1000)
    os.utime(checkpoint, ns=(times.st_atime_ns, times.st_mtime_ns))  # a copy that kept the file's time
    assert population_job.stale(marker) == {
        str(run): [f"{checkpoint} has another size than training wrote: it is damaged"]
    }


@pytest.mark.parametrize("text", ['{"population": "8gau', '{"members": [{"run": 3}]}', "[1]"])
def test_an_unreadable_training_marker_is_removed_at_start_without_failing(tmp_path, text):
    run = tmp_path / "run"
    run.mkdir()
    for name in layout.EVAL_FILES:
        (run / name).write_text("{}")
    trained, evaluated = (tmp_path / p.format(population=POPULATION) for p in (layout.POPULATION, layout.EVALUATION))
    population_job.write_marker(evaluated, {"population": POPULATION, "members": [{"run": str(run)}]})
    trained.parent.mkdir(parents=True)
    trained.write_text(text)
    assert population_job.replaced_runs({str(run): {}}, root=tmp_path) == {}  # read at start too
    (note,) = population_job.clear_stale([POPULATION], root=tmp_path)
    assert note == f"{trained}: {trained} cannot be read; the population's job runs again"
    assert not trained.exists() and not evaluated.exists(), "trained and evaluated again"


def train_refused(argv, capsys):
    with pytest.raises(SystemExit) as code:
        train_main(argv)
    assert code.value.code == 2
    return capsys.readouterr().err


def test_training_refuses_one_folder_given_twice_before_training(tmp_path, capsys, monkeypatch):
    cfg, _ = tiny_run_cfg()
    cfgs = json.dumps([cfg, {**cfg, "seed": 1}])
    monkeypatch.chdir(tmp_path)
    for outs in (["X", "X"], ["X", "./X/"], ["X", str(tmp_path / "X")]):
        err = train_refused(["--run-config", cfgs, "--out", *outs], capsys)
        assert f"error: --out names one folder twice: '{outs[0]}' and '{outs[1]}'" in err
    (tmp_path / "Y").mkdir()
    (tmp_path / "L").symlink_to(tmp_path / "Y")
    assert "'Y' and 'L'" in train_refused(["--run-config", cfgs, "--out", "Y", "L"], capsys)
    assert not (tmp_path / "X").exists() and not list((tmp_path / "Y").iterdir()), "nothing trained"


@pytest.mark.parametrize("out", ["taken", "taken/run"])
def test_training_refuses_a_file_as_its_folder_before_training(tmp_path, capsys, out):
    cfg, _ = tiny_run_cfg()
    (tmp_path / "taken").write_text("keep me")
    err = train_refused(["--run-config", json.dumps(cfg), "--out", str(tmp_path / out)], capsys)
    assert f"error: --out '{tmp_path / out}': {tmp_path.resolve() / 'taken'} is a file, not a folder" in err
    assert (tmp_path / "taken").read_text() == "keep me"


@pytest.mark.parametrize(
    "given, words",
    [
        ("{}", "error: --eval-config lacks contour_resolution, images, kid, metrics, modes, num_samples"),
        ('{"num_samples": 200}', "error: --eval-config lacks contour_resolution, images, kid, metrics, modes, prc"),
        ("[1]", "error: --eval-config is a JSON list; it takes a resolved evaluation config"),
    ],
)
def test_evaluation_refuses_an_eval_config_without_its_keys_in_one_line(evaluated, capsys, given, words):
    before = (evaluated / layout.METRICS_FINAL).read_bytes()
    with pytest.raises(SystemExit) as code:
        evaluate_main(["--eval-config", given, "--run", str(evaluated)])
    assert code.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(words) and err.count("\n") == 1, err
    assert (evaluated / layout.METRICS_FINAL).read_bytes() == before, "nothing evaluated"


@pytest.mark.parametrize("saved", [torch.zeros(3), {"configs": None}], ids=["a-tensor", "no-state"])
def test_a_resume_point_without_its_parts_is_ignored(tmp_path, capsys, saved):
    cfg, _ = tiny_run_cfg()
    torch.save(saved, tmp_path / layout.RESUME)
    assert load_resume(tmp_path / layout.RESUME, [cfg], Job([cfg], torch.device("cpu"))) is None
    assert "it lacks what a resume point holds; starting over" in capsys.readouterr().err


def test_a_summary_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    cfg, _ = tiny_run_cfg()
    written = []
    real = safe_io.write_atomic
    monkeypatch.setattr(safe_io, "write_atomic", lambda path, data: (written.append(path.name), real(path, data)))
    train(cfg, tmp_path / "run", progress=False)
    assert layout.TRAIN_SUMMARY in written
    assert np.isfinite(safe_io.read_summary(tmp_path / "run")["wall_time_s"])
