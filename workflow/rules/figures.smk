rule figures:
    """Figures of one dataset from the tables and the runs' samples; plotting
    options are params here alone, so changing them redraws without retraining."""
    input:
        tables=TABLES,
        samples=dataset_samples,
    output:
        dataset_figures(),
    log:
        "results/logs/figures/{dataset}.log",
    conda:
        "../../environment.yml"
    params:
        options=figure_params,
        tables=input_folder,
        out=output_folder,
    shell:
        "python -m analysis.figures --dataset {wildcards.dataset} --tables {params.tables:q}"
        " --options {params.options:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"


# Each dataset's cell figures (one per variant x loss: its seeds side by side, collapse
# and divergence marked) drawn in one process, beside the dataset figures; one rule per
# dataset, since a rule's outputs are a fixed list of files. Loop variables reach the
# command through params only: a shell string is formatted when the job runs, when the
# loop has ended.
for dataset, cells in CELLS_BY_DATASET.items():

    rule:
        name:
            f"cell_figures_{rule_suffix(dataset)}"
        input:
            tables=TABLES,
            samples=compared_runs([SAMPLES], dataset),
        output:
            [
                report(
                    CELL_FIGURE.format(dataset=dataset, variant=variant, loss=loss),
                    caption="../report/cell.rst",
                    category=dataset,
                    subcategory="4 cells",
                    labels={"dataset": dataset, "variant": variant, "loss": loss},
                )
                for variant, loss in cells
            ],
        log:
            f"results/logs/figures/{dataset}/cells.log",
        localrule: True
        conda:
            "../../environment.yml"
        params:
            options=figure_params,
            tables=input_folder,
            dataset=dataset,
            cells=" ".join(f"--cell {shlex.quote(v)} {shlex.quote(l)}" for v, l in cells),
            out=cells_folder,
        shell:
            "python -m analysis.figures --dataset {params.dataset:q} {params.cells} --tables {params.tables:q}"
            " --options {params.options:q} --out {params.out:q} 2>&1 | tee {log:q} >&2"


localrules:
    figures,
