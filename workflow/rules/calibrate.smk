# Calibration values of each dataset x extractor x sample size: held-out real data,
# uniform noise and an untrained generator against the real side of evaluation
# (metrics/calibration.py), once; the aggregation places every run's outcome between them.
rule calibrate:
    """Calibration values of one dataset x extractor x sample size."""
    input:
        evaluation_inputs,  # images: the extractor and the real features, as evaluation
    output:
        CALIBRATION,
    log:
        "results/logs/calibrate/{dataset}/{extractor}_{n}.log",
    wildcard_constraints:
        extractor=_alternatives([*EXTRACTORS.names(), POINTS]),
        n=r"\d+",
    conda:
        "../../environment.yml"
    params:
        run=calibration_run,
        evaluation=eval_params,
        draws=config["evaluation"]["calibration"]["draws"],
    shell:
        '"$PYTHON" -m metrics.calibration --run-config {params.run:q} --eval-config {params.evaluation:q}'
        " --draws {params.draws} --out {output:q} 2>&1 | tee {log:q} >&2"
