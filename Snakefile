# The GAN benchmark: train every dataset x variant x loss x seed, evaluate each run,
# aggregate into tables and draw the figures. The logic lives in the gans and
# metrics packages; the rules only wire their CLIs together.
import os

from analysis.launch import check_yaml, launch

# The default config: the working folder's (--directory FOLDER: a study of its own may
# hold one), else the suite's
DEFAULT_CONFIG = next(
    p for p in ("config/config.yaml", os.path.join(workflow.basedir, "config/config.yaml")) if os.path.exists(p)
)
check_yaml(DEFAULT_CONFIG)  # a YAML error names its file and line

# The default config, unless the command line gives one (--configfile): Snakemake would
# merge the two, and a config would take every key of the default it does not set.
if not workflow.overwrite_configfiles:

    configfile: DEFAULT_CONFIG


launch(config, workflow)  # --config values typed, then schema + registries: a bad key or value fails here, in one line


include: "workflow/rules/common.smk"
include: "workflow/rules/search_common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/reproductions.smk"
include: "workflow/rules/dirac.smk"


rule all:
    default_target: True
    input:
        # every population's evaluation is a target too, so a deleted run is rebuilt
        # (its markers are stale then: common.smk's announce_populations)
        run_evaluations(RUNS),
        TABLES,
        expand(FIGURES, dataset=DATASETS_IN_GRID, allow_missing=True),
        cell_figures(),
        REPRODUCTION_TABLES,
        search_outputs(),
