"""Nothing loaded from a run folder runs code; a damaged training output is named and
set aside so the next pipeline call retrains the run; a file is written whole or not
at all, and a full disk says so."""

import errno
import json
import os
import random

import numpy as np
import pytest
import torch

from gans import config as gcfg
from gans import safe_io
from gans.checkpoints import SeedRun, save_resume
from gans.job import Job
from gans.layout import CHECKPOINT, RESUME, SNAPSHOTS, TRAIN_SUMMARY
from gans.train import main as train_main
from gans.train import train
from metrics.config import resolve_eval
from metrics.evaluate import main as evaluate_main


class Planted:
    """A pickle that runs code when unpickled: it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def plant(path, marker, **extra):
    torch.save({"state": Planted(marker), **extra}, path)
    torch.load(path, weights_only=False)  # the planted file does run code when loaded unsafely
    assert marker.exists()
    marker.unlink()


def run_cfg(tiny_config, **train):
    cfg = gcfg.resolve_run(tiny_config, "8gaussians", "gan", "nonsaturating", 0)
    cfg["train"].update(train)
    return cfg


def same_files(a, b):
    ca, cb = (safe_io.load_tensors(d / CHECKPOINT) for d in (a, b))
    for name, state in ca["state"].items():
        if not name.startswith("opt"):
            assert all(torch.equal(t, cb["state"][name][k]) for k, t in state.items()), name
    return True


def test_a_planted_resume_point_is_refused_without_running(tiny_config, tmp_path, capsys):
    cfg = run_cfg(tiny_config, steps=40, checkpoint_every=20)
    (tmp_path / "run").mkdir()
    marker = tmp_path / "marker"
    plant(tmp_path / "run" / RESUME, marker, configs=[cfg], step=20)
    summary = train(cfg, tmp_path / "run", progress=False)
    assert not marker.exists(), "the planted pickle ran"
    assert "resume.pt holds objects other than tensors and plain data" in capsys.readouterr().err
    assert summary["resumed_from_step"] is None and summary["steps_completed"] == 40
    train(cfg, tmp_path / "fresh", progress=False)
    assert same_files(tmp_path / "run", tmp_path / "fresh")


def test_a_resume_point_holds_only_tensors_and_plain_data_and_restores_every_stream(tiny_config, tmp_path):
    cfg = run_cfg(tiny_config)
    job = Job([cfg], torch.device("cpu"))
    np.random.seed(3)
    random.seed(4)
    np.random.normal()  # numpy keeps a cached Gaussian: part of its state
    save_resume(tmp_path / RESUME, [cfg], 20, job, [SeedRun(cfg, tmp_path)])
    expected = (np.random.random(5), random.random(), torch.rand(3))
    saved = safe_io.load_tensors(tmp_path / RESUME)  # weights_only=True
    job.set_rng_state(saved["rng"])
    again = (np.random.random(5), random.random(), torch.rand(3))
    assert np.array_equal(expected[0], again[0]) and expected[1] == again[1] and torch.equal(expected[2], again[2])


@pytest.fixture
def trained(tiny_config, tmp_path):
    run = tmp_path / "run"
    train(run_cfg(tiny_config), run, progress=False)
    return run, json.dumps(resolve_eval(tiny_config, "8gaussians"))


def evaluate_fails(run, ev, capsys):
    with pytest.raises(SystemExit) as code:
        evaluate_main(["--eval-config", ev, "--run", str(run)])
    assert code.value.code == 1
    assert not (run / "metrics.json").exists()
    return capsys.readouterr().err


def test_a_planted_checkpoint_is_refused_without_running(trained, tmp_path, capsys):
    run, ev = trained
    marker = tmp_path / "marker"
    plant(run / CHECKPOINT, marker)
    err = evaluate_fails(run, ev, capsys)
    assert "checkpoint.pt has" in err and "but training wrote" in err and not marker.exists()
    assert (run / "checkpoint.pt.damaged").is_file() and not (run / CHECKPOINT).exists()
    assert "Run snakemake again to retrain this run" in err


def test_a_planted_checkpoint_with_a_forged_record_is_still_refused(trained, tmp_path, capsys):
    run, ev = trained
    marker = tmp_path / "marker"
    plant(run / SNAPSHOTS, marker, steps=[0])
    summary = json.loads((run / TRAIN_SUMMARY).read_text())
    summary["files"][SNAPSHOTS] = safe_io.file_record(run / SNAPSHOTS)
    (run / TRAIN_SUMMARY).write_text(json.dumps(summary))
    err = evaluate_fails(run, ev, capsys)
    assert "snapshots.pt holds objects other than tensors and plain data (loading them could run code)" in err
    assert not marker.exists() and (run / "snapshots.pt.damaged").is_file()


def test_a_checkpoint_changed_in_place_is_named(trained, capsys):
    run, ev = trained
    data = bytearray((run / CHECKPOINT).read_bytes())
    data[-100] ^= 0xFF  # same size, one byte flipped
    (run / CHECKPOINT).write_bytes(bytes(data))
    assert "checkpoint.pt differs from what training wrote (its SHA-256)" in evaluate_fails(run, ev, capsys)


def test_a_truncated_checkpoint_is_named_and_set_aside(trained, capsys):
    run, ev = trained
    size = os.path.getsize(run / CHECKPOINT)
    with open(run / CHECKPOINT, "r+b") as f:
        f.truncate(size // 2)
    err = evaluate_fails(run, ev, capsys)
    assert (
        f"checkpoint.pt has {size // 2} bytes, but training wrote {size}: it is damaged or was replaced; "
        "it was moved to checkpoint.pt.damaged. Run snakemake again to retrain this run"
    ) in err


def test_an_unreadable_summary_is_named(trained, capsys):
    run, ev = trained
    (run / TRAIN_SUMMARY).write_text('{"status": "compl')
    assert "train_summary.json is not valid JSON" in evaluate_fails(run, ev, capsys)


def test_a_full_disk_leaves_no_partial_file_and_says_so(tmp_path, monkeypatch):
    (tmp_path / "x.pt").write_bytes(b"previous")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"No space left on device: '.*x.pt'"):
        safe_io.save({"a": torch.zeros(3)}, tmp_path / "x.pt")
    assert (tmp_path / "x.pt").read_bytes() == b"previous", "the previous file is intact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pt"], "no .tmp left behind"


def test_training_on_a_full_disk_exits_with_one_line(tiny_config, tmp_path, monkeypatch, capsys):
    cfg = run_cfg(tiny_config, steps=40, checkpoint_every=10)

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(safe_io, "write_atomic", full)
    with pytest.raises(SystemExit) as code:
        train_main(["--run-config", json.dumps(cfg), "--out", str(tmp_path / "run")])
    assert code.value.code == 1
    err = capsys.readouterr().err
    assert "error: [Errno 28] No space left on device:" in err and "resume.pt" in err
    assert "training continues from its last resume point" in err


def test_inception_weights_holding_code_are_refused_before_torch_fidelity_loads_them(tmp_path):
    from metrics.extractors import ExtractorError
    from metrics.extractors.inception import Inception, check_tensors_only

    marker = tmp_path / "marker"
    plant(tmp_path / "weights.pth", marker)
    with pytest.raises(ExtractorError, match="holds objects other than tensors"):
        Inception({"name": "inception", "weights_path": str(tmp_path / "weights.pth")})
    assert not marker.exists()
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "state.pth")
    check_tensors_only(str(tmp_path / "state.pth"))  # a state dict passes


def test_a_damaged_evaluation_output_is_named_before_aggregating(trained, tmp_path, capsys):
    from analysis.aggregate import main as aggregate_main

    run, ev = trained
    evaluate_main(["--eval-config", ev, "--run", str(run)])
    (run / "metrics.json").write_text('{"final": ')
    with pytest.raises(SystemExit) as code:
        aggregate_main([str(run), "--out", str(tmp_path / "tables")])
    assert code.value.code == 1
    assert "metrics.json is not valid JSON" in capsys.readouterr().err and (run / "metrics.json.damaged").is_file()
