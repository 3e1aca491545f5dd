"""Device choice, seeding and small I/O helpers shared by the CLIs."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def select_device(spec: str = "auto") -> torch.device:
    """``auto``: CUDA when present, else CPU. A job launched with its own
    CUDA_VISIBLE_DEVICES sees only its GPU as cuda:0."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"config asks for device '{spec}' but CUDA is not available; use 'auto' or 'cpu'")
    return device


# The GPU slot this process holds (its lock file stays open until the process exits).
_GPU_SLOT: tuple[int, object] | None = None


def visible_gpu_count() -> int:
    """GPUs on this machine, counted without starting CUDA (which would fix the
    visible devices before this process has picked its own)."""
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listing.splitlines())


def claim_gpu(count: int | None = None, lock_dir: str | Path | None = None, poll_s: float = 2.0) -> int | None:
    """Give this process one GPU of its own: lock a free slot and set
    CUDA_VISIBLE_DEVICES to it, so N jobs started by ``snakemake --resources gpu=N``
    share N GPUs without colliding. Call before CUDA is first used.

    Does nothing when CUDA_VISIBLE_DEVICES is already set (SLURM sets it for each
    job) or when there is no GPU. Returns the slot held, or None. The lock is an
    flock, released by the OS when the process ends, however it ends.
    """
    global _GPU_SLOT
    if _GPU_SLOT is not None:
        return _GPU_SLOT[0]
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return None
    count = visible_gpu_count() if count is None else count
    if count <= 0:
        return None
    folder = Path(lock_dir or os.environ.get("GANS_GPU_LOCK_DIR") or Path(tempfile.gettempdir()) / "gans-gpu-slots")
    folder.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        for slot in range(count):
            handle = open(folder / f"gpu{slot}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _GPU_SLOT = (slot, handle)
            os.environ["CUDA_VISIBLE_DEVICES"] = str(slot)
            return slot
        if not waited:  # more jobs than GPUs: --resources gpu=N exceeds the GPUs here
            print(f"all {count} GPU slots in {folder} are taken; waiting for one to free", file=sys.stderr)
            waited = True
        time.sleep(poll_s)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_threads(n: int) -> None:
    torch.set_num_threads(n)
    os.environ.setdefault("OMP_NUM_THREADS", str(n))


def set_matmul_precision(precision: str) -> None:
    """float32 matrix products on TF32 tensor cores when ``precision`` is tf32, in full
    float32 otherwise (torch's default). GPUs from Ampere on; a CPU is not affected.
    Convolutions follow torch's cuDNN default, which already allows TF32."""
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"


def write_json(obj: Any, path: str | Path) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True, default=float) + "\n")


# a JSON value's kind in words, for messages that say what a file or option holds
JSON_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
