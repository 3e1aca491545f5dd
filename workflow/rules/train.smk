rule train:
    """Train one run; its resolved config is a param, so changing it retrains."""
    input:
        training_data,
    output:
        [f"{RUN}/{name}" for name in TRAIN_FILES],
    log:
        "results/logs/train/{dataset}/{variant}/{loss}/seed{seed}.log",
    wildcard_constraints:
        dataset=_alternatives(ONE_SEED_DATASETS),
    conda:
        "../../environment.yml"
    threads: config["train"]["threads"]
    resources:
        runtime=train_runtime,
        mem_mb=train_mem_mb,
        gpu=train_gpu,
    params:
        run=train_params,
        out=output_folder,
    shell:
        "python -m gans.train --run-config {params.run:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"


# Several seeds of a cell in one job (train.seeds_per_job > 1): one rule per group of
# seeds, each writing every seed's own run folder.
share_overrides("train", [f"train_{name}" for name in SEED_GROUPS])

for group_name, group in SEED_GROUPS.items():

    rule:
        name:
            f"train_{group_name}"
        input:
            training_data,
        output:
            group_outputs(group.seeds),
        log:
            f"results/logs/train/{{dataset}}/{{variant}}/{{loss}}/seeds{seeds_label(group.seeds)}.log",
        wildcard_constraints:
            dataset=_alternatives(group.datasets),
            variant=_alternatives(group.variants),
            loss=_alternatives(group.losses),
        conda:
            "../../environment.yml"
        threads: config["train"]["threads"]
        resources:
            runtime=group_runtime(group.seeds),
            mem_mb=train_mem_mb,
            gpu=train_gpu,
        params:
            run=group_train_params(group.seeds),
            out=group_output_folders,
        shell:
            "python -m gans.train --run-config {params.run:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"
