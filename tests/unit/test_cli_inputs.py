"""Bad command-line input to analysis.compare, analysis.aggregate and the benchmarks:
one line on stderr starting 'error: ', naming the problem and what is valid, exit
status 2, before any work starts and without touching what is already there."""

import json
import os

import pytest
import torch

from analysis import aggregate, compare
from benchmarks import population, throughput
from tests.unit.test_compare import BAD, GOOD, write_tables


def refused(capsys, call, *argv) -> str:
    """The one-line error of ``call(argv)``, which must exit with status 2."""
    with pytest.raises(SystemExit) as exit_:
        call([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def no_work(monkeypatch, module, name):
    monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail(f"{name} ran despite bad input"))


def cut_mid_line(text: str) -> str:
    return text[: len(text) - 7]


def cut_at_line_end(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[:-1])


def blank_a_value(text: str) -> str:
    header, first, *rest = text.splitlines(keepends=True)
    return header + first.replace("collapsed", "").replace("converged", "") + "".join(rest)


@pytest.mark.parametrize(
    ("name", "damage", "named"),
    [
        ("provenance.json", lambda t: "{", "not JSON"),
        ("provenance.json", lambda t: "[1, 2]", "it holds a list, not a JSON object"),
        ("provenance.json", lambda t: '{"evaluation": {}}', "no object under analysis"),
        ("runs.csv", lambda t: "", "empty"),
        ("runs.csv", lambda t: t[:300], "its last line is incomplete"),
        ("runs.csv", cut_mid_line, "its last line is incomplete"),
        ("runs.csv", cut_at_line_end, "it holds 9 of the 10 runs provenance.json counts"),
        ("runs.csv", blank_a_value, "line 2 has no value in outcome"),
        ("runs.csv", lambda t: t + t.splitlines(keepends=True)[1], "8gaussians/gan/default/nonsaturating/0 has more"),
        ("summary.csv", cut_at_line_end, "no row for cell 8gaussians/gan/default/wgan of runs.csv"),
        ("summary.csv", lambda t: t.splitlines(keepends=True)[0], "no rows"),
        ("rankings.csv", lambda t: "x,y\n", "missing columns dataset, variant, setting, loss, metric, order"),
        ("rankings.csv", lambda t: 'a,"b\n', "not a CSV table"),
        ("summary.csv", lambda t: b"\x99\xfe\x00garbage\n", "not UTF-8 text"),
    ],
)
def test_a_damaged_tables_folder_is_named_before_comparing(tmp_path, capsys, monkeypatch, name, damage, named):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD, "wgan": BAD})
    b = write_tables(tmp_path / "b", {"nonsaturating": GOOD, "wgan": BAD})
    damaged = damage((b / name).read_text())
    (b / name).write_bytes(damaged if isinstance(damaged, bytes) else damaged.encode())
    no_work(monkeypatch, compare, "config_differences")
    err = refused(capsys, compare.main, a, b)
    assert f"error: {b / name} is damaged or not a table of analysis.aggregate (" in err and named in err
    with pytest.raises(compare.Damaged, match="is damaged"):
        compare.load(b)
    compare.load(a)  # the other folder reads as before


@pytest.mark.parametrize(
    ("out", "named"),
    [
        ("missing/r.md", "missing is no folder to write into"),
        ("a", "is a folder; give a file to write"),
        ("a/runs.csv/r.md", "runs.csv is not a folder to write into"),
    ],
)
def test_compare_checks_where_it_writes_before_comparing(tmp_path, capsys, monkeypatch, out, named):
    a = write_tables(tmp_path / "a", {"nonsaturating": GOOD})
    no_work(monkeypatch, compare, "load")
    assert named in refused(capsys, compare.main, a, a, "--out", tmp_path / out)
    assert "above 0 and at most 1" in refused(capsys, compare.main, a, a, "--max-width", "0")


@pytest.fixture
def run_folders(tmp_path):
    """Two run folders holding a metrics.json, and a calibration file: enough for the
    checks that come before aggregate reads anything."""
    runs = [tmp_path / "runs" / f"seed{s}" for s in (0, 1)]
    for run in runs:
        run.mkdir(parents=True)
        (run / "metrics.json").write_text("{}")
    (tmp_path / "calibration.json").write_text(json.dumps({"dataset": "8gaussians"}))
    os.symlink(runs[0], tmp_path / "link")
    return runs


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--", "runs/seed0", "runs/seed0"], "run folder runs/seed0 is given twice: each run counts once"),
        (["--", "runs/seed0", "link"], "is given twice, as runs/seed0 and link"),
        (["--analysis", "{bad json"], "--analysis is not JSON"),
        (["--analysis", "[1]"], "--analysis holds a list; it takes a JSON object of analysis options"),
        (["--analysis", '{"alpha": 2}'], "--analysis: config key 'analysis.alpha'"),
        (["--skipped", '{"a": 1}'], "--skipped holds an object; it takes a JSON list of objects with text under"),
        (["--skipped", '[{"dataset": "x"}]'], "--skipped entry 1 is"),
        (["--tuning", '{"a": 1}'], "--tuning holds an object; it takes a JSON list"),
        (["--tuning", "[1"], "--tuning is not JSON"),
        (["--calibration", "empty.json"], "--calibration empty.json is empty"),
        (["--calibration", "text.json"], "--calibration text.json is not JSON"),
        (["--calibration", "list.json"], "--calibration list.json names no dataset"),
        (["--out", "calibration.json"], "--out calibration.json is a file; it takes the folder"),
    ],
)
def test_aggregate_refuses_bad_options_before_any_work(tmp_path, run_folders, capsys, monkeypatch, options, named):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "text.json").write_text("not json")
    (tmp_path / "list.json").write_text("[]")
    no_work(monkeypatch, aggregate, "aggregate")
    no_work(monkeypatch, aggregate.safe_io, "check_evaluation_outputs")
    argv = ["--out", "tables", "--calibration", "calibration.json", *options]
    if "--" not in options:
        argv += ["--", "runs/seed0", "runs/seed1"]
    assert named in refused(capsys, aggregate.main, *argv)
    assert not (tmp_path / "tables").exists() and (run_folders[0] / "metrics.json").read_text() == "{}"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--losses", "hinge"], "--losses hinge: the plain loop that every row is compared with is written for"),
        (["--device", "gpu"], "choose auto, cpu, cuda or cuda:N"),
        (["--device", "cuda"], "--device cuda: CUDA is not available on this machine; choose cpu or auto"),
        (["--threads", "0"], "--threads 0: --threads, --steps and --repeats must be at least 1"),
        (["--repeats", "0"], "--repeats 0:"),
        (["--steps", "0"], "--steps 0:"),
        (["--warmup", "0"], "--warmup 0: must be at least 1 (the timing starts at the last warm-up step"),
        (["--sizes", "1,0"], "--sizes and --mlps take positive numbers"),
        (["--mlps", "2x"], "--sizes takes whole numbers"),
        (["--out", "afile/sub"], "--out afile/sub: afile is a file, not a folder"),
        (["--train-check", "afile"], "--train-check afile: afile is a file"),
        (["--precisions", "fp32", "fp16"], "--precisions fp32 fp16: choose from fp32, tf32, bf16"),
    ],
)
def test_population_benchmark_refuses_bad_options_before_any_work(tmp_path, capsys, monkeypatch, argv, named):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "afile").write_text("kept")
    no_work(monkeypatch, population, "matmul_peak")
    no_work(monkeypatch, population, "train_check")
    err = refused(capsys, population.main, "--out", tmp_path / "out", *argv)
    assert named in err
    assert "nonsaturating" in err or "--losses" not in argv
    assert not (tmp_path / "out").exists() and (tmp_path / "afile").read_text() == "kept"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--image-width", "0"], "--image-width 0: DCGAN's ngf = ndf must be at least 1"),
        (["--data-root", "."], "--data-root . holds no MNIST/raw folder"),
        (["--out", "afile"], "--out afile: afile is a file, not a folder"),
        (["--device", "cuda:2"], "--device cuda:2: this machine has 1 CUDA device(s), cuda:0 to cuda:0"),
    ],
)
def test_throughput_benchmark_refuses_bad_options_before_any_work(tmp_path, capsys, monkeypatch, argv, named):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    (tmp_path / "afile").write_text("kept")
    no_work(monkeypatch, throughput, "run")
    assert named in refused(capsys, throughput.main, *argv)
    assert (tmp_path / "afile").read_text() == "kept"
