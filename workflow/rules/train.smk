rule train:
    """Train one population (gans/config/populations.py): its runs in one process, one
    batched model where the set-up allows; each run writes its own folder, then the
    population's marker lists them. The runs' resolved configs are a param, so
    changing one retrains the population."""
    input:
        population_inputs,
    output:
        POPULATION,
    log:
        "results/logs/train/{population}.log",
    wildcard_constraints:
        population=_alternatives([*POPULATIONS, *LATE_POPULATIONS]),
    conda:
        "../../environment.yml"
    threads: config["train"]["threads"]
    resources:
        runtime=population_runtime,
        mem_mb=population_mem_mb,
        gpu=population_gpu,
    params:
        runs=population_runs,
        out=population_folders,
    shell:
        '"$PYTHON" -m gans.population_job --population {wildcards.population:q} --run-config {params.runs:q}'
        " --out {params.out:q} --marker {output:q} 2>&1 | tee {log:q} >&2"
