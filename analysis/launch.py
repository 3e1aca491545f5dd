"""What the Snakefile does before it builds the graph, so a bad config reaches the
user as one line naming the problem, before any job starts:

- ``check_yaml``: the default config file parses (a YAML error names the file, line
  and column; Snakemake's own message names neither);
- ``launch``: values given with ``--config`` typed as in a config file, the whole
  config validated (``analysis.config.validate``), the device checked where jobs run
  on this machine, and what the grid will not do said as notes (cells a variant does
  not train, settings no run uses).

Snakemake reads ``--configfile`` files itself, before the Snakefile, and says only
"Config file is not valid JSON or YAML"; check such a file, with the line at fault
and every check of the pipeline, by

    python -m analysis.launch config/full.yaml
"""

from __future__ import annotations

import argparse
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
    """Exit with one line if the config file at ``path`` (when present) is not valid YAML."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        fail(yaml_error(path, exc))


def launch(config: dict, workflow: Any) -> dict:
    """Type, validate and check ``config`` in place for the Snakefile; exit with one
    line on a bad value; print the notes. Returns the config."""
    try:
        type_command_line(config, workflow.config_settings.config)
        validate(config)
        check_devices(config, local=workflow.local_exec)  # whether a CUDA device is here, where jobs run here
    except ConfigError as exc:
        fail(str(exc))
    if not (workflow.remote_exec or workflow.subprocess_exec):  # once, not again in every job
        for line in [*notices(config), *acfg.notices(config)]:
            print(f"note: {line}", file=sys.stderr)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m analysis.launch", description="Check config files as the pipeline does."
    )
    parser.add_argument("configs", nargs="+", help="config YAML files (each checked alone, as with --configfile)")
    args = parser.parse_args(argv)
    for path in args.configs:
        if not Path(path).is_file():
            fail(f"config file not found: {path}")
        check_yaml(path)
        try:
            config = validate(yaml.safe_load(Path(path).read_text()) or {})
        except ConfigError as exc:
            fail(f"{path}: {exc}")
        for line in [*notices(config), *acfg.notices(config)]:
            print(f"note: {line}", file=sys.stderr)
        print(f"{path}: valid", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
