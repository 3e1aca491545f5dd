"""The GPU-slot claimer that lets N jobs share N GPUs on one machine."""

import os
import subprocess
import sys

from gans.runtime import claim_gpu
from tests.conftest import ROOT

CLAIM = "import sys; from gans.runtime import claim_gpu; print(claim_gpu(count=2, lock_dir=sys.argv[1], poll_s=0.1), flush=True); sys.stdin.read()"


def start_claimer(lock_dir, env=None):
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, str(lock_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**(env or os.environ), "PYTHONPATH": str(ROOT)},
    )


def test_concurrent_jobs_get_different_gpus_and_a_waiting_job_takes_a_freed_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    first, second = start_claimer(tmp_path, env), None
    try:
        assert first.stdout.readline().strip() == "0"
        second = start_claimer(tmp_path, env)
        assert second.stdout.readline().strip() == "1"
        third = start_claimer(tmp_path, env)  # more jobs than GPUs: it waits
        first.kill()  # a job that dies still frees its GPU (the OS drops the flock)
        first.wait()
        assert third.stdout.readline().strip() == "0"
        third.communicate("")
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_job_given_its_gpu_by_the_scheduler_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert claim_gpu(count=4, lock_dir=tmp_path) is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3" and not list(tmp_path.iterdir())


def test_no_gpu_no_claim(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert claim_gpu(count=0, lock_dir=tmp_path) is None
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
