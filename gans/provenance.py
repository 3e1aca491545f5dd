"""What a result was produced with: the code version (git commit and whether the
checkout had uncommitted changes, else the installed package's version), the
processor (CPU model, GPU model), torch, CUDA and cuDNN versions, and torch's CPU
thread count. Training writes it into train_summary.json, evaluation into
metrics.json, the aggregation into the tables (runs.csv columns, provenance.json).

Per-seed numbers depend on all of these (GAN training amplifies float rounding),
so they are recorded beside every result rather than assumed."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "gan-benchmark"


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, Any]:
    """{"commit": hash or None, "dirty": bool or None, "version": package version or None}."""
    commit = _git("rev-parse", "HEAD")
    # tracked files only: results and caches in an ignored or untracked folder do not make the code dirty
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"commit": commit, "dirty": None if status is None else bool(status), "version": version}


def code_label(code: dict[str, Any]) -> str:
    """A short name of a code version: abc1234, abc1234+dirty, or the package version."""
    if code.get("commit"):
        return code["commit"][:10] + ("+dirty" if code.get("dirty") else "")
    return f"{PACKAGE} {code.get('version') or 'unknown version'}"


@functools.lru_cache(maxsize=1)
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name(device: torch.device | str | None = None) -> str | None:
    """The model of ``device`` when it is a GPU (None for a CPU or without CUDA)."""
    device = torch.device(device) if device is not None else None
    if device is None or device.type != "cuda" or not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(device)


def provenance(device: torch.device | str | None = None) -> dict[str, Any]:
    """Everything above, for a result computed on ``device`` in this process."""
    gpu = gpu_name(device)
    return {
        "code": code_version(),
        "cpu": cpu_name(),
        "gpu": gpu,
        "torch": torch.__version__,
        # the CUDA and cuDNN that computed the result: none on a CPU, whatever torch was built with
        "cuda": torch.version.cuda if gpu else None,
        "cudnn": torch.backends.cudnn.version() if gpu and torch.backends.cudnn.is_available() else None,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def columns(prov: dict[str, Any] | None) -> dict[str, Any]:
    """A provenance record as flat table columns (empty for runs written without one)."""
    if not prov:
        return {}
    return {
        "code_version": code_label(prov["code"]),
        "processor": prov["gpu"] or prov["cpu"],
        "torch": prov["torch"],
        "cuda": prov["cuda"],
        "threads": prov["threads"],
    }
