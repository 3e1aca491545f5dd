rule prepare_data:
    """Fetch an image dataset once (or check it is present offline)."""
    output:
        DATA_READY,
    params:
        dataset=dataset_spec,
    log:
        "results/logs/prepare_data/{dataset}.log",
    conda:
        "../../environment.yml"
    wildcard_constraints:
        dataset=_alternatives(DATA_DATASETS),
    shell:
        "python -m gans.prepare_data --dataset-config {params.dataset:q} --out {output:q} > {log:q} 2>&1"


rule train_lenet:
    """The LeNet classifier of one MNIST-family dataset: trained once, seeded, its
    test accuracy recorded beside the weights."""
    input:
        data_ready_of_source,
    output:
        weights=LENET_WEIGHTS,
        record=LENET_RECORD,
    params:
        dataset=source_spec,
        train=lenet_train_params,
    log:
        "results/logs/train_lenet/{source}.log",
    threads: config["evaluation"]["lenet"]["threads"]
    conda:
        "../../environment.yml"
    wildcard_constraints:
        source=_alternatives(LENET_SOURCES),
    shell:
        "python -m metrics.extractors.lenet --dataset-config {params.dataset:q} --train-config {params.train:q}"
        " --out {output.weights:q} > {log:q} 2>&1"


rule real_features:
    """Features of the real test images, once per dataset x extractor, reused by
    every evaluation of that dataset."""
    input:
        real_features_inputs,
    output:
        REAL_FEATURES,
    params:
        dataset=dataset_spec,
        evaluation=eval_params,
    log:
        "results/logs/real_features/{dataset}/{extractor}.log",
    conda:
        "../../environment.yml"
    wildcard_constraints:
        extractor=_alternatives(EXTRACTORS.names()),
    shell:
        "python -m metrics.images --dataset-config {params.dataset:q} --eval-config {params.evaluation:q}"
        " --out {output:q} > {log:q} 2>&1"
