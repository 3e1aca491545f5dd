rule prepare_data:
    """Fetch an image dataset once (or check it is present offline)."""
    output:
        DATA_READY,
    log:
        "results/logs/prepare_data/{dataset}.log",
    wildcard_constraints:
        dataset=_alternatives(DATA_DATASETS),
    conda:
        "../../environment.yml"
    params:
        dataset=dataset_spec,
    shell:
        '"$PYTHON" -m gans.prepare_data --dataset-config {params.dataset:q} --out {output:q} 2>&1 | tee {log:q} >&2'


rule train_lenet:
    """The LeNet classifier of one MNIST-family dataset: trained once, seeded, its
    test accuracy recorded beside the weights."""
    input:
        data_ready_of_source,
    output:
        weights=LENET_WEIGHTS,
        record=LENET_RECORD,
    log:
        "results/logs/train_lenet/{source}.log",
    wildcard_constraints:
        source=_alternatives(LENET_SOURCES),
    conda:
        "../../environment.yml"
    threads: config["evaluation"]["lenet"]["threads"]
    params:
        dataset=source_spec,
        train=lenet_train_params,
    shell:
        '"$PYTHON" -m metrics.extractors.lenet --dataset-config {params.dataset:q} --train-config {params.train:q}'
        " --out {output.weights:q} 2>&1 | tee {log:q} >&2"


rule real_features:
    """Features of the real test images, once per dataset x extractor, reused by
    every evaluation of that dataset."""
    input:
        real_features_inputs,
    output:
        REAL_FEATURES,
    log:
        "results/logs/real_features/{dataset}/{extractor}.log",
    wildcard_constraints:
        extractor=_alternatives(EXTRACTORS.names()),
    conda:
        "../../environment.yml"
    params:
        dataset=dataset_spec,
        evaluation=eval_params,
    shell:
        '"$PYTHON" -m metrics.images --dataset-config {params.dataset:q} --eval-config {params.evaluation:q}'
        " --out {output:q} 2>&1 | tee {log:q} >&2"
