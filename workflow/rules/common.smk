# The grid and the paths, built once from the validated config. Every name shared
# with the packages (run layout, files, tables, figures) is imported from them.
import json
import os
import re
import shlex

from gans import config as gcfg
from gans.config import search as gsearch
from gans.datasets import DATASETS
from gans.layout import EVAL_FILES, METRICS_FINAL, RUN, SAMPLES, TRAIN_FILES
from gans.stacking import reason_not_stackable
from analysis.aggregate import table_files
from metrics.calibration_files import CALIBRATION, POINTS, calibration_path
from metrics.config import resolve_eval
from metrics.extractors import EXTRACTORS, LENET_WEIGHTS, REAL_FEATURES
from analysis.figures import FIGURES as FIGURE_SUBCATEGORIES
from analysis.reproductions import check_cells

# With a search section, the runs known before training are the search's settings (one
# seed each); the runs the tables compare are known after its selection (search.smk).
SEARCH = gsearch.active(config)
RUNS = gsearch.runs(config) if SEARCH else list(gcfg.grid(config))
DATASETS_IN_GRID = gcfg.datasets_in_grid(config)
TABLES = expand("results/tables/{name}", name=table_files())
FIGURES = [f"results/figures/{{dataset}}/{name}.png" for name in FIGURE_SUBCATEGORIES]
CELL_FIGURE = "results/figures/{dataset}/cells/{variant}/{loss}.png"
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


def run_files(names, dataset=None):
    """The given files of every run in the grid (or of one dataset)."""
    return [
        f"{RUN}/{name}".format(**run) for run in RUNS if dataset is None or run["dataset"] == dataset for name in names
    ]


# Cells whose seeds train several to a job (train.seeds_per_job > 1): one rule per
# seed group (train_<group>, evaluate_<group>, e.g. train_seeds_0_1_2), since a rule's
# outputs are a fixed list of files; each rule's wildcards are constrained to its
# block's cells. Other datasets train one seed per job (the train and evaluate rules).
SEED_GROUPS = {} if SEARCH else gcfg.seed_groups(config)  # a search trains one seed per job
ONE_SEED_DATASETS = DATASETS_IN_GRID if SEARCH else gcfg.one_seed_datasets(config)


def share_overrides(family, members):
    """--set-resources/--set-threads for ``family`` (train, evaluate), from the command
    line or a profile, reach every rule of the family (train_seeds_0_1_2, ...), so a
    user sizes jobs by a name that does not depend on the grid; an override naming
    a member rule wins for that rule. Call before the member rules are defined."""
    settings = workflow.resource_settings
    for table in (settings._parsed_overwrite_resources, settings._parsed_overwrite_threads):
        if family in table:
            for member in members:
                if member not in table:
                    table[member] = table[family]
                elif hasattr(table[member], "update"):  # resources: the member's own keys win
                    merged = table[family].copy()
                    merged.update(table[member])
                    table[member] = merged


def seeds_label(seeds):
    return "-".join(map(str, seeds))


def group_outputs(seeds, names=TRAIN_FILES):
    return [f"{RUN}/{name}".replace("{seed}", str(seed)) for seed in seeds for name in names]


def group_train_params(seeds):
    def run(wildcards):
        runs = [gcfg.resolve_run(config, wildcards.dataset, wildcards.variant, wildcards.loss, seed) for seed in seeds]
        return json.dumps(runs, sort_keys=True)

    return run


def group_output_folders(wildcards, output):
    """Each seed's run folder, in the order of the seeds."""
    return list(dict.fromkeys(os.path.dirname(f) for f in output))


def group_evaluate_runtime(seeds):
    def runtime(wildcards):
        return evaluate_runtime(wildcards) * len(seeds)

    return runtime


def group_runtime(seeds):
    # Stacked seeds share one run's time on a GPU (twice it, for margin); seeds
    # that cannot be stacked train one after another, so S times it.
    def runtime(wildcards):
        run = gcfg.resolve_run(config, wildcards.dataset, wildcards.variant, wildcards.loss, seeds[0])
        return train_runtime(wildcards) * (2 if reason_not_stackable(run) is None else len(seeds))

    return runtime


def compared_runs(names, dataset=None):
    """An input function: the given files of the runs the tables compare (of one dataset):
    the grid's runs, or with a search each cell's best setting over its new seeds."""

    def files(wildcards):
        return best_run_files(names, dataset) if SEARCH else run_files(names, dataset)

    return files


def dataset_samples(wildcards):
    return compared_runs([SAMPLES], wildcards.dataset)(wildcards)


def train_params(wildcards):
    run = gcfg.resolve_run(config, wildcards.dataset, wildcards.variant, wildcards.loss, int(wildcards.seed))
    return json.dumps(run, sort_keys=True)


def eval_params(wildcards):
    return json.dumps(resolve_eval(config, wildcards.dataset), sort_keys=True)


def figure_params(wildcards):
    return json.dumps(config["figures"], sort_keys=True)


def output_folder(wildcards, output):
    return os.path.dirname(output[0])


def input_folder(wildcards, input):
    return os.path.dirname(input[0])


def input_run_folders(wildcards, input):
    """The run folders, from the aggregate rule's inputs (one metrics.json each)."""
    return sorted({os.path.dirname(f) for f in input if os.path.basename(f) == METRICS_FINAL})


def skipped_cells(wildcards):
    return json.dumps(gcfg.skipped(config))


def tuning_of_cells(wildcards):
    return json.dumps(gsearch.tuning(config))


CELLS_BY_DATASET = gcfg.cells_by_dataset(config)  # dataset -> its (variant, loss) cells, in grid order


def cells_folder(wildcards, output):
    """results/figures/<dataset>/cells, from a cell figure's path (.../cells/<variant>/<loss>.png)."""
    return os.path.dirname(os.path.dirname(output[0]))


def rule_suffix(name):
    """A dataset name as part of a rule name (letters, digits and underscores)."""
    return re.sub(r"\W", "_", name)


def cell_figures():
    """One figure per dataset x variant x loss cell of the grid."""
    return [CELL_FIGURE.format(dataset=d, variant=v, loss=l) for d, cells in CELLS_BY_DATASET.items() for v, l in cells]


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


# Job sizes come from the dataset's registry entry (runtime in minutes, mem_mb, gpu), so
# a new dataset brings its own; a profile's set-resources overrides them.
def _dataset_resource(step, key):
    def resource(wildcards):
        return DATASETS.get(wildcards.dataset).job_resources[step][key]

    resource.__name__ = f"{step}_{key}"
    return resource


train_runtime = _dataset_resource("train", "runtime")
train_mem_mb = _dataset_resource("train", "mem_mb")
evaluate_runtime = _dataset_resource("evaluate", "runtime")
evaluate_mem_mb = _dataset_resource("evaluate", "mem_mb")
train_gpu = _dataset_resource("train", "gpu")
evaluate_gpu = _dataset_resource("evaluate", "gpu")


def dataset_spec(wildcards):
    return json.dumps(gcfg.resolve_dataset(config, wildcards.dataset), sort_keys=True)


def source_spec(wildcards):
    return json.dumps(gcfg.resolve_dataset(config, wildcards.source), sort_keys=True)


def data_ready_of_source(wildcards):
    return DATA_READY.format(dataset=wildcards.source)


def lenet_train_params(wildcards):
    return json.dumps(config["evaluation"]["lenet"], sort_keys=True)


def training_data(wildcards):
    """Image datasets are prepared before training; toy data needs nothing."""
    return [DATA_READY.format(dataset=wildcards.dataset)] if wildcards.dataset in IMAGE_DATASETS else []


def _extractor_weights(spec):
    return [spec["weights_path"]] if spec.get("source") else []  # LeNet weights come from train_lenet


def real_features_inputs(wildcards):
    spec = resolve_eval(config, wildcards.dataset)["extractor"]
    return [DATA_READY.format(dataset=wildcards.dataset)] + _extractor_weights(spec)


def evaluation_inputs(wildcards):
    """Image runs need the extractor and the real features; toy runs nothing more."""
    if wildcards.dataset not in IMAGE_DATASETS:
        return []
    ev = resolve_eval(config, wildcards.dataset)
    return [ev["real_features"]] + _extractor_weights(ev["extractor"])


def calibration_files():
    """Every dataset's calibration file (the calibrate rule's outputs the aggregation reads)."""
    return sorted({calibration_path(d, resolve_eval(config, d)) for d in DATASETS_IN_GRID})


def calibration_run(wildcards):
    """The plain GAN's run on this dataset: its generator, untrained, is one calibration kind."""
    return json.dumps(gcfg.resolve_run(config, wildcards.dataset, "gan", "nonsaturating", 0), sort_keys=True)


# Published anchors and the cells that reproduce them (config key 'reproductions'; the
# rule is in reproductions.smk). An unknown anchor or a cell outside the grid fails here.
REPRODUCTION_CELLS = {(c["dataset"], c["variant"], c["loss"]) for c in config["reproductions"].values()}
check_cells(config["reproductions"], {(r["dataset"], r["variant"], r["loss"]) for r in RUNS})
REPRODUCTION_TABLES = (
    ["results/tables/reproductions.csv", "results/tables/reproductions.md"] if config["reproductions"] else []
)


def reproduction_runs(wildcards):
    """The evaluated runs of every cell an anchor maps to."""
    return [
        f"{RUN}/{name}".format(**run)
        for run in RUNS
        if (run["dataset"], run["variant"], run["loss"]) in REPRODUCTION_CELLS
        for name in EVAL_FILES
    ]
