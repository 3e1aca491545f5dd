"""The reproductions table and the set-up columns, through the real pipeline."""

import shutil

import pandas as pd
import pytest

from tests.conftest import TINY
from tests.workflow.conftest import run_pipeline, snakemake

pytestmark = pytest.mark.slow

# the wiring only: a tiny cell stands in for the WGAN-GP toy protocol
CONFIG = {
    **TINY,
    "grid": {**TINY["grid"], "losses": ["wgan-gp", "fgan-kl"]},
    "reproductions": {"wgan-gp-toy-25gaussians": {"dataset": "8gaussians", "variant": "gan", "loss": "wgan-gp"}},
    "reference_folder": "results/reference/reproductions",
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return run_pipeline(tmp_path_factory, "reproductions", CONFIG)


def test_reproductions_table_is_built(pipeline):
    table = pd.read_csv(pipeline / "results/tables/reproductions.csv")
    wgan = table[table["reproduction"] == "wgan-gp-toy-25gaussians"].iloc[0]
    assert wgan["seeds"] == 2 and wgan["steps"] == 40 and wgan["published_steps"] == 100_000
    assert wgan["verdict"].startswith(("reproduced", "not reproduced"))
    assert table[table["paper"] == "VEEGAN"]["verdict"].str.startswith("not run").all()
    assert "Reverse KL" in (pipeline / "results/tables/reproductions.md").read_text()


def test_tables_show_the_setup_of_each_cell(pipeline):
    summary = pd.read_csv(pipeline / "results/tables/summary.csv").set_index("loss")
    assert summary.loc["fgan-kl", "deviations"] == "r1+ttur"
    assert summary.loc["wgan-gp", "deviations"] == "paper"
    assert (summary["latent_dim"] == 2).all() and (summary["noise_dim"] == 2).all()
    runs = pd.read_csv(pipeline / "results/tables/runs.csv")
    assert {"deviations", "noise_dim", "latent_dim", "hp.setup.source"} <= set(runs.columns)


def test_the_reference_copy_goes_to_its_own_folder_with_the_table(pipeline):
    snakemake(pipeline, "reference")
    out = pipeline / "results/reference/reproductions"
    assert "Reverse KL" in (out / "tables/reproductions.md").read_text()
    assert (out / "tables/summary.md").is_file() and (out / "figures/8gaussians/points.png").is_file()
    readme = (out / "README.md").read_text()
    assert "snakemake --cores all reference --forcerun aggregate --configfile config.yaml" in readme
    assert "python -m analysis.compare results/reference/reproductions/tables results/tables" in readme
    assert not (pipeline / "results/reference/README.md").exists()  # the default grid's copy is untouched


def test_the_reference_of_the_default_config_names_no_configfile(pipeline):
    (pipeline / "config").mkdir(exist_ok=True)
    shutil.copy(pipeline / "config.yaml", pipeline / "config/config.yaml")  # the same config, as the default
    snakemake(pipeline, "reference", "--forcerun", "reference", configfile=None)
    out = pipeline / "results/reference/reproductions"
    readme = (out / "README.md").read_text()
    assert "run of the default config" in readme and "snakemake --cores all reference --forcerun aggregate" in readme
    assert (out / "tables/summary.md").read_text() == (pipeline / "results/tables/summary.md").read_text()
