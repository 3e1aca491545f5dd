"""The Snakemake command line of every workflow test, built once: the repository's
Snakefile run in a folder of the test's, with this interpreter's environment, so
the jobs' `python -m ...` import this checkout."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# one static rule per step, whatever the config: what varies is a wildcard
STABLE_RULES = {
    "all",
    "analysis",
    "reference",
    "prepare_data",
    "train_lenet",
    "real_features",
    "train",
    "evaluate",
    "calibrate",
    "aggregate",
    "figures",
    "cell_figures",
    "search_select",
    "search_final",
    "search_tables",
    "search_figures",
    "reproductions",
    "dirac",
}


def snakemake_env(**extra: str) -> dict[str, str]:
    """The jobs run `python`: this interpreter's, as in an activated environment."""
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "PATH": path, **extra}


def snakemake_cmd(workdir: Path, *args: str, configfile: str | Path | None = "config.yaml") -> list[str]:
    """`snakemake` on the repository's Snakefile in ``workdir``, with ``configfile``
    (relative to ``workdir``; None: the Snakefile's default)."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    if configfile is not None:  # last: --configfile takes several values and would read a target as one
        cmd += ["--configfile", str(Path(workdir) / configfile)]
    return cmd


def snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    configfile: str | Path | None = "config.yaml",
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run it to the end (``--cores 2`` unless ``args`` name cores or a dry run)."""
    if not any(a in args for a in ("--cores", "-c", "-n", "--dry-run", "--lint", "--unlock")):
        args = ("--cores", "2", *args)
    proc = subprocess.run(
        snakemake_cmd(workdir, *args, configfile=configfile),
        capture_output=True,
        text=True,
        env=snakemake_env(),
        cwd=ROOT,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-8000:]}")
    return proc


def run_pipeline(tmp_path_factory, name: str, config: dict) -> Path:
    """The whole pipeline on ``config`` in a fresh folder; the folder."""
    workdir = tmp_path_factory.mktemp(name)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(workdir)
    return workdir


def rule_counts(workdir: Path, *args: str, **kwargs) -> dict[str, int]:
    """Jobs per rule that a dry run would execute."""
    # targets first: --quiet takes several values and would read a target as one
    dry = snakemake(workdir, *args, "-n", "--quiet", "rules", **kwargs).stdout
    return {
        line.split()[0]: int(line.split()[1])
        for line in dry.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
