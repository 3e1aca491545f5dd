rule evaluate:
    """Metrics at every evaluation point of one run; never retrains."""
    input:
        [f"{RUN}/{name}" for name in TRAIN_FILES],
        evaluation_inputs,
    output:
        [f"{RUN}/{name}" for name in EVAL_FILES],
    log:
        "results/logs/evaluate/{dataset}/{variant}/{loss}/seed{seed}.log",
    wildcard_constraints:
        dataset=_alternatives(ONE_SEED_DATASETS),
    conda:
        "../../environment.yml"
    resources:
        runtime=evaluate_runtime,
        mem_mb=evaluate_mem_mb,
        gpu=evaluate_gpu,
    params:
        evaluation=eval_params,
        run=input_folder,
    shell:
        "python -m metrics.evaluate --eval-config {params.evaluation:q} --run {params.run:q} 2>&1 | tee {log:q} >&2"


# A seed group's runs (train.seeds_per_job > 1) evaluated in one process, as they
# were trained: imports and the feature extractor load once per group, not per run.
share_overrides("evaluate", [f"evaluate_{name}" for name in SEED_GROUPS])

for group_name, group in SEED_GROUPS.items():

    rule:
        name:
            f"evaluate_{group_name}"
        input:
            group_outputs(group.seeds),
            evaluation_inputs,
        output:
            group_outputs(group.seeds, EVAL_FILES),
        log:
            f"results/logs/evaluate/{{dataset}}/{{variant}}/{{loss}}/seeds{seeds_label(group.seeds)}.log",
        wildcard_constraints:
            dataset=_alternatives(group.datasets),
            variant=_alternatives(group.variants),
            loss=_alternatives(group.losses),
        conda:
            "../../environment.yml"
        resources:
            runtime=group_evaluate_runtime(group.seeds),
            mem_mb=evaluate_mem_mb,
            gpu=evaluate_gpu,
        params:
            evaluation=eval_params,
            runs=group_output_folders,
        shell:
            "python -m metrics.evaluate --eval-config {params.evaluation:q} --run {params.runs:q} 2>&1 | tee {log:q} >&2"
