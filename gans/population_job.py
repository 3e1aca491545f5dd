"""One population's training job, as the workflow runs it:

    python -m gans.population_job --population 8gaussians/gan/hinge/p0 \\
        --run-config '[<resolved run config>, ...]' --out <run folder> ... --marker <path>

trains the runs with ``gans.train`` (one batched model where the set-up allows, else one
after another; a killed job started again resumes) and then writes the population's
marker (``gans.layout.POPULATION``): its id and each member's run folder and status.
The marker is the training rule's output; the members' files stay in their run folders.

A member whose folder already holds a finished run of its resolved config is kept, not
trained again: a population that grows (a larger search budget, more seeds) trains its
new members only, and a deleted run is trained with the other missing members (each
member's numbers do not depend on the population it trains in, up to float rounding).

A marker is stale when a member's training files are gone (a deleted run folder), were
changed after it, or differ in size from the summary's record (a file cut short; a job that
runs checks the checksums too, and trains such a member again): the workflow removes stale markers, with the population's evaluation
marker (``gans.layout.EVALUATION``) and the evaluation files of their stale members, when
it starts (``clear_stale``), so the population's job runs again and its members are
evaluated again. An evaluation marker whose members' evaluation files are not all there
is stale too: it is removed, so the population is evaluated again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from gans import layout, safe_io
from gans.runtime import read_json


def finished(cfg: dict[str, Any], folder: str | Path) -> bool:
    """Whether ``folder`` holds a finished run of exactly ``cfg`` (every training file,
    and the resolved config it was trained with equal to ``cfg``)."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in layout.TRAIN_FILES):
        return False
    try:
        return yaml.safe_load((folder / layout.RESOLVED_CONFIG).read_text()) == json.loads(json.dumps(cfg))
    except (OSError, yaml.YAMLError):
        return False


def config_digest(cfg: dict[str, Any]) -> str:
    """A fingerprint of a resolved run config (the marker's ``config`` of a member)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]


def marker(population: str, cfgs: list[dict[str, Any]], folders: list[str]) -> dict[str, Any]:
    """What the marker records: the population's id and, per member, its run, folder and
    the fingerprint of the config it was trained with."""
    members = []
    for cfg, folder in zip(cfgs, folders, strict=True):
        summary = safe_io.read_record(Path(folder) / layout.TRAIN_SUMMARY, {"status": str})
        members.append(
            {
                "dataset": cfg["dataset"]["name"],
                "variant": cfg["variant"].get("label", cfg["variant"]["name"]),
                "loss": cfg["loss"]["name"],
                "seed": cfg["seed"],
                "run": str(folder),
                "status": summary["status"],
                "config": config_digest(cfg),
            }
        )
    return {"population": population, "members": members}


def write_marker(path: str | Path, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    safe_io.write_atomic(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def member_runs(path: str | Path) -> list[str] | None:
    """The run folders a marker lists; None when it cannot be read (cut short, edited)."""
    try:
        runs = [m["run"] for m in read_json(path)["members"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return runs if all(isinstance(run, str) for run in runs) else None


def stale(path: str | Path) -> dict[str, list[str]]:
    """Why the marker at ``path`` no longer stands for its members' training, by member
    run folder: each training file that is gone or was changed after the marker was
    written (a damaged file, moved aside by the evaluation, is gone on the next call).
    A marker that cannot be read: by its own path."""
    runs = member_runs(path)
    if runs is None:
        return {str(path): [f"{path} cannot be read"]}
    written = Path(path).stat().st_mtime_ns
    out: dict[str, list[str]] = {}
    for run in runs:
        sizes = recorded_sizes(run)
        for name in layout.TRAIN_FILES:
            file = Path(run, name)
            if not file.is_file():
                out.setdefault(run, []).append(f"{file} is gone")
            elif file.stat().st_mtime_ns > written:
                out.setdefault(run, []).append(f"{file} changed after training")
            elif name in sizes and file.stat().st_size != sizes[name]:
                out.setdefault(run, []).append(f"{file} has another size than training wrote: it is damaged")
    return out


def recorded_sizes(run: str | Path) -> dict[str, int]:
    """Each training file's size as the run's summary records it (none when the summary
    cannot be read: then the population's job sets it aside)."""
    try:
        return {name: record["bytes"] for name, record in safe_io.read_summary(run)["files"].items()}
    except (OSError, safe_io.DamagedFile):
        return {}


def replaced_runs(cfgs: dict[str, dict[str, Any]], root: str | Path = ".") -> dict[str, str]:
    """The run folders of ``cfgs`` (folder -> the resolved config this config gives it)
    that, by the training markers under ``root``, hold a run trained with another config
    (another config file run in the same folder, or an edited key): folder -> why, for the
    first one the difference in its config.resolved.yaml. Training them replaces them."""
    markers = Path(root, layout.POPULATION.split("{")[0]).rglob("*.json")
    trained: dict[str, str] = {}
    for path in sorted(markers, key=lambda p: p.stat().st_mtime_ns):  # the latest marker of a run wins
        try:
            trained.update({m["run"]: m["config"] for m in read_json(path)["members"] if "config" in m})
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: clear_stale names it
    if not trained:
        return {}
    from gans.config.run import first_difference

    out = {f: "" for f, cfg in cfgs.items() if trained.get(f, config_digest(cfg)) != config_digest(cfg)}
    for folder in list(out)[:1]:
        try:
            there = yaml.safe_load(Path(root, folder, layout.RESOLVED_CONFIG).read_text())
            out[folder] = first_difference(cfgs[folder], there, ("this config", "the run there"))
        except (OSError, yaml.YAMLError):
            pass
    return out


def replaced_note(cfgs: dict[str, dict[str, Any]], root: str | Path = ".") -> str | None:
    """The line that tells a user, before any work, how many run folders of ``cfgs``
    (``replaced_runs``) training would replace, and how to keep them (None: none)."""
    replaced = replaced_runs(cfgs, root)
    if not replaced:
        return None
    folder, why = next(iter(replaced.items()))
    example = f"{folder}, {why}" if why else folder
    return (
        f"{len(replaced)} run folders of this config hold runs trained with other settings (e.g. {example});"
        " training replaces them. To keep both, run each config in a folder of its own: --directory FOLDER"
        " (docs/configuration.md)"
    )


def stale_evaluation(path: str | Path) -> dict[str, list[str]]:
    """Why the evaluation marker at ``path`` (``layout.EVALUATION``) no longer stands for
    its members' evaluations, by member run folder: each evaluation file that is gone
    (deleted, or a damaged one set aside by the aggregation)."""
    runs = member_runs(path)
    if runs is None:
        return {str(path): [f"{path} cannot be read"]}
    out: dict[str, list[str]] = {}
    for run in runs:
        for name in layout.EVAL_FILES:
            if not Path(run, name).is_file():
                out.setdefault(run, []).append(f"{Path(run, name)} is gone")
    return out


def clear_stale(populations: list[str], root: str | Path = ".") -> list[str]:
    """For each population (by id, its markers under ``root``): a stale training marker
    is removed with its evaluation marker and its stale members' evaluation files, so
    that the workflow trains the population and evaluates it again; a stale evaluation
    marker alone is removed, so that the population is evaluated again. One line per
    population, saying why."""
    notes = []
    for population in populations:
        trained, evaluated = (
            Path(root, p.format(population=population)) for p in (layout.POPULATION, layout.EVALUATION)
        )
        members = stale(trained) if trained.is_file() else {}
        if members:
            for run in set(members) - {str(trained)}:  # an unreadable marker names no member
                for name in layout.EVAL_FILES:
                    Path(run, name).unlink(missing_ok=True)
            trained.unlink()
            evaluated.unlink(missing_ok=True)
            notes.append(f"{trained}: {next(iter(members.values()))[0]}; the population's job runs again")
            continue
        gone = stale_evaluation(evaluated) if evaluated.is_file() else {}
        if gone:
            evaluated.unlink()
            notes.append(f"{evaluated}: {next(iter(gone.values()))[0]}; the population is evaluated again")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gans.population_job", description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", required=True, help="the population's id")
    parser.add_argument("--run-config", required=True, help="the members' resolved run configs, a JSON list")
    parser.add_argument("--out", required=True, nargs="+", help="each member's run folder, in order")
    parser.add_argument("--marker", required=True, help="where to write the population's marker once trained")
    args = parser.parse_args(argv)
    if layout.PENDING in (args.run_config, *args.out):
        parser.error(f"the population's setting is not known: {layout.PENDING_HELP}")
    from gans import train  # torch and the components: after the arguments are read

    try:
        cfgs = json.loads(args.run_config)
    except ValueError as exc:
        parser.error(f"--run-config is not valid JSON: {exc}")
    cfgs = cfgs if isinstance(cfgs, list) else [cfgs]
    if len(cfgs) != len(args.out):
        parser.error(f"give one --out folder per run config: {len(cfgs)} runs, {len(args.out)} folders")
    # a damaged summary, or an output that differs from its record: the run trains again
    summaries = [Path(out, layout.TRAIN_SUMMARY) for out in args.out]
    for line in safe_io.set_aside_unreadable(
        summaries, lambda p: safe_io.check_training_outputs(p.parent), "and the run is trained again"
    ):
        print(f"note: {line}", file=sys.stderr)
    todo = [i for i, (cfg, out) in enumerate(zip(cfgs, args.out, strict=True)) if not finished(cfg, out)]
    if len(todo) < len(cfgs):
        kept = ", ".join(args.out[i] for i in range(len(cfgs)) if i not in todo)
        print(f"kept (a finished run of the same config): {kept}", file=sys.stderr)
    status = 0
    if todo:
        runs = json.dumps([cfgs[i] for i in todo])
        status = train.main(["--run-config", runs, "--out", *(args.out[i] for i in todo)])
    if status != 0:
        return status
    try:
        write_marker(args.marker, marker(args.population, cfgs, args.out))
    except safe_io.DamagedFile as exc:  # damaged since training: set aside, so the next call trains it again
        print(f"error: {safe_io.retrain_message(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
