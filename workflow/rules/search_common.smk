# The search's paths and helpers (its rules: search.smk). With a search section, each
# cell's settings train seeds_per_setting seeds each (labels <cell>+search-<i>); a checkpoint
# per cell picks the best, whose new seeds the tables compare: their populations' ids are
# known before it, their runs after it. With search.finalists, that checkpoint names the
# finalists, which train more seeds, and a second one (search_final) picks the best of them.
import functools

from analysis import search as msearch
from analysis.figures.search import FIGURES as SEARCH_FIGURES
from analysis.search_tables import table_files as search_table_files

SELECTION = "results/search/{dataset}/{variant}/{loss}/selection.json"
FINAL = "results/search/{dataset}/{variant}/{loss}/final.json"
FINALISTS = bool(SEARCH and config["search"]["finalists"])
LAST = FINAL if FINALISTS else SELECTION  # the selection that names a cell's best setting
SEARCH_CELLS = gsearch.cells(config) if SEARCH else []
SEARCH_TABLES = [f"results/search/tables/{name}" for name in search_table_files()]
# the search's tables in the report, with their captions
REPORTED_SEARCH_TABLES = ["search_best.csv", "search_settings.csv", "search_baseline_check.csv"]
if not (workflow.remote_exec or workflow.subprocess_exec):  # once, before the graph reads them
    for line in msearch.set_aside_damaged(
        [p.format(dataset=d, variant=v, loss=l) for d, v, l in SEARCH_CELLS for p in (SELECTION, FINAL)]
    ):
        print(f"note: {line}", file=sys.stderr)


def selections():
    """Each cell's last selection: the one that names its best setting."""
    return [last_selection(d, v, l) for d, v, l in SEARCH_CELLS]


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


@functools.cache
def search_options(dataset, variant, loss):
    """What a cell's selection is made with (its checkpoint's params), as JSON."""
    return json.dumps(msearch.options(config, dataset, variant, loss), sort_keys=True)


def selection_options(wildcards):
    return search_options(wildcards.dataset, wildcards.variant, wildcards.loss)


# Params read a selection as a file, not through checkpoints.<rule>.get(): until Snakemake
# updates a job, get() gives its params the placeholder <TBD>, which counts as changed params
# (a finished search would rerun) and keeps the jobs behind a second checkpoint from being
# updated. Each rule whose params read a selection lists its file as an input, so it waits
# for it; Snakemake computes params again just before a job runs, and a checkpoint's
# dependents once it is written.


def chosen(path, dataset, variant, loss):
    """A cell's selection (SELECTION or FINAL) as its checkpoint wrote it with this
    config's options; None before (or when another config's selection is left there)."""
    path = path.format(dataset=dataset, variant=variant, loss=loss)
    return msearch.read_selection(path, json.loads(search_options(dataset, variant, loss)))


def last_selection(dataset, variant, loss):
    """The path of a cell's last selection: the one that names its best setting."""
    return LAST.format(dataset=dataset, variant=variant, loss=loss)


def best_label(dataset, variant, loss):
    """The label of a cell's best setting, from its last selection (None before it)."""
    last = chosen(LAST, dataset, variant, loss)
    return last["best"]["label"] if last else None


def late_selection(population):
    """The selection a finalist's or best setting's population waits for."""
    cell = gpop.cell_of(population)
    return SELECTION.format(**cell) if gpop.finalist_rank(population) is not None else last_selection(**cell)


def late_label(population):
    """The setting a finalist's or best setting's population trains (a search run's
    label); None before the selection that names it."""
    cell, rank = gpop.cell_of(population), gpop.finalist_rank(population)
    if rank is None:
        return best_label(**cell)
    labels = finalist_labels(**cell)
    return labels[rank] if labels else None


def finalist_labels(dataset, variant, loss):
    """The labels of a cell's finalists, from its first selection (none before it)."""
    first = chosen(SELECTION, dataset, variant, loss)
    return [f["label"] for f in first["finalists"]] if first else []


def finalist_runs(dataset, variant, loss, seeds=None):
    """A cell's finalists at ``seeds`` (default: those they train beyond the settings')."""
    seeds = gsearch.finalist_seeds(config) if seeds is None else seeds
    labels = finalist_labels(dataset, variant, loss)
    return [{"dataset": dataset, "variant": label, "loss": loss, "seed": s} for label in labels for s in seeds]


def cell_finalist_evaluations(wildcards):
    """What the final selection waits for: the cell's finalists' populations evaluated."""
    ids = gpop.finalist_ids(config, wildcards.dataset, wildcards.variant, wildcards.loss)
    return [evaluation_marker(i) for i in ids]


def cell_finalist_folders(wildcards):
    """The final selection's runs: the finalists at the settings' seeds and at their own."""
    cell = (wildcards.dataset, wildcards.variant, wildcards.loss)
    return run_folders(finalist_runs(*cell, gsearch.setting_seeds(config)) + finalist_runs(*cell))


def first_selections():
    """With finalists, each cell's first selection (it names the finalists whose runs the tables read)."""
    return [SELECTION.format(dataset=d, variant=v, loss=l) for d, v, l in SEARCH_CELLS] if FINALISTS else []


def all_finalist_evaluations():
    return [evaluation_marker(i) for d, v, l in SEARCH_CELLS for i in gpop.finalist_ids(config, d, v, l)]


def search_table_folders(wildcards):
    """The search tables' runs: every setting's, and the finalists' more seeds."""
    finals = [run for d, v, l in SEARCH_CELLS for run in (finalist_runs(d, v, l) if FINALISTS else [])]
    return run_folders(RUNS) + run_folders(finals)


def best_runs(dataset=None):
    """Each cell's best setting over its new seeds (of one dataset), from the cells'
    selections: a cell whose selection is not written yet has none."""
    out = []
    for d, label, loss in SEARCH_CELLS:
        best = best_label(d, label, loss) if dataset is None or d == dataset else None
        out += [{"dataset": d, "variant": best, "loss": loss, "seed": s} for s in gsearch.best_seeds(config) if best]
    return out


def best_evaluations(dataset=None):
    """The evaluation markers of the best settings' populations (of one dataset): their
    ids are known before the selections."""
    ids = gpop.best_ids(config)
    return sorted(evaluation_marker(i) for i in ids if dataset is None or gpop.cell_of(i)["dataset"] == dataset)


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
