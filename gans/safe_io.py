"""Reading and writing a run folder's files safely.

- Nothing loaded from a results folder can run code: every ``.pt`` file is read with
  ``torch.load(weights_only=True)`` (tensors and plain data only); anything else is
  refused without being run, as a damaged file.
- A file is written whole or not at all: written to ``<name>.tmp`` from bytes already
  in memory, then renamed; the ``.tmp`` is removed if writing fails (a full disk), and
  the error says "No space left on device" with the path (``torch.save`` straight to a
  full disk raises an unrelated "unexpected pos" error).
- Each training output gets a size and SHA-256 record (in train_summary.json), which
  evaluation verifies before it loads anything.
- Random-number generator states are stored as tensors and plain numbers, so a resume
  point loads with ``weights_only=True`` and continues bit for bit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

DAMAGED_SUFFIX = ".damaged"


class DamagedFile(ValueError):
    """A run file that cannot be used: truncated, altered, or holding objects that
    could run code when loaded."""

    def __init__(self, path: str | Path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path} {problem}")


def load_tensors(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load`` of tensors and plain data only; DamagedFile otherwise."""
    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" in str(exc) or "Unsupported" in str(exc):
            raise DamagedFile(
                path,
                "holds objects other than tensors and plain data (loading them could run code); it was not loaded",
            ) from None
        raise DamagedFile(path, f"cannot be read ({_first_line(exc)})") from None
    except FileNotFoundError:
        raise
    except Exception as exc:  # a truncated or overwritten file: zip errors, EOF, bad headers
        raise DamagedFile(path, f"cannot be read ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def write_atomic(path: str | Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` whole or not at all (no ``.tmp`` left behind)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save(obj: Any, path: str | Path) -> None:
    """``torch.save`` through memory, written atomically (see ``write_atomic``)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getbuffer())


def file_record(path: str | Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": os.path.getsize(path), "sha256": digest.hexdigest()}


def file_records(folder: str | Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of each named file of ``folder``."""
    return {name: file_record(Path(folder) / name) for name in names}


def verify_records(folder: str | Path, records: dict[str, dict[str, Any]]) -> dict[str, str]:
    """name -> what is wrong, for each recorded file of ``folder`` that is missing or
    differs from its record (empty when all match)."""
    problems = {}
    for name, record in records.items():
        path = Path(folder) / name
        if not path.is_file():
            problems[name] = "is missing"
            continue
        size = os.path.getsize(path)
        if size != record["bytes"]:
            problems[name] = f"has {size} bytes, but training wrote {record['bytes']}: it is damaged or was replaced"
        elif file_record(path)["sha256"] != record["sha256"]:
            problems[name] = "differs from what training wrote (its SHA-256): it is damaged or was replaced"
    return problems


def set_aside(path: str | Path) -> Path:
    """Rename a damaged file to ``<name>.damaged`` (kept for inspection, out of the
    way of a retraining run); the new path."""
    path = Path(path)
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    os.replace(path, target)
    return target


# numpy's global RNG state is a tuple holding an ndarray, which weights_only refuses:
# stored as a tensor of its 624 words and plain numbers instead.
def numpy_rng_state() -> dict[str, Any]:
    kind, key, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "kind": kind,
        "key": torch.from_numpy(key.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def set_numpy_rng_state(state: dict[str, Any]) -> None:
    key = state["key"].numpy().astype(np.uint32)
    np.random.set_state((state["kind"], key, state["pos"], state["has_gauss"], state["cached_gaussian"]))


def as_python_rng_state(loaded: tuple | list) -> tuple:
    """Python's ``random.getstate()`` as ``random.setstate`` takes it back from a file."""
    version, internal, gauss = loaded
    return version, tuple(internal), gauss


# what a run's train_summary.json must hold: the keys evaluation, the population's marker
# and the aggregation read from it, with their types
SUMMARY_KEYS = {
    "status": str,
    "reason": (str, type(None)),
    "steps_completed": int,
    "steps_planned": int,
    "wall_time_s": (int, float),
    "device": str,
}
# what metrics.json must hold for the aggregation (analysis.aggregate.run_row, read_runs)
RESULT_KEYS = {
    "status": str,
    "reason": (str, type(None)),
    "final": dict,
    "train": dict,
    "evaluation": dict,
    "sampling": (dict, type(None)),
}


def set_aside_unreadable(paths: list[str | Path], read: Callable[[Path], Any], then: str) -> list[str]:
    """Set aside each file among ``paths`` that ``read`` refuses (DamagedFile), and the
    file it names when that is another (a run's output its summary's record does not
    match), so that what reads it next remakes it instead of failing on it at every
    call; a line per file saying so, ending with ``then`` (what happens next)."""
    notes = []
    for path in map(Path, paths):
        if not path.is_file():
            continue
        try:
            read(path)
        except DamagedFile as exc:
            first, *also = [set_aside(p).name for p in dict.fromkeys((exc.path, path)) if p.is_file()]
            moved = f"it was moved to {first}" + "".join(f" (and {path.name} to {name})" for name in also)
            notes.append(f"{exc.path} cannot be read ({exc.problem}); {moved}, {then}")
    return notes


def read_record(path: str | Path, keys: dict[str, Any]) -> dict[str, Any]:
    """A JSON object from a run folder holding ``keys`` (name -> type); DamagedFile when
    it cannot be parsed or lacks one of them (a file cut short, or edited)."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedFile(path, f"is not valid JSON ({_first_line(exc)})") from None
    _check_keys(path, record, keys)
    return record


def _check_keys(path: Path, record: Any, keys: dict[str, Any], prefix: str = "") -> None:
    if not isinstance(record, dict):
        raise DamagedFile(path, f"is not a JSON object{f' at {prefix[:-1]}' if prefix else ''}")
    wrong = [prefix + k for k, kind in keys.items() if k not in record or not isinstance(record[k], kind)]
    if wrong:
        raise DamagedFile(
            path, f"lacks what its writer always records ({', '.join(wrong)}: missing or of another type)"
        )


def read_summary(run: str | Path) -> dict[str, Any]:
    """A run's train_summary.json, checked (``SUMMARY_KEYS``, its file records); DamagedFile otherwise."""
    from gans import layout

    path = Path(run) / layout.TRAIN_SUMMARY
    summary = read_record(path, SUMMARY_KEYS)
    records = summary.get("files", {})
    if not isinstance(records, dict) or not all(
        isinstance(r, dict) and isinstance(r.get("bytes"), int) and isinstance(r.get("sha256"), str)
        for r in records.values()
    ):
        raise DamagedFile(path, "lacks what its writer always records: files is not a size and SHA-256 per file")
    return summary


def check_training_outputs(run: str | Path, names: tuple[str, ...] | None = None) -> None:
    """Raise DamagedFile for a training output of ``run`` (or of ``names`` among them)
    that differs from the size and checksum train_summary.json records, or for a summary
    that cannot be read (runs without a record are not checked here; ``load_tensors``
    still refuses what it cannot read)."""
    run = Path(run)
    summary = read_summary(run)
    records = {k: v for k, v in summary.get("files", {}).items() if names is None or k in names}
    for name, problem in verify_records(run, records).items():
        raise DamagedFile(run / name, problem)


def retrain_message(exc: DamagedFile) -> str:
    """Set the damaged file aside, so the next ``snakemake`` call remakes it (a run's
    training output: the run is retrained), and say so."""
    from gans import layout

    moved = set_aside(exc.path) if exc.path.is_file() else None
    where = f"; it was moved to {moved.name}" if moved else ""
    if exc.path.name in layout.TRAIN_FILES:
        todo = f"retrain this run (by hand: python -m gans.train ... --out {exc.path.parent})"
    else:
        todo = "remake it"
    return f"{exc}{where}. Run snakemake again to {todo}."


def check_evaluation_outputs(run: str | Path) -> None:
    """Raise DamagedFile for a file of ``run`` the aggregation or the figures read that
    cannot be read whole: metrics.json with what the aggregation reads, metrics.csv
    whole up to the final evaluation point, samples.npz's index, and the training log
    and resolved config against their records (the large .pt files are not read here)."""
    from gans import layout

    run = Path(run)
    check_training_outputs(run, names=(layout.TRAIN_LOG, layout.RESOLVED_CONFIG))
    result = read_record(run / layout.METRICS_FINAL, RESULT_KEYS)
    _check_keys(run / layout.METRICS_FINAL, result["train"], SUMMARY_KEYS, prefix="train.")
    if any(isinstance(v, (dict, list)) for v in result["final"].values()):
        raise DamagedFile(
            run / layout.METRICS_FINAL, "lacks what its writer always records (final: not one value per metric)"
        )
    last_good = result.get("last_good")
    check_metrics_table(run / layout.METRICS_TABLE, last_good.get("step") if isinstance(last_good, dict) else None)
    if (run / layout.SAMPLES).is_file():  # a missing one: the workflow evaluates the run again
        check_samples(run / layout.SAMPLES)


def check_metrics_table(path: str | Path, last_step: int | None = None) -> None:
    """DamagedFile unless ``path`` is a whole metrics table as evaluation writes it: a
    header with ``step``, one complete row per evaluation point (every field written,
    empty where a metric is missing), a final newline, and, when known, ``last_step``
    (metrics.json's last evaluation point) as its last row's step. A table cut short
    fails one of these, wherever it was cut."""
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise DamagedFile(path, f"is not a readable table ({_first_line(exc)})") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise DamagedFile(path, f"is not a readable table ({_first_line(exc)})") from None
    if not rows or "step" not in rows[0]:
        raise DamagedFile(path, "lacks its header (with a step column): it is empty or damaged")
    header = rows[0]
    if len(rows) < 2:
        raise DamagedFile(path, "holds no evaluation point, only its header: it was cut short")
    if not text.endswith("\n"):  # evaluation ends every row with one
        raise DamagedFile(path, "ends inside a row: it was cut short")
    short = next((row for row in rows[1:] if len(row) != len(header)), None)
    if short is not None:
        raise DamagedFile(path, f"has a row of {len(short)} fields, its header {len(header)}: it was cut short")
    steps = [row[header.index("step")] for row in rows[1:]]
    if not all(step.isdigit() for step in steps):
        raise DamagedFile(path, "has a row without its evaluation step: it is damaged")
    if last_step is not None and int(steps[-1]) != last_step:
        raise DamagedFile(
            path,
            f"ends at step {steps[-1]}, but evaluation measured up to step {last_step} (metrics.json): it was cut short",
        )


def check_samples(path: str | Path) -> None:
    """DamagedFile unless ``path`` opens as the figures read it (an .npz whose index and
    ``steps`` can be read; a file cut short loses its index, which sits at the end)."""
    path = Path(path)
    try:
        with np.load(path) as data:
            data["steps"]
    except FileNotFoundError:
        raise
    except Exception as exc:  # zip, zlib and format errors of a cut or overwritten file
        raise DamagedFile(path, f"cannot be read ({_first_line(exc)})") from None
