"""One population's training job, as the workflow runs it:

    python -m gans.population_job --population 8gaussians/gan/hinge/p0 \\
        --run-config '[<resolved run config>, ...]' --out <run folder> ... --marker <path>

trains the runs with ``gans.train`` (one batched model where the set-up allows, else one
after another; a killed job started again resumes) and then writes the population's
marker (``gans.layout.POPULATION``): its id and each member's run folder and status.
The marker is the training rule's output; the members' files stay in their run folders.

A marker is stale when a member's training files are gone (a deleted run folder): the
workflow removes stale markers when it starts (``stale_markers``), so the population
trains again and its members are evaluated again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gans import layout, safe_io
from gans.runtime import read_json


def marker(population: str, cfgs: list[dict[str, Any]], folders: list[str]) -> dict[str, Any]:
    """What the marker records: the population's id and, per member, its run and folder."""
    members = []
    for cfg, folder in zip(cfgs, folders, strict=True):
        summary = read_json(Path(folder) / layout.TRAIN_SUMMARY)
        members.append(
            {
                "dataset": cfg["dataset"]["name"],
                "variant": cfg["variant"].get("label", cfg["variant"]["name"]),
                "loss": cfg["loss"]["name"],
                "seed": cfg["seed"],
                "run": str(folder),
                "status": summary["status"],
            }
        )
    return {"population": population, "members": members}


def write_marker(path: str | Path, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    safe_io.write_atomic(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def missing_files(path: str | Path) -> list[str]:
    """The training files of the marker's members that are gone (none for a marker that
    cannot be read: the workflow then trains the population again as well)."""
    try:
        runs = [m["run"] for m in read_json(path)["members"]]
    except (OSError, ValueError, KeyError, TypeError):
        return [str(path)]
    return [f"{run}/{name}" for run in runs for name in layout.TRAIN_FILES if not Path(run, name).is_file()]


def stale_markers(paths: list[str]) -> dict[str, list[str]]:
    """Of the markers at ``paths`` that exist, those whose members lack files: path -> missing files."""
    out = {}
    for path in paths:
        if Path(path).is_file():
            missing = missing_files(path)
            if missing:
                out[path] = missing
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.population_job", description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", required=True, help="the population's id")
    parser.add_argument("--run-config", required=True, help="the members' resolved run configs, a JSON list")
    parser.add_argument("--out", required=True, nargs="+", help="each member's run folder, in order")
    parser.add_argument("--marker", required=True, help="where to write the population's marker once trained")
    args = parser.parse_args(argv)
    from gans import train  # torch and the components: after the arguments are read

    status = train.main(["--run-config", args.run_config, "--out", *args.out])
    if status == 0:
        cfgs = json.loads(args.run_config)
        write_marker(args.marker, marker(args.population, cfgs if isinstance(cfgs, list) else [cfgs], args.out))
    return status


if __name__ == "__main__":
    sys.exit(main())
