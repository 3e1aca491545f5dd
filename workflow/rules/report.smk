# Targets that rebuild the analysis from existing runs, and the curated reference copy.
#   snakemake --cores all analysis --forcerun aggregate   every table and figure, no retraining
#   snakemake --report results/report.html             the report (figures and tables above)
#   snakemake --cores all reference --forcerun aggregate  refresh results/reference/ (tracked)


report: "../report/workflow.rst"


rule analysis:
    """Every table and figure (what the report shows)."""
    input:
        TABLES,
        expand(FIGURES, dataset=DATASETS_IN_GRID, allow_missing=True),
        cell_figures(),
        search_outputs(),


rule reference:
    """Copy the summary tables and main figures into results/reference/ with the config."""
    input:
        reference_sources(),
    output:
        reference_outputs(),
    log:
        "results/logs/reference.log",
    conda:
        "../../environment.yml"
    params:
        config=config_json,
        out=output_folder,
        configfiles=config_files_given,
    shell:
        '"$PYTHON" -m analysis.reference --out {params.out:q} --config {params.config:q} '
        "--configfiles={params.configfiles:q} {input:q} 2>&1 | tee {log:q} >&2"
