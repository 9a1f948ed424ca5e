# Autograd by Example: `make html` builds the site, `make test` runs the tests.
# Both create .venv and install the pinned dependencies on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
SPHINXOPTS ?= -W --keep-going
BUILDDIR := _build
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH ?= 1764201600

.PHONY: help install html test lint clean bench bench-build lock mutation-docs

help:
	@echo "make html         build the site into $(BUILDDIR)/html (sets up $(VENV) first)"
	@echo "make test         run the whole test suite (sets up $(VENV) first)"
	@echo "make lint         ruff over src, tests, gallery, benchmarks"
	@echo "make bench-build  time clean, no-op and one-example rebuilds against 'import torch'"
	@echo "make bench        gradkit speed and memory benchmark"
	@echo "make mutation-docs  corrupt each derivative and check on every page; report caught/tried"
	@echo "make lock         re-resolve $(CONSTRAINTS) (needs the registries)"
	@echo "make clean        remove the build and generated pages (keeps $(VENV))"

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[docs,test,dev,bench]'
	touch $@

html: $(STAMP)
	$(BIN)/sphinx-build -b html -c . $(SPHINXOPTS) docs $(BUILDDIR)/html
	@echo "Site built: open $(BUILDDIR)/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests gallery benchmarks conf.py docs/_ext

bench-build: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

lock:
	rm -rf /tmp/gradkit-lock && $(PYTHON) -m venv /tmp/gradkit-lock
	/tmp/gradkit-lock/bin/python -m pip install --quiet -e '.[docs,test,dev,bench]'
	/tmp/gradkit-lock/bin/python -m pip freeze --exclude-editable \
	  | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/' > $(CONSTRAINTS)

clean:
	rm -rf $(BUILDDIR) docs/auto_examples docs/gen_modules docs/jupyter_execute docs/sg_execution_times.rst

mutation-docs: $(STAMP)
	$(BIN)/python tests/mutation_docs.py
