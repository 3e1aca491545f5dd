# The reproductions table (config key 'reproductions', filled by config/reproductions.yaml):
# each published anchor beside the grid cell that runs its protocol, with a verdict.
if REPRODUCTION_TABLES:

    rule reproductions:
        """Measured numbers beside the published ones; the anchors are a param, so
        changing the mapping rebuilds only this table."""
        input:
            reproduction_evaluations,
        output:
            REPRODUCTION_TABLES,
        log:
            "results/logs/reproductions.log",
        conda:
            "../../environment.yml"
        params:
            runs=reproduction_folders,
            cells=json.dumps(config["reproductions"], sort_keys=True),
            out=output_folder,
        shell:
            '"$PYTHON" -m analysis.reproductions --out {params.out:q} --cells {params.cells:q}'
            " {params.runs:q} 2>&1 | tee {log:q} >&2"

    localrules:
        reproductions,
