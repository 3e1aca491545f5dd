rule evaluate:
    """Metrics at every evaluation point of one run; never retrains."""
    input:
        [f"{RUN}/{name}" for name in TRAIN_FILES],
        evaluation_inputs,
    output:
        [f"{RUN}/{name}" for name in EVAL_FILES],
    params:
        evaluation=eval_params,
        run=input_folder,
    log:
        "results/logs/evaluate/{dataset}/{variant}/{loss}/seed{seed}.log",
    resources:
        runtime=evaluate_runtime,
        mem_mb=evaluate_mem_mb,
        gpu=evaluate_gpu,
    conda:
        "../../environment.yml"
    shell:
        "python -m metrics.evaluate --eval-config {params.evaluation:q} --run {params.run:q} > {log:q} 2>&1"
