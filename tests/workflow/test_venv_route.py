"""README's venv route: `.venv/bin/snakemake` without activating the environment. The
rules run the interpreter that runs Snakemake, not whatever `python` is on PATH."""

import os
import subprocess
import sys

import pytest
import yaml

from tests.conftest import TINY
from tests.workflow.conftest import snakemake_cmd, snakemake_env

pytestmark = pytest.mark.slow


def test_jobs_run_the_interpreter_that_runs_snakemake_with_no_environment_on_path(tmp_path):
    config = {**TINY, "grid": {**TINY["grid"], "losses": ["nonsaturating"], "seeds": [0]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    bin_dir = os.path.dirname(sys.executable)
    # a `python` on PATH that is not this environment's: the jobs must not call it
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text("#!/bin/sh\necho 'not the environment that runs snakemake' >&2\nexit 3\n")
    (fake / "python").chmod(0o755)
    path = [str(fake), *(p for p in os.environ["PATH"].split(os.pathsep) if p and p != bin_dir)]
    target = "results/evaluations/8gaussians/gan/nonsaturating/p0.json"  # the run's population, evaluated
    proc = subprocess.run(
        snakemake_cmd(tmp_path, "--cores", "1", target),
        env=snakemake_env(PATH=os.pathsep.join(path)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / target).is_file()
    assert (tmp_path / "results/runs/8gaussians/gan/nonsaturating/seed0/metrics.json").is_file()
