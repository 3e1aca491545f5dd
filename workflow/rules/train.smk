rule train:
    """Train one run; its resolved config is a param, so changing it retrains."""
    wildcard_constraints:
        dataset=_alternatives(ONE_SEED_DATASETS),
    input:
        training_data,
    output:
        [f"{RUN}/{name}" for name in TRAIN_FILES],
    params:
        run=train_params,
        out=output_folder,
    log:
        "results/logs/train/{dataset}/{variant}/{loss}/seed{seed}.log",
    threads: config["train"]["threads"]
    resources:
        runtime=train_runtime,
        mem_mb=train_mem_mb,
        gpu=train_gpu,
    conda:
        "../../environment.yml"
    shell:
        "python -m gans.train --run-config {params.run:q} --out {params.out:q} > {log:q} 2>&1"


# Several seeds of a cell in one job (train.seeds_per_job > 1): one rule per group of
# seeds, each writing every seed's own run folder.
for group_name, group in SEED_GROUPS.items():

    rule:
        name:
            f"train_{group_name}"
        wildcard_constraints:
            dataset=_alternatives(group["datasets"]),
            variant=_alternatives(group["variants"]),
            loss=_alternatives(group["losses"]),
        input:
            training_data,
        output:
            chunk_outputs(group["chunk"]),
        params:
            run=chunk_train_params(group["chunk"]),
            out=chunk_output_folders,
        log:
            f"results/logs/train/{{dataset}}/{{variant}}/{{loss}}/seeds{chunk_name(group['chunk'])}.log",
        threads: config["train"]["threads"]
        resources:
            runtime=chunk_runtime(group["chunk"]),
            mem_mb=train_mem_mb,
            gpu=train_gpu,
        conda:
            "../../environment.yml"
        shell:
            "python -m gans.train --run-config {params.run:q} --out {params.out:q} > {log:q} 2>&1"
