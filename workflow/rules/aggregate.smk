rule aggregate:
    """One tidy row per run (failed runs included) and a summary per cell."""
    input:
        run_files(TRAIN_FILES + EVAL_FILES),
    output:
        TABLES,
    params:
        runs=input_run_folders,
        skipped=skipped_cells,
        analysis=json.dumps(config["analysis"], sort_keys=True),
        out=output_folder,
    log:
        "results/logs/aggregate.log",
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.aggregate --out {params.out:q} --analysis {params.analysis:q}"
        " --skipped {params.skipped:q} {params.runs:q} > {log:q} 2>&1"


# small jobs: on a cluster they run on the submit host instead of waiting in the queue
localrules:
    aggregate,
