# Calibration values of each dataset x extractor x sample size: held-out real data,
# uniform noise and an untrained generator against the real side of evaluation
# (metrics/calibration.py), once; the aggregation places every run's outcome between them.
from metrics.calibration import CALIBRATION, POINTS, calibration_path


def calibration_files():
    return sorted({calibration_path(d, resolve_eval(config, d)) for d in DATASETS_IN_GRID})


def calibration_inputs(wildcards):
    """Images need the extractor and the real features, as evaluation does."""
    return evaluation_inputs(wildcards)


def calibration_run(wildcards):
    """The plain GAN's run on this dataset: its generator, untrained, is one calibration kind."""
    return json.dumps(gcfg.resolve_run(config, wildcards.dataset, "gan", "nonsaturating", 0), sort_keys=True)


rule calibrate:
    """Calibration values of one dataset x extractor x sample size."""
    input:
        calibration_inputs,
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
        "python -m metrics.calibration --run-config {params.run:q} --eval-config {params.evaluation:q}"
        " --draws {params.draws} --out {output:q} > {log:q} 2>&1"
