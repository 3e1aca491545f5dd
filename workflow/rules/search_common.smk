# The search's paths and helpers (its rules: search.smk). With a search section, each
# cell's settings train seeds_per_setting seeds each (labels <cell>+search-<i>); a checkpoint per cell
# picks the best, whose new seeds the tables compare: their paths are known after it.
from analysis import search as msearch
from analysis.figures.search import FIGURES as SEARCH_FIGURES
from analysis.search_tables import table_files as search_table_files

SELECTION = "results/search/{dataset}/{variant}/{loss}/selection.json"
SEARCH_CELLS = gsearch.cells(config) if SEARCH else []
SEARCH_TABLES = [f"results/search/tables/{name}" for name in search_table_files()]
# the search's tables in the report, with their captions
REPORTED_SEARCH_TABLES = ["search_best.csv", "search_settings.csv", "search_baseline_check.csv"]


def selections():
    return [SELECTION.format(dataset=d, variant=v, loss=l) for d, v, l in SEARCH_CELLS]


def search_outputs():
    """The targets of a search: its tables and each dataset's figures."""
    if not SEARCH:
        return []
    figures = [f"results/search/figures/{d}/{name}.png" for d in DATASETS_IN_GRID for name in SEARCH_FIGURES]
    return SEARCH_TABLES + figures


def cell_search_runs(wildcards):
    """A cell's search runs: each setting at each of the search's seeds."""
    return gsearch.cell_runs(config, wildcards.dataset, wildcards.variant, wildcards.loss)


def cell_search_evaluations(wildcards):
    """What the selection waits for: its runs evaluated (so trained: config.resolved.yaml)."""
    return run_evaluations(cell_search_runs(wildcards))


def cell_search_folders(wildcards):
    return run_folders(cell_search_runs(wildcards))


def selection_options(wildcards):
    options = msearch.options(config, wildcards.dataset, wildcards.variant, wildcards.loss)
    return json.dumps(options, sort_keys=True)


def best_label(dataset, variant, loss):
    """The label of a cell's best setting, from its selection: this waits for the checkpoint."""
    chosen = checkpoints.search_select.get(dataset=dataset, variant=variant, loss=loss).output[0]
    with open(chosen) as f:
        return json.load(f)["best"]["label"]


def best_runs(dataset=None):
    """Each cell's best setting over its new seeds (of one dataset), from the cells'
    selections: evaluating this waits for the checkpoints."""
    out = []
    for d, label, loss in SEARCH_CELLS:
        if dataset is None or d == dataset:
            best = best_label(d, label, loss)
            out += [{"dataset": d, "variant": best, "loss": loss, "seed": seed} for seed in gsearch.best_seeds(config)]
    return out


def search_tables_options(wildcards):
    options = {"analysis": config["analysis"], "tuning": gsearch.tuning(config), "draws": 1000, "seed": 0}
    return json.dumps(options, sort_keys=True)


def search_table_outputs():
    """The search's tables, those the report shows marked with their captions."""
    return [search_table(t) if os.path.basename(t) in REPORTED_SEARCH_TABLES else t for t in SEARCH_TABLES]


def search_table(path):
    name = os.path.basename(path)
    return report(path, caption=f"../report/{name[:-4]}.rst", category="Search", labels={"table": name})


def search_figure_outputs():
    """One dataset's search figures, marked for the report with their captions."""
    return [search_figure(name) for name in SEARCH_FIGURES]


def search_figure(name):
    return report(
        f"results/search/figures/{{dataset}}/{name}.png",
        caption=f"../report/search_{name}.rst",
        category="Search",
        subcategory="{dataset}",
        labels={"dataset": "{dataset}", "figure": name.replace("_", " ")},
    )
