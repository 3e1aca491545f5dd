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
for chunk, chunk_datasets in SEED_CHUNKS.items():

    rule:
        name:
            f"train_seeds_{chunk_name(chunk).replace('-', '_')}"
        wildcard_constraints:
            dataset=_alternatives(chunk_datasets),
        input:
            training_data,
        output:
            chunk_outputs(chunk),
        params:
            run=chunk_train_params(chunk),
            out=chunk_output_folders,
        log:
            f"results/logs/train/{{dataset}}/{{variant}}/{{loss}}/seeds{chunk_name(chunk)}.log",
        threads: config["train"]["threads"]
        resources:
            runtime=chunk_runtime(chunk),
            mem_mb=train_mem_mb,
            gpu=train_gpu,
        conda:
            "../../environment.yml"
        shell:
            "python -m gans.train --run-config {params.run:q} --out {params.out:q} > {log:q} 2>&1"
