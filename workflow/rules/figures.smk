rule figures:
    """Figures of one dataset from the tables and the runs' samples; plotting
    options are params here alone, so changing them redraws without retraining."""
    input:
        tables=TABLES,
        samples=dataset_evaluations,
    output:
        dataset_figures(),
    log:
        "results/logs/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    params:
        options=figure_params,
        tables=input_folder,
        out=output_folder,
    shell:
        '"$PYTHON" -m analysis.figures --dataset {wildcards.dataset} --tables {params.tables:q}'
        " --options {params.options:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"


rule cell_figures:
    """Each cell's figure of one dataset (its seeds side by side, collapse and divergence
    marked), drawn in one process beside the dataset figures."""
    input:
        tables=TABLES,
        samples=dataset_evaluations,
    output:
        report(
            directory(CELL_FIGURES),
            patterns=["{variant}/{loss}.png"],
            caption="../report/cell.rst",
            category="{dataset}",
            subcategory="4 cells",
            labels={"dataset": "{dataset}", "variant": "{variant}", "loss": "{loss}"},
        ),
    log:
        "results/logs/figures/{dataset}/cells.log",
    conda:
        "../../environment.yml"
    params:
        options=figure_params,
        tables=input_folder,
        cells=cell_options,
    shell:
        '"$PYTHON" -m analysis.figures --dataset {wildcards.dataset} {params.cells} --tables {params.tables:q}'
        " --options {params.options:q} --out {output:q} 2>&1 | tee {log:q} >&2"


localrules:
    figures,
    cell_figures,
