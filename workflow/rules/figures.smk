rule figures:
    """Figures of one dataset from the tables and the runs' samples; plotting
    options are params here alone, so changing them redraws without retraining."""
    input:
        tables=TABLES,
        samples=dataset_samples,
    output:
        FIGURES,
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


localrules:
    figures,
