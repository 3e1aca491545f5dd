"""The pipeline under bad input and faults: the README's override commands work as
written; a bad value, a YAML error, a corrupted checkpoint or a full disk each ends
in one clear message; after the recovery docs/safety.md gives, the results equal
those of an uninterrupted run."""

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch
import yaml

from gans.layout import CHECKPOINT, EVALUATION, METRICS_FINAL, RESUME, run_dir
from tests.conftest import TINY
from tests.workflow.conftest import ROOT, snakemake

pytestmark = pytest.mark.slow

# README's forms (any other `snakemake ... --config` line of README.md runs too)
OVERRIDES = [
    "snakemake --cores all --config 'train={\"steps\": 500}'",
    "snakemake --cores all --config 'grid={\"seeds\": [0]}'",
]
# a small grid whose resume points are large next to a file system's pages (width 256)
FAULTS = {
    **TINY,
    "grid": {"datasets": ["8gaussians"], "variants": ["gan"], "losses": ["nonsaturating"], "seeds": [0]},
    "models": {"points": {"params": {"width": 256, "depth": 2}}},
    "train": {"steps": 200, "batch_size": 64, "log_every": 25, "eval_every": 100, "checkpoint_every": 50},
}
RUN = run_dir("8gaussians", "gan", "nonsaturating", 0)


def readme_overrides():
    found = re.findall(r"^(snakemake [^\n#]*--config [^\n#]*?)\s*(?:#.*)?$", (ROOT / "README.md").read_text(), re.M)
    return list(dict.fromkeys([*OVERRIDES, *found]))


@pytest.mark.parametrize("command", readme_overrides())
def test_the_readmes_override_commands_work_as_written(tmp_path, command):
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    args = shlex.split(command)[1:]
    proc = snakemake(tmp_path, "-n", *[a for a in args if a not in ("--cores", "all")], configfile=None)
    assert "Job stats" in proc.stdout, proc.stderr[-2000:]


@pytest.mark.parametrize(
    "args, config_text, words",
    [
        (
            ["--config", 'train={"steps": "many"}'],
            None,
            "error: config key 'train.steps': 'many' is a string; the key takes an integer",
        ),
        ([], "train:\n  steps: [1, 2\n", "error: config/config.yaml, line 3, column 1: while parsing a flow sequence"),
    ],
    ids=["type", "yaml"],
)
def test_a_bad_config_is_one_line_before_any_job(tmp_path, args, config_text, words):
    (tmp_path / "config").mkdir()
    text = config_text or (ROOT / "config" / "config.yaml").read_text()
    (tmp_path / "config" / "config.yaml").write_text(text)
    proc = snakemake(tmp_path, "-n", *args, check=False, configfile=None)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith(words), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "File " not in proc.stderr


TARGET = EVALUATION.format(population="8gaussians/gan/nonsaturating/p0")  # the run's population, evaluated


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid run without interruption."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    (workdir / "config.yaml").write_text(yaml.safe_dump(FAULTS))
    snakemake(workdir, TARGET)
    return workdir


def assert_same_results(workdir, reference):
    got, want = (json.loads((w / RUN / METRICS_FINAL).read_text()) for w in (workdir, reference))
    assert got["final"] == want["final"] and got["status"] == want["status"]
    a, b = (torch.load(w / RUN / CHECKPOINT, weights_only=True)["state"] for w in (workdir, reference))
    for net in ("generator", "discriminator"):
        assert all(torch.equal(t, b[net][k]) for k, t in a[net].items()), f"the {net} differs"


def test_a_corrupted_checkpoint_is_named_and_retrained_in_the_same_call(reference, tmp_path):
    workdir = tmp_path / "corrupted"
    shutil.copytree(reference, workdir, symlinks=True)
    with open(workdir / RUN / CHECKPOINT, "r+b") as f:
        f.truncate(1000)
    again = snakemake(workdir, TARGET)  # not stuck, and no second call needed
    said = again.stdout + again.stderr
    assert f"{RUN}/checkpoint.pt cannot be read (has 1000 bytes, but training wrote" in said, said[-4000:]
    assert "rule train:" in said
    assert "it was moved to checkpoint.pt.damaged (and train_summary.json to" in said
    assert_same_results(workdir, reference)


@pytest.fixture
def small_disk():
    """results/ on a tmpfs of its own (root only)."""
    folder = tempfile.mkdtemp(prefix="full-disk-")
    results = os.path.join(folder, "results")
    os.makedirs(results)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", results], capture_output=True)
    if mounted.returncode != 0:
        shutil.rmtree(folder)
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip() or 'not root'})")
    yield folder
    subprocess.run(["umount", results], check=False)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_says_so_and_the_run_resumes_once_space_is_freed(reference, small_disk):
    workdir = Path(small_disk)
    (workdir / "config.yaml").write_text(yaml.safe_dump(FAULTS))
    # room for the first resume point (1.9 MB at step 50) but not for the second beside it
    stat = os.statvfs(workdir / "results")
    filler = workdir / "results" / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 3_000_000))
    failed = snakemake(workdir, TARGET, check=False)
    assert failed.returncode != 0
    assert "No space left on device" in failed.stderr and f"{RUN}/resume.pt" in failed.stderr
    assert not list((workdir / "results").rglob("*.tmp")), "no partial file left behind"
    assert torch.load(workdir / RUN / RESUME, weights_only=True)["step"] == 50, "the last good resume point"

    filler.unlink()  # the documented recovery: free space, run the same command again
    again = snakemake(workdir, TARGET)
    assert "resuming from step 50" in again.stderr
    assert_same_results(workdir, reference)
