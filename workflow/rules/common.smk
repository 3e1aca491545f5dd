# The grid and the paths, built once from the validated config. Every name shared
# with the packages (run layout, files, tables, figures) is imported from them.
import json
import os
import re
import shlex
import sys

from snakemake.settings.types import DeploymentMethod

from gans import config as gcfg
from gans.config import populations as gpop
from gans.config import search as gsearch
from gans.datasets import DATASETS
from gans.layout import EVALUATION, PENDING, POPULATION, RUN
from gans.population_job import clear_stale, replaced_note
from analysis.aggregate import table_files
from metrics.calibration_files import CALIBRATION, POINTS, calibration_path
from metrics.config import resolve_eval
from metrics.extractors import EXTRACTORS, LENET_WEIGHTS, REAL_FEATURES
from analysis.figures import FIGURES as FIGURE_SUBCATEGORIES

# Every rule's command runs "$PYTHON": the interpreter that runs Snakemake, so
# `.venv/bin/snakemake` works without activating .venv; with --use-conda, the python
# of the rule's environment. (set -euo pipefail: Snakemake's own prefix for bash.)
PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else shlex.quote(sys.executable)
)
shell.prefix(f"set -euo pipefail; PYTHON={PYTHON}; ")
# With a search section, the runs known before training are the search's settings (one
# seed each); the runs the tables compare are known after its selection (search.smk).
SEARCH = gsearch.active(config)
RUNS = gsearch.runs(config) if SEARCH else list(gcfg.grid(config))
DATASETS_IN_GRID = gcfg.datasets_in_grid(config)
TABLES = expand("results/tables/{name}", name=table_files())
FIGURES = [f"results/figures/{{dataset}}/{name}.png" for name in FIGURE_SUBCATEGORIES]
CELL_FIGURES = "results/figures/{dataset}/cells"  # one figure per cell: <variant>/<loss>.png
# what results/reference/ holds: the summary tables and each dataset's main figures
REFERENCE_TABLES = ["summary.md", "summary.csv", "rankings.md", "baseline_check.md", "loss_tracking.md", "runs.md"]
# what placed the outcomes, what produced them, and what analysis.compare reads
REFERENCE_TABLES += ["calibration.csv", "provenance.json", "runs.csv", "rankings.csv"]
REFERENCE_FIGURES = ["heatmap_main", "heatmap_success", "distributions", "points"]
IMAGE_DATASETS = [d for d in DATASETS_IN_GRID if DATASETS.get(d).modality == "images"]
# the datasets whose LeNet classifier some image dataset of the grid uses
LENET_SOURCES = sorted({resolve_eval(config, d)["extractor"].get("source") for d in IMAGE_DATASETS} - {None})
DATA_DATASETS = sorted(set(IMAGE_DATASETS) | set(LENET_SOURCES))
DATA_READY = "results/data/{dataset}.json"
LENET_RECORD = LENET_WEIGHTS.removesuffix(".pt") + ".json"


# Wildcards match only names in the grid, so a typo in a target matches no rule.
def _alternatives(names):
    # "(?!)" never matches: no name allowed (an empty pattern would allow any)
    return "|".join(re.escape(str(n)) for n in names) or "(?!)"


wildcard_constraints:
    dataset=_alternatives(DATASETS_IN_GRID),
    # variant names, their sweep labels, or a search's labels
    variant=_alternatives(gsearch.labels(config) if SEARCH else gcfg.variant_labels(config)),
    loss=_alternatives(gcfg.losses_in_grid(config)),
    seed=r"\d+",


def grid_runs(dataset=None):
    """The runs of the grid (or of one dataset), as dicts of dataset, variant, loss and seed."""
    return [run for run in RUNS if dataset is None or run["dataset"] == dataset]


def run_folders(runs):
    """The runs' folders, each once and sorted: what the analysis commands take."""
    return sorted({RUN.format(**run) for run in runs})


# Populations: the runs one training job trains together (gans/config/populations.py),
# by id, the wildcard of the train and evaluate rules: one job trains a population, one
# evaluates it. With a search, the best settings' new seeds form populations too
# ({cell}/best<k>), whose members are known after the cell's selection, and so do its
# finalists' more seeds ({cell}/final<j>-<k>) with search.finalists.
POPULATIONS = gpop.populations(config, RUNS)
RUN_POPULATION = gpop.run_populations(POPULATIONS)
LATE_POPULATIONS = gpop.late_ids(config) if SEARCH else []


def evaluation_marker(population):
    return EVALUATION.format(population=population)


def population_of_run(run):
    """The id of the population that trains and evaluates a run (a dict of dataset,
    variant, loss and seed): of the grid, or of a search cell's best setting."""
    d, v, l, seed = run["dataset"], run["variant"], run["loss"], int(run["seed"])
    if (d, v, l, seed) in RUN_POPULATION:
        return RUN_POPULATION[(d, v, l, seed)]
    if SEARCH and gsearch.parse_label(v) and seed in gsearch.best_seeds(config):
        return gpop.best_population_of(config, d, v, l, seed)
    raise ValueError(f"{RUN.format(**run)} is not a run of this config (its grid or search)")


def run_evaluations(runs):
    """The evaluation markers of the populations ``runs`` belong to, each once: what a
    rule that reads those runs' evaluation files (metrics.csv, .json, samples.npz) waits for."""
    return sorted({evaluation_marker(population_of_run(run)) for run in runs})


def population_dataset(population):
    pop = POPULATIONS.get(population)
    return pop.dataset if pop else gpop.cell_of(population)["dataset"]


def job_dataset(wildcards):
    """The dataset of a job: its wildcard, or its population's (the evaluate rule)."""
    return population_dataset(wildcards.population) if hasattr(wildcards, "population") else wildcards.dataset


def population(wildcards):
    """The population of a train job: from the grid, or a cell's finalist or best once
    its selection is written (None before)."""
    if wildcards.population in POPULATIONS:
        return POPULATIONS[wildcards.population]
    label = late_label(wildcards.population)
    return label and gpop.late_population(config, wildcards.population, label)


def population_shape(wildcards):
    """A population's size and set-up, for its job's resources: a best setting's
    population is sized from its cell's set-up (before its selection is known)."""
    if wildcards.population in POPULATIONS:
        return POPULATIONS[wildcards.population]
    return gpop.late_population(config, wildcards.population, gpop.cell_of(wildcards.population)["variant"])


def population_inputs(wildcards):
    """Image data, prepared before training; a finalist's or best setting's population
    waits for the selection that names its setting."""
    dataset = population_dataset(wildcards.population)
    selection = [] if wildcards.population in POPULATIONS else [late_selection(wildcards.population)]
    return [DATA_READY.format(dataset=dataset)] * (dataset in IMAGE_DATASETS) + selection


def population_runs(wildcards):
    pop = population(wildcards)
    return json.dumps(list(pop.cfgs), sort_keys=True) if pop else PENDING


def population_folders(wildcards):
    pop = population(wildcards)
    return [RUN.format(**run) for run in pop.runs] if pop else [PENDING]


# Job sizes come from the dataset's registry entry (runtime in minutes, mem_mb, gpu, per
# step: train, evaluate), so a new dataset brings its own; they scale with the job's
# population (gans/config/populations.py); a profile's or the command line's
# set-resources (train:..., evaluate:...) overrides them.
def _population_resource(step, key):
    def resource(wildcards):
        pop = population_shape(wildcards)
        base = DATASETS.get(pop.dataset).job_resources[step]
        if step == "evaluate":  # its runs one after another, the real side shared: one run's memory
            return gpop.evaluation_runtime(base["runtime"], pop.size) if key == "runtime" else base[key]
        if key == "runtime":
            return gpop.runtime(base["runtime"], pop.size, base["gpu"])
        return gpop.mem_mb(base["mem_mb"], pop.size, pop.cfgs[0]) if key == "mem_mb" else base[key]

    resource.__name__ = f"{step}_{key}"
    return resource


population_runtime = _population_resource("train", "runtime")
population_mem_mb = _population_resource("train", "mem_mb")
population_gpu = _population_resource("train", "gpu")
evaluation_runtime = _population_resource("evaluate", "runtime")
evaluation_mem_mb = _population_resource("evaluate", "mem_mb")
evaluation_gpu = _population_resource("evaluate", "gpu")


def announce_populations():
    """Once per call (not in each job): every population on one line, and stale markers
    removed: a training marker whose member's training files are gone or changed (with
    its evaluation marker and those members' evaluation files), so the population trains
    and is evaluated again; an evaluation marker whose member's evaluation files are gone,
    so it is evaluated again. Runs whose folders hold another config's training are
    counted, so that a user who meant to keep them can stop first."""
    if workflow.remote_exec or workflow.subprocess_exec:
        return
    for pop in POPULATIONS.values():
        print(gpop.describe(pop), file=sys.stderr)
    if LATE_POPULATIONS:
        print(
            f"populations {', '.join(LATE_POPULATIONS)}: each cell's finalists (final<j>) and best setting"
            " (best<k>) over their new seeds, known after the cell's selection",
            file=sys.stderr,
        )
    for line in clear_stale([*POPULATIONS, *LATE_POPULATIONS]):
        print(f"note: {line}", file=sys.stderr)
    replaced = replaced_note({RUN.format(**r): c for p in POPULATIONS.values() for r, c in zip(p.runs, p.cfgs)})
    if replaced:
        print(f"note: {replaced}", file=sys.stderr)


announce_populations()


def compared_runs(dataset=None):
    """The runs the tables compare (of one dataset): the grid's runs, or with a search
    each cell's best setting over its new seeds (known once the cells' selections are written)."""
    return best_runs(dataset) if SEARCH else grid_runs(dataset)


def compared_evaluations(wildcards):
    """The evaluation markers of the runs the tables compare; with a search, the cells'
    last selections too (the params read them)."""
    return best_evaluations() + selections() if SEARCH else run_evaluations(grid_runs())


def compared_folders(wildcards):
    """The folders of the runs the tables compare (the aggregation's runs); with a search,
    PENDING for a cell whose selection is not made for this config."""
    pending = SEARCH and any(best_label(d, v, l) is None for d, v, l in SEARCH_CELLS)
    return run_folders(compared_runs()) + [PENDING] * pending


def dataset_evaluations(wildcards):
    """The evaluation markers of one dataset's compared runs (their samples, for the figures)."""
    return best_evaluations(wildcards.dataset) if SEARCH else run_evaluations(grid_runs(wildcards.dataset))


def eval_params(wildcards):
    return json.dumps(resolve_eval(config, job_dataset(wildcards)), sort_keys=True)


def figure_params(wildcards):
    return json.dumps(config["figures"], sort_keys=True)


def output_folder(wildcards, output):
    return os.path.dirname(output[0])


def input_folder(wildcards, input):
    return os.path.dirname(input[0])


def skipped_cells(wildcards):
    return json.dumps(gcfg.skipped(config))


def tuning_of_cells(wildcards):
    return json.dumps(gsearch.tuning(config))


CELLS_BY_DATASET = gcfg.cells_by_dataset(config)  # dataset -> its (variant, loss) cells, in grid order


def cell_options(wildcards):
    """The dataset's cells as the figures CLI takes them (--cell <variant> <loss> ...)."""
    return " ".join(f"--cell {shlex.quote(v)} {shlex.quote(l)}" for v, l in CELLS_BY_DATASET[wildcards.dataset])


def cell_figures():
    """Each dataset's folder of cell figures (one per dataset x variant x loss cell of the grid)."""
    return [CELL_FIGURES.format(dataset=d) for d in CELLS_BY_DATASET]


def reference_sources():
    return (
        [f"results/tables/{t}" for t in REFERENCE_TABLES]
        + REPRODUCTION_TABLES
        + [f"results/figures/{d}/{f}.png" for d in DATASETS_IN_GRID for f in REFERENCE_FIGURES]
    )


def reference_outputs():
    folder = config["reference_folder"]
    return [f"{folder}/README.md", f"{folder}/config.yaml"] + [
        f.replace("results/", f"{folder}/", 1) for f in reference_sources()
    ]


def config_files_given(wildcards):
    """The --configfile arguments of this call (none: the default config), for the reference's README."""
    return " ".join(os.path.relpath(f) for f in workflow.overwrite_configfiles or [])


def config_json(wildcards):
    return json.dumps(config, sort_keys=True)


def dataset_figures():
    """The dataset figures in the report: grouped by dataset, labelled by what they show."""
    return [dataset_figure(name, sub) for name, sub in FIGURE_SUBCATEGORIES.items()]


def dataset_figure(name, subcategory):
    return report(
        f"results/figures/{{dataset}}/{name}.png",
        caption=f"../report/{name}.rst",
        category="{dataset}",
        subcategory=subcategory,
        labels={"dataset": "{dataset}", "figure": name.replace("_", " ")},
    )


def dataset_spec(wildcards):
    return json.dumps(gcfg.resolve_dataset(config, wildcards.dataset), sort_keys=True)


def source_spec(wildcards):
    return json.dumps(gcfg.resolve_dataset(config, wildcards.source), sort_keys=True)


def data_ready_of_source(wildcards):
    return DATA_READY.format(dataset=wildcards.source)


def lenet_train_params(wildcards):
    return json.dumps(config["evaluation"]["lenet"], sort_keys=True)


def _extractor_weights(spec):
    return [spec["weights_path"]] if spec.get("source") else []  # LeNet weights come from train_lenet


def real_features_inputs(wildcards):
    spec = resolve_eval(config, wildcards.dataset)["extractor"]
    return [DATA_READY.format(dataset=wildcards.dataset)] + _extractor_weights(spec)


def evaluation_inputs(wildcards):
    """Image runs need the extractor and the real features; toy runs nothing more."""
    dataset = job_dataset(wildcards)
    if dataset not in IMAGE_DATASETS:
        return []
    ev = resolve_eval(config, dataset)
    return [ev["real_features"]] + _extractor_weights(ev["extractor"])


def calibration_files():
    """Every dataset's calibration file (the calibrate rule's outputs the aggregation reads)."""
    return sorted({calibration_path(d, resolve_eval(config, d)) for d in DATASETS_IN_GRID})


def calibration_run(wildcards):
    """The plain GAN's run on this dataset: its generator, untrained, is one calibration kind."""
    return json.dumps(gcfg.resolve_run(config, wildcards.dataset, "gan", "nonsaturating", 0), sort_keys=True)


# Published anchors and the cells that reproduce them (config key 'reproductions', checked
# with the config: analysis.config.check_reproductions; the rule is in reproductions.smk).
REPRODUCTION_CELLS = {(c["dataset"], c["variant"], c["loss"]) for c in config["reproductions"].values()}
REPRODUCTION_TABLES = (
    ["results/tables/reproductions.csv", "results/tables/reproductions.md"] if config["reproductions"] else []
)


REPRODUCTION_RUNS = [run for run in RUNS if (run["dataset"], run["variant"], run["loss"]) in REPRODUCTION_CELLS]


def reproduction_evaluations(wildcards):
    """The evaluation markers of every cell an anchor maps to."""
    return run_evaluations(REPRODUCTION_RUNS)


def reproduction_folders(wildcards):
    return run_folders(REPRODUCTION_RUNS)


# The Dirac-GAN's theory table and phase portrait (dirac.smk)
DIRAC_RUNS = run_folders(grid_runs("dirac"))


def dirac_analysis(wildcards):
    return json.dumps(config["analysis"], sort_keys=True)


def table_stem(wildcards, output):
    """A table's path without its extension, from the rule's first output."""
    return os.path.splitext(output[0])[0]
