rule evaluate:
    """Metrics at every evaluation point of one run; never retrains."""
    wildcard_constraints:
        dataset=_alternatives(ONE_SEED_DATASETS),
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


# A seed group's runs (train.seeds_per_job > 1) evaluated in one process, as they
# were trained: imports and the feature extractor load once per group, not per run.
for group_name, group in SEED_GROUPS.items():

    rule:
        name:
            f"evaluate_{group_name}"
        wildcard_constraints:
            dataset=_alternatives(group["datasets"]),
            variant=_alternatives(group["variants"]),
            loss=_alternatives(group["losses"]),
        input:
            chunk_outputs(group["chunk"]),
            evaluation_inputs,
        output:
            chunk_outputs(group["chunk"], EVAL_FILES),
        params:
            evaluation=eval_params,
            runs=chunk_output_folders,
        log:
            f"results/logs/evaluate/{{dataset}}/{{variant}}/{{loss}}/seeds{chunk_name(group['chunk'])}.log",
        resources:
            runtime=chunk_evaluate_runtime(group["chunk"]),
            mem_mb=evaluate_mem_mb,
            gpu=evaluate_gpu,
        conda:
            "../../environment.yml"
        shell:
            "python -m metrics.evaluate --eval-config {params.evaluation:q} --run {params.runs:q} > {log:q} 2>&1"
