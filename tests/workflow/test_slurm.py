"""The grid through a real SLURM: a single-node cluster on this machine
(scripts/local_slurm.sh, with an accounting database), the users' slurm profile, the
tables compared with a local run of the same config, and every job in `sacct`. Skips,
saying why, where no SLURM can be started; where only the accounting database cannot,
the grid still goes through SLURM and only the sacct check skips."""

import os
import re
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest
import yaml

from gans.datasets import DATASETS
from tests.conftest import TINY
from tests.workflow.conftest import ROOT, snakemake_cmd, snakemake_env

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts" / "local_slurm.sh"
# A small grid: two runs, each a train and an evaluate job on the queue.
GRID = {**TINY, "grid": {**TINY["grid"], "seeds": [0]}}
# Settings only this local test cluster needs (the users' profile stays as for a real
# cluster): poll soon, since each dependency level waits one status interval; keep the
# logs of successful jobs to check them. Job states are polled with the plugin's
# default, sacct, as on a real cluster.
LOCAL_CLUSTER = [
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-keep-successful-logs",
    "--latency-wait",
    "5",
]
# Without an accounting database sacct does not work: poll with squeue (the cluster
# keeps finished jobs for MinJobAge) and submit with no account.
NO_ACCOUNTING = ["--slurm-status-command", "squeue", "--slurm-no-account"]
TIMEOUT_S = 240


def cluster_up() -> bool:
    return subprocess.run([str(SCRIPT), "status"], capture_output=True).returncode == 0


def sacct_works() -> bool:
    """The cluster's accounting database answers (sacct fails without one)."""
    try:
        return subprocess.run(["sacct", "-n", "-X", "-o", "JobID"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm():
    """Whether the cluster has accounting, and if not, why."""
    started, said = False, ""
    up = cluster_up()
    if not up or not sacct_works():
        if os.geteuid() != 0:
            if not up:
                pytest.skip("no SLURM answers here, and starting one (scripts/local_slurm.sh) needs root")
        elif not up and not shutil.which("apt-get") and not shutil.which("slurmctld"):
            pytest.skip("no SLURM answers here, and neither slurm-wlm nor apt-get is available to install it")
        else:
            # starts the cluster, or adds accounting to one running without it when no job is queued
            proc = subprocess.run([str(SCRIPT), "start", "--gpus", "2"], capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                pytest.skip(f"could not start a local SLURM: {proc.stderr.strip()}")
            started, said = not up, proc.stderr.strip()
    accounting = sacct_works()
    yield accounting, "" if accounting else f"this SLURM has no accounting database (sacct fails): {said}"
    if started:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=120)


class Snakemake:
    """snakemake in the background (the SLURM run mostly waits on the queue, so the
    local run goes beside it), under a hard timeout."""

    def __init__(self, workdir, *args):
        self.workdir = workdir
        self.args = args
        self.env = snakemake_env()
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            snakemake_cmd(workdir, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )

    def wait(self, deadline):
        try:
            out, _ = self.proc.communicate(timeout=max(1.0, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            out = self.stop()
            pytest.fail(f"snakemake {' '.join(self.args)} ran over {TIMEOUT_S} s:\n{out[-5000:]}")
        assert self.proc.returncode == 0, out[-8000:]
        return out, time.perf_counter() - self.start

    def stop(self):
        """End a run still going (snakemake cancels its SLURM jobs on SIGTERM) and unlock its folder."""
        if self.proc.poll() is not None:
            return ""
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
        subprocess.run(snakemake_cmd(self.workdir, "--unlock"), capture_output=True, env=self.env, timeout=120)
        return out


def job_info(job_id):
    fields = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, timeout=30
    ).stdout.split()
    return dict(f.split("=", 1) for f in fields if "=" in f)


def comparable(table):
    return (
        table.drop(columns=[c for c in table.columns if "wall_time" in c])
        .sort_values(["dataset", "variant", "setting", "loss", "seed"])
        .reset_index(drop=True)
    )


@pytest.fixture(scope="module")
def grid(slurm, tmp_path_factory):
    """The small grid through SLURM with the users' profile, and beside it a local run of
    the same config: (folder, snakemake's output on SLURM, the SLURM logs)."""
    accounting, _ = slurm
    tmp_path = tmp_path_factory.mktemp("grid")
    for name in ("slurm", "local"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text(yaml.safe_dump(GRID))
    deadline = time.perf_counter() + TIMEOUT_S
    on_slurm = Snakemake(
        tmp_path / "slurm",
        "--profile",
        str(ROOT / "workflow/profiles/slurm"),
        *LOCAL_CLUSTER,
        *([] if accounting else NO_ACCOUNTING),
    )
    try:
        _, local_s = Snakemake(tmp_path / "local", "--cores", "1").wait(deadline)
        out, slurm_s = on_slurm.wait(deadline)
    finally:
        on_slurm.stop()
    print(f"\nsmall grid wall time: SLURM {slurm_s:.1f} s, local {local_s:.1f} s")
    return tmp_path, out, sorted((tmp_path / "slurm/.snakemake/slurm_logs").rglob("*.log"))


def test_grid_through_slurm_matches_a_local_run(grid):
    tmp_path, out, logs = grid
    # every train and evaluate job went through sbatch: one SLURM log each, named by its job id
    by_rule = {rule: [p for p in logs if f"rule_{rule}" in p.parts] for rule in ("train", "evaluate")}
    assert len(by_rule["train"]) == 2 and len(by_rule["evaluate"]) == 2, logs
    job_ids = {p.stem for p in logs}
    assert all(re.fullmatch(r"\d+", j) for j in job_ids), job_ids
    submitted = set(re.findall(r"SLURM jobid (\d+)", out)) | set(re.findall(r"external jobid '?(\d+)", out))
    assert job_ids <= submitted, out[-3000:]
    # the cluster saw them, with the resources the profile and the dataset asked for
    jobs = {j: job_info(j) for j in job_ids}
    assert all(info.get("JobState") == "COMPLETED" for info in jobs.values()), jobs
    sizes = DATASETS.get("8gaussians").job_resources
    for rule, gpus in (("train", "gres:gpu:1"), ("evaluate", None)):
        size = sizes[rule]
        expected = (gpus, f"{size['mem_mb']}M", f"{size['runtime'] // 60:02d}:{size['runtime'] % 60:02d}:00")
        for path in by_rule[rule]:
            info = jobs[path.stem]
            assert (info.get("TresPerJob"), info["MinMemoryNode"], info["TimeLimit"]) == expected, info
    # aggregate and figures ran on the submit host
    assert not [p for p in logs if "rule_aggregate" in p.parts or "rule_figures" in p.parts]

    for table in ("runs.csv", "summary.csv", "trajectories.csv"):
        a, b = (pd.read_csv(tmp_path / name / "results/tables" / table) for name in ("slurm", "local"))
        pd.testing.assert_frame_equal(comparable(a) if "seed" in a else a, comparable(b) if "seed" in b else b)
    assert (tmp_path / "slurm/results/figures/8gaussians/points.png").stat().st_size > 10_000


def test_sacct_lists_every_job_of_the_grid_completed(slurm, grid):
    accounting, why = slurm
    if not accounting:
        pytest.skip(why)
    _, _, logs = grid
    job_ids = {p.stem for p in logs}
    assert len(job_ids) == 5, logs  # 2 trainings, 2 evaluations and the dataset's calibration
    # -j: every job ever recorded, not only today's
    proc = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-o", "JobID,JobName,State", "-j", ",".join(sorted(job_ids))],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {job: (name, state) for job, name, state in (line.split("|") for line in proc.stdout.splitlines())}
    assert set(rows) == job_ids, proc.stdout
    assert {state for _, state in rows.values()} == {"COMPLETED"}, rows
    # one workflow run: the plugin names every job by its run id (what its sacct polling filters on)
    assert len({name for name, _ in rows.values()}) == 1, rows
