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
    log:
        "results/logs/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.figures --dataset {wildcards.dataset} --tables results/tables"
        " --options {params.options:q} --out results/figures/{wildcards.dataset} > {log:q} 2>&1"
