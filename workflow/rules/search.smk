# The search (docs/search.md): each cell's settings train one seed each (the train and
# evaluate rules, labels <cell>+search-<i>); a checkpoint per cell picks the best, whose
# new seeds then train (their paths are known only after it); the aggregation compares
# those, and the search's own tables and figures show the protocol.
from gans import layout
from metrics import search as msearch
from metrics.search_tables import table_files as search_table_files

SELECTION = "results/search/{dataset}/{variant}/{loss}/selection.json"
SEARCH_CELLS = gsearch.cells(config) if SEARCH else []
SEARCH_TABLES = [f"results/search/tables/{name}" for name in search_table_files()]
SEARCH_FIGURES = ["budget", "best_seeds", "trainable"]


def selections():
    return [SELECTION.format(dataset=d, variant=v, loss=l) for d, v, l in SEARCH_CELLS]


def search_outputs():
    """What rule all asks of a search: its tables and each dataset's figures."""
    if not SEARCH:
        return []
    figures = [f"results/search/figures/{d}/{name}.png" for d in DATASETS_IN_GRID for name in SEARCH_FIGURES]
    return SEARCH_TABLES + figures


def cell_search_files(wildcards):
    """The files of a cell's search runs that the selection reads."""
    settings = range(config["search"]["budget"])
    return [
        f"{RUN}/{name}".format(
            dataset=wildcards.dataset,
            variant=gsearch.search_label(wildcards.variant, i),
            loss=wildcards.loss,
            seed=config["search"]["train_seed"],
        )
        for i in settings
        for name in (layout.METRICS_FINAL, layout.METRICS_TABLE, layout.RESOLVED_CONFIG)
    ]


def cell_search_folders(wildcards, input):
    return sorted({os.path.dirname(f) for f in input})


def selection_options(wildcards):
    options = msearch.options(config, wildcards.dataset, wildcards.variant, wildcards.loss)
    return json.dumps(options, sort_keys=True)


def best_run_files(names, dataset=None):
    """The given files of each cell's best setting over its new seeds (of one dataset),
    from the cells' selections: evaluating this waits for the checkpoints."""
    out = []
    for d, label, loss in SEARCH_CELLS:
        if dataset is None or d == dataset:
            chosen = checkpoints.search_select.get(dataset=d, variant=label, loss=loss).output[0]
            with open(chosen) as f:
                best = json.load(f)["best"]["label"]
            for seed in gsearch.best_seeds(config):
                out += [f"{RUN}/{name}".format(dataset=d, variant=best, loss=loss, seed=seed) for name in names]
    return out


def search_tables_options(wildcards):
    options = {"analysis": config["analysis"], "tuning": gsearch.tuning(config), "draws": 1000, "seed": 0}
    return json.dumps(options, sort_keys=True)


def search_run_folders(wildcards, input):
    return sorted({os.path.dirname(f) for f in input.runs})


checkpoint search_select:
    """One cell's best setting, from its search runs: which new seeds train next."""
    input:
        cell_search_files,
    output:
        SELECTION,
    log:
        "results/logs/search/{dataset}/{variant}/{loss}.log",
    wildcard_constraints:
        variant=_alternatives(sorted({v for _, v, _ in SEARCH_CELLS})),
    conda:
        "../../environment.yml"
    params:
        options=selection_options,
        runs=cell_search_folders,
    shell:
        "python -m metrics.search --options {params.options:q} --out {output:q} {params.runs:q} > {log:q} 2>&1"


rule search_tables:
    """The search's tables: every setting, each cell's best, best found against budget,
    and the baseline check on the best settings' new seeds."""
    input:
        selections=selections(),
        runs=run_files(TRAIN_FILES + EVAL_FILES),
        compared="results/tables/runs.csv",
    output:
        SEARCH_TABLES,
    log:
        "results/logs/search/tables.log",
    conda:
        "../../environment.yml"
    params:
        options=search_tables_options,
        runs=search_run_folders,
        out=output_folder,
    shell:
        "python -m metrics.search_tables --out {params.out:q} --compared {input.compared:q}"
        " --options {params.options:q} --selections {input.selections:q} --runs {params.runs:q} > {log:q} 2>&1"


rule search_figures:
    """One dataset's figures of the search: best found against budget, the best
    settings over their new seeds, the share of each space that trains."""
    input:
        tables=SEARCH_TABLES,
        compared="results/tables/runs.csv",
    output:
        [f"results/search/figures/{{dataset}}/{name}.png" for name in SEARCH_FIGURES],
    log:
        "results/logs/search/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    params:
        options=figure_params,
        tables=input_folder,
        out=output_folder,
    shell:
        "python -m metrics.figures.search --dataset {wildcards.dataset} --tables {params.tables:q}"
        " --compared {input.compared:q} --options {params.options:q} --out {params.out:q} > {log:q} 2>&1"


localrules:
    search_select,
    search_tables,
    search_figures,
