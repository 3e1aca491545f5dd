# The search (docs/search.md): a checkpoint per cell picks its best setting from the
# settings' runs (trained by the train and evaluate rules); the search's tables and
# figures then show the protocol. Paths and helpers: search_common.smk.


checkpoint search_select:
    """One cell's best setting, from its search runs: which new seeds train next."""
    input:
        cell_search_evaluations,
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
        '"$PYTHON" -m analysis.search --options {params.options:q} --out {output:q} {params.runs:q} 2>&1 | tee {log:q} >&2'


checkpoint search_final:
    """With search.finalists: one cell's best setting, the finalist with the best mean
    over all its seeds (the first selection's and the finalists' own)."""
    input:
        selection=SELECTION,
        finalists=cell_finalist_evaluations,
    output:
        FINAL,
    log:
        "results/logs/search/{dataset}/{variant}/{loss}.final.log",
    wildcard_constraints:
        variant=_alternatives(sorted({v for _, v, _ in SEARCH_CELLS})),
    conda:
        "../../environment.yml"
    params:
        options=selection_options,
        runs=cell_finalist_folders,
    shell:
        '"$PYTHON" -m analysis.search --after {input.selection:q} --options {params.options:q} --out {output:q}'
        " {params.runs:q} 2>&1 | tee {log:q} >&2"


rule search_tables:
    """The search's tables: every setting, each cell's best, best found against budget,
    and the baseline check on the best settings' new seeds."""
    input:
        selections=selections(),
        runs=run_evaluations(RUNS),
        finalists=all_finalist_evaluations(),
        first=first_selections(),
        compared="results/tables/runs.csv",
        calibration=calibration_files(),
    output:
        search_table_outputs(),
    log:
        "results/logs/search/tables.log",
    conda:
        "../../environment.yml"
    params:
        options=search_tables_options,
        runs=search_table_folders,
        out=output_folder,
    shell:
        '"$PYTHON" -m analysis.search_tables --out {params.out:q} --compared {input.compared:q}'
        " --options {params.options:q} --selections {input.selections:q} --calibration {input.calibration:q}"
        " --runs {params.runs:q} 2>&1 | tee {log:q} >&2"


rule search_figures:
    """One dataset's figures of the search: best found against budget, the best
    settings over their new seeds, the share of each space that trains."""
    input:
        tables=SEARCH_TABLES,
        compared="results/tables/runs.csv",
    output:
        search_figure_outputs(),
    log:
        "results/logs/search/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    params:
        options=figure_params,
        tables=input_folder,
        out=output_folder,
    shell:
        '"$PYTHON" -m analysis.figures.search --dataset {wildcards.dataset} --tables {params.tables:q}'
        " --compared {input.compared:q} --options {params.options:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"


localrules:
    search_select,
    search_final,
    search_tables,
    search_figures,
