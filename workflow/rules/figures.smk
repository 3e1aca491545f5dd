rule figures:
    """Figures of one dataset from the tables and the runs' samples; plotting
    options are params here alone, so changing them redraws without retraining."""
    input:
        tables=TABLES,
        samples=dataset_samples,
    output:
        dataset_figures(),
    params:
        options=figure_params,
        tables=input_folder,
        out=output_folder,
    log:
        "results/logs/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.figures --dataset {wildcards.dataset} --tables {params.tables:q}"
        " --options {params.options:q} --out {params.out:q} > {log:q} 2>&1"


rule cell_figure:
    """One dataset x variant x loss cell: its seeds side by side, collapse and divergence marked."""
    input:
        tables=TABLES,
        samples=cell_samples,
    output:
        report(
            CELL_FIGURE,
            caption="../report/cell.rst",
            category="{dataset}",
            subcategory="4 cells",
            labels={"dataset": "{dataset}", "variant": "{variant}", "loss": "{loss}"},
        ),
    params:
        options=figure_params,
        tables=input_folder,
    log:
        "results/logs/figures/{dataset}/{variant}/{loss}.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.figures --dataset {wildcards.dataset} --cell {wildcards.variant} {wildcards.loss}"
        " --tables {params.tables:q} --options {params.options:q} --out {output:q} > {log:q} 2>&1"
localrules:
    figures,
    cell_figure,
