# The reproductions table (config key 'reproductions', filled by config/reproductions.yaml):
# each published anchor beside the grid cell that runs its protocol, with a verdict.
from metrics.reproductions import check_cells

REPRODUCTION_CELLS = {(c["dataset"], c["variant"], c["loss"]) for c in config["reproductions"].values()}
check_cells(config["reproductions"], {(r["dataset"], r["variant"], r["loss"]) for r in RUNS})
REPRODUCTION_TABLES = (
    ["results/tables/reproductions.csv", "results/tables/reproductions.md"] if config["reproductions"] else []
)


def reproduction_runs(wildcards):
    """The evaluated runs of every cell an anchor maps to."""
    return [
        f"{RUN}/{name}".format(**run)
        for run in RUNS
        if (run["dataset"], run["variant"], run["loss"]) in REPRODUCTION_CELLS
        for name in EVAL_FILES
    ]


if REPRODUCTION_TABLES:

    rule reproductions:
        """Measured numbers beside the published ones; the anchors are a param, so
        changing the mapping rebuilds only this table."""
        input:
            reproduction_runs,
        output:
            REPRODUCTION_TABLES,
        log:
            "results/logs/reproductions.log",
        conda:
            "../../environment.yml"
        params:
            runs=input_run_folders,
            cells=json.dumps(config["reproductions"], sort_keys=True),
            out=output_folder,
        shell:
            "python -m metrics.reproductions --out {params.out:q} --cells {params.cells:q}"
            " {params.runs:q} > {log:q} 2>&1"

    localrules:
        reproductions,
