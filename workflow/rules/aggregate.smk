rule aggregate:
    """One tidy row per run (failed runs included) and a summary per cell."""
    input:
        run_files(TRAIN_FILES + EVAL_FILES),
    output:
        TABLES,
    params:
        runs=run_dirs,
        skipped=skipped_cells,
        analysis=json.dumps(config["analysis"], sort_keys=True),
    log:
        "results/logs/aggregate.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.aggregate --out results/tables --analysis {params.analysis:q}"
        " --skipped {params.skipped:q} {params.runs:q} > {log:q} 2>&1"
