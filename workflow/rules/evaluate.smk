rule evaluate:
    """Metrics at every evaluation point of one run, once its population has trained;
    never retrains."""
    input:
        run_population,
        evaluation_inputs,
    output:
        [f"{RUN}/{name}" for name in EVAL_FILES],
    log:
        "results/logs/evaluate/{dataset}/{variant}/{loss}/seed{seed}.log",
    conda:
        "../../environment.yml"
    resources:
        runtime=evaluate_runtime,
        mem_mb=evaluate_mem_mb,
        gpu=evaluate_gpu,
    params:
        evaluation=eval_params,
        run=run_folder,
    shell:
        '"$PYTHON" -m metrics.evaluate --eval-config {params.evaluation:q} --run {params.run:q} 2>&1 | tee {log:q} >&2'
