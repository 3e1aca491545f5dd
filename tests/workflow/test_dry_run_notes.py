"""What the grid will not do is said at the dry run, before any job starts: cells a
variant does not train with a loss, and an extractor set for a dataset not in the grid."""

import copy

import yaml

from tests.conftest import TINY
from tests.workflow.conftest import snakemake


def test_the_dry_run_names_dropped_cells_and_unused_extractors(tmp_path):
    config = copy.deepcopy(TINY)
    config["grid"] = {"datasets": ["8gaussians"], "variants": ["gan", "ebgan"], "losses": ["nonsaturating", "ebgan"]}
    config["grid"]["seeds"] = [0]
    config["evaluation"]["extractors"] = {"mnist": "lenet"}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    said = snakemake(tmp_path, "-n").stderr
    notes = [line for line in said.splitlines() if line.startswith("note: ")]
    assert any(
        "2 grid cells are not run" in n and "gan x ebgan on 8gaussians; ebgan x nonsaturating on 8gaussians" in n
        for n in notes
    ), said[-3000:]
    assert any("evaluation.extractors.mnist" in n and "no image dataset of that name" in n for n in notes), said[-3000:]
