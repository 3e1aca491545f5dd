"""environment.yml and pyproject.toml pin the same versions."""

import re
import tomllib

import yaml

from gans.config import ROOT


def pins(lines):
    out = {}
    for line in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins(pip_section) == wanted
    assert "-e ." in pip_section
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])
    assert len(wanted) == len(project["dependencies"]) + len(project["optional-dependencies"]["test"]), (
        "every dependency is pinned exactly"
    )


def test_the_reports_renderer_imports_at_its_pinned_version():
    """`snakemake --report` stops with "pygments must be installed" without it."""
    import pygments
    from pygments.formatters import HtmlFormatter  # the import snakemake's HTML reporter makes

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pygments.__version__ == pins(project["dependencies"])["pygments"]
    assert HtmlFormatter(style="stata-dark").get_style_defs(".source")
