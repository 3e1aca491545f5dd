rule train:
    """Train one run; its resolved config is a param, so changing it retrains."""
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
