rule evaluate:
    """Metrics at every evaluation point of one population's runs, once it has trained:
    its runs one after another in one process, the real side made once; never retrains.
    Each run's files are in its folder; the marker lists the members' folders and files."""
    input:
        trained=POPULATION,
        evaluation=evaluation_inputs,
    output:
        EVALUATION,
    log:
        "results/logs/evaluate/{population}.log",
    wildcard_constraints:
        population=_alternatives([*POPULATIONS, *LATE_POPULATIONS]),
    conda:
        "../../environment.yml"
    resources:
        runtime=evaluation_runtime,
        mem_mb=evaluation_mem_mb,
        gpu=evaluation_gpu,
    params:
        evaluation=eval_params,
    shell:
        '"$PYTHON" -m metrics.evaluate --eval-config {params.evaluation:q} --runs-from {input.trained:q}'
        " --marker {output:q} 2>&1 | tee {log:q} >&2"
