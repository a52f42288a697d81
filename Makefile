# The two commands of the README. Both build .venv from the lock file on first use and
# reuse it afterwards (it is rebuilt when requirements.lock or pyproject.toml change).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: reproduce test test-all dry-run clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	@echo "The report: $(CURDIR)/results/report/report.html"

# The unit tests and one end-to-end smoke run: about 10 minutes on 2 cores, no root.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not slurm"

# Everything: also the extra workflow runs and the smoke preset on a one-node SLURM that the
# test installs (Debian's packages, as root) and starts; about 45 minutes on 2 cores.
test-all: $(STAMP)
	$(BIN)/python -m pytest

dry-run: $(STAMP)
	$(BIN)/snakemake -n

clean:
	rm -rf results logs benchmarks .snakemake
