"""Rule names do not depend on the config (one static rule per step, wildcards for what
varies), and a dry run says how the runs group into populations."""

import re

import pytest

from tests.workflow.conftest import ROOT, STABLE_RULES, snakemake

pytestmark = pytest.mark.slow


def job_counts(stdout: str) -> dict[str, int]:
    """Jobs per rule in a dry run's job stats."""
    stats = stdout.split("Job stats:", 1)[1].split("Reasons:", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


@pytest.mark.parametrize("configfile", ["config.yaml", "search.yaml", "full.yaml", "reproductions.yaml"])
def test_every_config_has_the_same_rules(tmp_path, configfile):
    out = snakemake(tmp_path, "--list-rules", configfile=ROOT / "config" / configfile).stdout
    rules = {m[1] for m in re.finditer(r"^(\w+)", out, re.M)}  # a rule's docstring follows it, indented
    assert rules == STABLE_RULES - ({"reproductions"} if configfile != "reproductions.yaml" else set()), out


@pytest.mark.parametrize(
    "configfile, lines",
    [
        (
            "config.yaml",
            [
                "population 8gaussians/gan/minimax/p0: 20 members (gan x seed 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
                "11, 12, 13, 14, 15, 16, 17, 18, 19), batched",
                # spectral normalisation (hinge's set-up) on an MLP
                "population 25gaussians/gan/hinge/p0: 20 members (gan x seed 0, 1, 2,",
            ],
        ),
        (
            "digits.yaml",
            [
                "population digits/gan/nonsaturating/p0: 1 member (gan x seed 0), one run per member: "
                "architecture 'dcgan'",
            ],
        ),
        (
            "search.yaml",
            [
                # a cell's settings in one population, whatever their critic steps; PacGAN's split by pack
                "population 8gaussians/gan/wgan/s0: 8 members (gan+search-0, gan+search-1, gan+search-2, "
                "gan+search-3, gan+search-4, gan+search-5, gan+search-6, gan+search-7 x seed 0), batched",
                "population 8gaussians/pacgan/nonsaturating/s0: 3 members (pacgan+search-0, pacgan+search-1, "
                "pacgan+search-4 x seed 0), batched",
                "populations 8gaussians/gan/minimax/best0, 8gaussians/gan/nonsaturating/best0,",
            ],
        ),
    ],
)
def test_a_dry_run_lists_only_stable_rules_and_prints_each_population(tmp_path, configfile, lines):
    proc = snakemake(tmp_path, "-n", "--cores", "8", configfile=ROOT / "config" / configfile)
    counts = job_counts(proc.stdout)
    assert counts["train"] > 0 and set(counts) - {"total"} <= STABLE_RULES, counts
    printed = [line for line in proc.stderr.splitlines() if line.startswith("population ")]
    # a search's finalists' and best settings' populations: one line, and known by id, so counted too
    late = [line.split(":")[0].split(", ") for line in proc.stderr.splitlines() if line.startswith("populations ")]
    assert len(printed) + sum(map(len, late)) == counts["train"], proc.stderr[-3000:]
    for line in lines:
        assert line in proc.stderr, proc.stderr[-3000:]
