# Two commands do all set-up on a fresh machine: `make reproduce` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PRESET ?= quick
DATASET ?=
DEVICE ?= auto
JOBS ?= auto
STAMP := $(VENV)/.installed-stamp

.PHONY: help venv data reproduce test lint sync lab bench results-table docs clean

help:
	@echo "make reproduce [PRESET=smoke|quick|paper] [DATASET=mnist5k|fashion_mnist|mnist|...] [DEVICE=auto|cpu|cuda] [JOBS=auto|N]"
	@echo "make test      unit tests + every notebook at the smoke preset"
	@echo "make data      obtain the datasets the notebooks use (Fashion-MNIST: Debian package as root, else a download)"
	@echo "make sync      pair notebooks/NN_*.py and NN_*.ipynb after an edit outside JupyterLab"
	@echo "make lab       JupyterLab on notebooks/"
	@echo "make bench     [NAME=sweep|memory_format|profile|head_check|cut_scores] [BENCH_ARGS=...] -> benchmarks/measured/ (no NAME: the CPU set)"
	@echo "make docs      regenerate the generated tables and figures of README.md and docs/"
	@echo "make clean     remove results/ and caches (keeps .venv and data/)"

# Creates .venv if missing and installs the package with its dev and ray extras (torch pinned by range).
# A fully pinned set: `pip install -r requirements.lock && pip install -e . --no-deps`.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[dev,ray]'
	touch $(STAMP)

venv: $(STAMP)

# Every dataset the notebooks use at $(PRESET) and at smoke (make test): on disk already, else Debian's
# package (as root, with apt-get), else a torchvision download; one line each, and never a failure
# here: the runner skips, with the reason, a notebook whose data cannot be had.
data: $(STAMP)
	$(PY) -m reuse_utils.companion.data --notebooks notebooks --preset $(PRESET) --preset smoke $(if $(DATASET),--dataset $(DATASET),)

reproduce: data
	$(PY) -m reuse_utils.companion.runner --notebooks notebooks --results results --preset $(PRESET) --device $(DEVICE) --jobs $(JOBS) $(if $(DATASET),--dataset $(DATASET),)

test: $(STAMP)
	$(PY) -m reuse_utils.companion.data --notebooks notebooks --preset smoke
	$(PY) -m ruff check reuse_utils tests benchmarks tools notebooks/*.py
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check reuse_utils tests benchmarks tools notebooks/*.py
	$(VENV)/bin/lint-imports

# After editing a notebook's .py source outside JupyterLab, bring its .ipynb in step (and back).
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.py

# JupyterLab refuses to start as root unless told; containers and CI machines often run as root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = "0" ] && echo --allow-root )

# The README's results table from results_quick/ and results_paper/ claims.json (after copying a run there).
results-table: $(STAMP)
	$(PY) -m reuse_utils.companion.results_table --readme README.md --quick results_quick --paper results_paper

# The generated parts of README.md and docs/: the results tables (results_quick/, results_paper/
# claims.json), docs/performance.md's tables (benchmarks/measured/*.json) and docs/figures/ (from
# results_quick/report.html). `python -m reuse_utils.companion.docs_tables --check` only checks.
docs: $(STAMP)
	$(PY) -m reuse_utils.companion.docs_tables

# One benchmark (NAME) or, without NAME, the default CPU set (python -m benchmarks --list), each a
# record of one schema (benchmarks/harness.py) in benchmarks/measured/; BENCH_ARGS go to the benchmark.
bench: $(STAMP)
	$(PY) -m benchmarks $(NAME) --preset $(PRESET) $(BENCH_ARGS)

clean:
	rm -rf results .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
