"""The Snakemake command lines the documentation shows work as written."""

import re
import shlex

import pytest

from analysis.reference import COMMAND
from gans.config import ROOT

DOCUMENTS = ["README.md", "config/README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))]
DOCUMENTS += sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("config/*.yaml"))


def commands(text: str) -> list[str]:
    """Every `snakemake ...` command line in a text (in code blocks, backticks or comments)."""
    found = re.findall(r"snakemake [^`\n#]*", text.replace("\\\n", " "))
    return [c.strip() for c in found if "--configfile" in c]


def targets_after_configfile(command: str) -> list[str]:
    """Words after `--configfile FILE` that are not options: Snakemake reads them as more
    config files (its --configfile takes several values), not as targets."""
    words = shlex.split(command.replace("[", " ").replace("]", " "))
    i = words.index("--configfile")
    rest = words[i + 2 :]
    return rest[: next((k for k, w in enumerate(rest) if w.startswith("-")), len(rest))]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_documented_command_puts_a_target_after_configfile(document):
    for command in commands((ROOT / document).read_text()):
        assert targets_after_configfile(command) == [], f"{document}: {command}"


def test_the_reference_readmes_command_puts_configfile_last():
    command = COMMAND.format(configfiles=" --configfile config/reproductions.yaml")
    assert targets_after_configfile(command) == [] and command.endswith("--configfile config/reproductions.yaml")
    assert targets_after_configfile("snakemake --cores all --configfile config/x.yaml reference") == ["reference"]
