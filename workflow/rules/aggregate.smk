# Tables shown in the report, with their captions.
REPORTED_TABLES = {
    "results/tables/summary.csv": "summary.rst",
    "results/tables/rankings.csv": "rankings.rst",
    "results/tables/rankings_pairs.csv": "rankings_pairs.rst",
    "results/tables/baseline_check.csv": "baseline_check.rst",
    "results/tables/loss_tracking.csv": "loss_tracking.rst",
    "results/tables/runs.csv": "runs.rst",
    "results/tables/calibration.csv": "calibration.rst",
}


rule aggregate:
    """One tidy row per run (failed runs included), the stability analysis and the
    summary per cell; analysis options are params, so changing them re-aggregates only."""
    input:
        runs=compared_evaluations,
        calibration=calibration_files(),
    output:
        [
            (
                report(
                    t,
                    caption=f"../report/{REPORTED_TABLES[t]}",
                    category="Tables",
                    labels={"table": os.path.basename(t)},
                )
                if t in REPORTED_TABLES
                else t
            )
            for t in TABLES
        ],
    log:
        "results/logs/aggregate.log",
    conda:
        "../../environment.yml"
    params:
        runs=compared_folders,
        skipped=skipped_cells,
        tuning=tuning_of_cells,
        analysis=json.dumps(config["analysis"], sort_keys=True),
        out=output_folder,
    shell:
        '"$PYTHON" -m analysis.aggregate --out {params.out:q} --analysis {params.analysis:q}'
        " --skipped {params.skipped:q} --tuning {params.tuning:q} --calibration {input.calibration:q}"
        " -- {params.runs:q} 2>&1 | tee {log:q} >&2"


# small jobs: on a cluster they run on the submit host instead of waiting in the queue
localrules:
    aggregate,
