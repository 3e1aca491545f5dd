# The Dirac-GAN against its theory (metrics/dirac.py): every dirac run's outcome
# label beside what Mescheder et al. (2018) predict, and the phase portrait.
# (its helpers: common.smk)


rule dirac:
    """Theory table and phase portrait of the grid's Dirac-GAN runs."""
    input:
        run_evaluations(grid_runs("dirac")),
    output:
        table=multiext("results/tables/dirac", ".csv", ".md"),
        figure="results/figures/dirac/phase_portrait.png",
    log:
        "results/logs/dirac.log",
    conda:
        "../../environment.yml"
    params:
        analysis=dirac_analysis,
        runs=DIRAC_RUNS,
        stem=table_stem,
    shell:
        '"$PYTHON" -m analysis.dirac --analysis {params.analysis:q} --runs {params.runs:q}'
        " --table {params.stem:q} --figure {output.figure:q} 2>&1 | tee {log:q} >&2"
