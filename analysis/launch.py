"""What the Snakefile does before it builds the graph, so a bad config reaches the
user as one line naming the problem, before any job starts:

- ``check_yaml``: the default config file parses (a YAML error names the file, line
  and column; Snakemake's own message names neither);
- ``launch``: values given with ``--config`` typed as in a config file, the whole
  config validated (``analysis.config.validate``), the device and the jobs' memory
  checked where jobs run on this machine, and what the grid will not do said as notes (cells a variant does
  not train, settings no run uses).

Snakemake reads ``--configfile`` files and ``--config`` values itself, before the
Snakefile: a YAML error says only "Config file is not valid JSON or YAML", a missing
file is a raw FileNotFoundError, a dotted ``--config`` key a raw ValueError. Check
such a file and values, with the file, line and key at fault and every check of the
pipeline, by

    python -m analysis.launch config/full.yaml --config 'train={"steps": 500}'
    make check CONFIG=config/full.yaml
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml

from analysis import config as acfg
from analysis.config import validate
from gans.config import ConfigError
from gans.config.checks import check_devices, notices
from gans.config.overrides import type_command_line


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def yaml_error(path: str | Path, exc: yaml.YAMLError) -> str:
    """A YAML error as one line: the file, line and column, and what is wrong there."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    what = " ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x) or str(exc)
    return f"{where}: {what} (not valid YAML)"


def check_yaml(path: str | Path) -> None:
    """Exit with one line if the config file at ``path`` (when present) is not valid
    YAML, holds nothing, or gives a key twice in one mapping (YAML keeps the last one
    without a word, so one of the two settings would be silently lost)."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        node = yaml.compose(path.read_text())
        yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        fail(yaml_error(path, exc))
    if node is None:
        fail(f"{path} holds no settings; write the keys to change, or {{}} for the defaults")
    twice = repeated_key(node)
    if twice:
        fail(f"{path}, line {twice[2]}: config key '{twice[0]}' is given twice (first on line {twice[1]}); keep one")


def repeated_key(node: yaml.Node, path: str = "") -> tuple[str, int, int] | None:
    """The first key given twice in one mapping of a composed YAML document:
    (dotted key, first line, second line), or None."""
    if isinstance(node, yaml.SequenceNode):
        children = [(f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node.value)]
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        children = []
        for key, child in node.value:
            name = f"{path}.{key.value}" if path else str(key.value)
            if key.value in seen and key.value != "<<":  # '<<' merges, it may repeat
                return name, seen[key.value], key.start_mark.line + 1
            seen[key.value] = key.start_mark.line + 1
            children.append((name, child))
    else:
        return None
    for name, child in children:
        found = repeated_key(child, name)
        if found:
            return found
    return None


def launch(config: dict, workflow: Any) -> dict:
    """Type, validate and check ``config`` in place for the Snakefile; exit with one
    line on a bad value; print the notes. Returns the config."""
    for path in workflow.overwrite_configfiles or []:  # read by Snakemake, which keeps a repeated key's last value
        check_yaml(path)
    try:
        type_command_line(config, workflow.config_settings.config)
        validate(config)
        check_devices(config, local=workflow.local_exec)  # whether a CUDA device is here, where jobs run here
    except ConfigError as exc:
        fail(str(exc))
    too_large = acfg.memory_problems(config) if workflow.local_exec else []
    if too_large:
        fail(too_large[0])
    if not (workflow.remote_exec or workflow.subprocess_exec):  # once, not again in every job
        for line in [*notices(config), *acfg.notices(config)]:
            print(f"note: {line}", file=sys.stderr)
    return config


def key_line(text: str, message: str) -> int | None:
    """The line of the key a config error names (``'a.b.c': ...``) in the YAML
    ``text``: the deepest part of the key path that the file holds."""
    match = re.search(r"'([A-Za-z_][^' ]*)'", message)
    if not match:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in re.split(r"\.|\[(\d+)\]", match.group(1)):
        if not part:
            continue
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if k.value == part), None)
            if hit is None:
                break
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def overridden(overrides: dict, key: str) -> bool:
    """Whether the dotted ``key`` (or a section above it) was given with ``--config``."""
    node: object = overrides
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def command_line_values(entries: list[str]) -> dict:
    """``--config`` entries parsed as Snakemake parses them; a bad one named, with the form to use."""
    from snakemake.cli import parse_config

    for entry in entries:
        key = entry.split("=", 1)[0]
        if "=" not in entry:
            fail(f"--config {entry!r}: give KEY=VALUE, e.g. data_root=/scratch/data")
        if "." in key:
            head, _, rest = key.partition(".")
            nested = "{" + ": {".join(f'"{k}"' for k in rest.split(".")) + ": VALUE" + "}" * rest.count(".") + "}"
            fail(f"--config {entry!r}: Snakemake takes no dotted key; write --config '{head}={nested}'")
    try:
        return parse_config(entries)
    except ValueError as exc:
        fail(f"--config {' '.join(entries)}: {exc}")


def check_file(path: str, overrides: dict) -> None:
    """One config file, with the ``--config`` values over it, checked as the pipeline
    checks it; exits with one line naming the file, line and key at fault."""
    from snakemake.utils import update_config

    if not Path(path).is_file():
        fail(f"config file not found: {path} (from {Path.cwd()})")
    check_yaml(path)
    text = Path(path).read_text()
    config = yaml.safe_load(text) or {}
    try:
        update_config(config, overrides)
        type_command_line(config, overrides)
        config = validate(config)
    except ConfigError as exc:
        match = re.search(r"'([A-Za-z_][^' ]*)'", str(exc))
        if match and overridden(overrides, match.group(1)):
            fail(f"{path} with --config: {exc}")
        line = key_line(text, str(exc))
        fail(f"{path}{f', line {line}' if line else ''}: {exc}")
    for line in [*notices(config), *acfg.notices(config), *device_notes(config), *memory_notes(config)]:
        print(f"note: {line}", file=sys.stderr)
    print(f"{path}: valid", file=sys.stderr)


def device_notes(config: dict) -> list[str]:
    """A device this machine lacks: a note, not an error, since the file may be checked
    on a cluster's login node for jobs that run where the GPU is; run here, the
    pipeline refuses it."""
    try:
        check_devices(config, local=True)
    except ConfigError as exc:
        return [f"{exc} (checked on this machine; jobs on a cluster's GPU nodes may have it)"]
    return []


def memory_notes(config: dict) -> list[str]:
    """Jobs that need more memory than this machine has: notes, as for the device (a
    cluster's nodes may have it); run here, the pipeline refuses them."""
    return [f"{line} (checked on this machine)" for line in acfg.memory_problems(config)]


def main(argv: list[str] | None = None, prog: str = "python -m analysis.launch") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Check config files as the pipeline does.")
    parser.add_argument("configs", nargs="+", help="config YAML files (each checked alone, as with --configfile)")
    parser.add_argument(
        "--config", nargs="+", default=[], metavar="KEY=VALUE", help="values over each file, as snakemake --config"
    )
    args = parser.parse_args(argv)
    overrides = command_line_values(args.config)
    for path in args.configs:
        check_file(path, overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
