# One command each, from a fresh clone with Python >= 3.11 (no conda needed):
#   make run        set up .venv and run the default pipeline (snakemake --cores all)
#   make test       set up .venv and run the test suite (unit and workflow tests)
#   make test-fast  the unit tests alone (no Snakemake; under two minutes)
#   make lint       snakemake --lint, ruff and snakefmt
#   make test-numerics  the training-outcome tests again under other float rounding (docs/testing.md)
#   make check CONFIG=config/full.yaml   check a config file: names the file, line and key at fault
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin
# Snakemake's jobs run `python -m ...`: put the environment first, as activation would
export PATH := $(abspath $(BIN)):$(PATH)
# torch and torchvision come straight from PyPI (the CUDA build, which also runs on
# CPU). --isolated skips local pip config whose find-links may offer a CPU-only torch
# that the registry's torchvision cannot load; set TORCH_PIP_FLAGS= to use your config.
TORCH_PIP_FLAGS ?= --isolated
TORCH := torch==2.13.0 torchvision==0.28.0

.PHONY: setup run test test-fast test-numerics lint check report reference clean-results

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_FLAGS) $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest tests/unit

# nudged initial weights and flushed denormals: a threshold that holds only
# on the CPU where it was measured fails here (tests/numerics.py)
NUMERICS ?= nudge-init,flush-denormal
test-numerics: setup
	GANS_TEST_NUMERICS=$(NUMERICS) $(BIN)/python -m pytest -m training_outcome tests/unit

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/ruff check gans metrics analysis benchmarks tests docs
	$(BIN)/ruff format --check gans metrics analysis benchmarks tests docs
	$(BIN)/snakefmt --check Snakefile workflow/rules

# a config file checked as the pipeline checks it (file, line and key of a mistake)
CONFIG ?= config/config.yaml
check: setup
	$(BIN)/python -m analysis.launch $(CONFIG)

# every table and figure redrawn from the existing runs, then the report
report: setup
	$(BIN)/snakemake --cores $(CORES) analysis --forcerun aggregate
	$(BIN)/snakemake --report results/report.html

# refresh the tracked results/reference/ from the existing runs
reference: setup
	$(BIN)/snakemake --cores $(CORES) reference --forcerun aggregate

clean-results:
	rm -rf results/runs results/tables results/figures results/logs
