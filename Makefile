# Autograd by Example: `make html` builds the site, `make test` runs the tests.
# Both create .venv and install the pinned dependencies on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
SPHINXOPTS ?= -W --keep-going -j auto
# sphinx-build minus the interpreter's teardown at exit (0.6 s): see the script
SPHINXBUILD ?= $(BIN)/python docs/_ext/sphinx_build.py
BUILDDIR := _build
export PYTHONHASHSEED := 0
# One thread for torch everywhere the site's code runs: on a busy 2-core machine
# two OpenMP threads spin against each other (a 2 s example took 100 s), and
# results must not depend on the thread count (see docs/_ext/site_hooks.py).
export OMP_NUM_THREADS := 1
# Fixed build date (2026-11-27) for reproducible pages; Sphinx also takes the copyright year from it.
export SOURCE_DATE_EPOCH ?= 1795737600

.PHONY: help install html test lint clean bench bench-quick bench-build lock mutation-docs record-values check-reproducible check-links

help:
	@echo "make html         build the site into $(BUILDDIR)/html (sets up $(VENV) first)"
	@echo "make test         run the whole test suite (sets up $(VENV) first)"
	@echo "make lint         ruff over src, tests, gallery, benchmarks"
	@echo "make bench-build  time clean, no-op and one-example rebuilds against 'import torch'"
	@echo "make bench        gradkit speed and memory benchmark (writes benchmarks/results/)"
	@echo "make bench-quick  a ~2 minute smoke run of the same benchmark"
	@echo "make mutation-docs  corrupt each derivative and check on every page; report caught/tried"
	@echo "make record-values  re-record the printed values the tests compare against (review the diff)"
	@echo "make check-links  every internal link and anchor of the built site resolves (offline)"
	@echo "make check-reproducible  two clean builds must give identical page text"
	@echo "make test-browser every page in headless Chromium: no console error, no outside request, axe"
	@echo "make test-lighthouse  Lighthouse (mobile) scores, layout shift and weight of key pages; fails on a missed target"
	@echo "make serve        serve $(BUILDDIR)/html on http://127.0.0.1:8000"
	@echo "make livehtml     rebuild and reload on change (sphinx-autobuild)"
	@echo "make check-publishing  validate .readthedocs.yaml and the GitHub workflow against their schemas"
	@echo "make mutation-gradkit  mutmut over src/gradkit; report killed/survived"
	@echo "make inventories  regenerate the committed intersphinx inventories from the installed packages"
	@echo "make lock         re-resolve $(CONSTRAINTS) (needs the registries)"
	@echo "make clean        remove the build and generated pages (keeps $(VENV))"

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[docs,test,dev]'
	touch $@

# neurodiffeq and DeepXDE, the baselines of `make bench`, only when benchmarking.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[bench]'
	touch $@

html: $(STAMP) katex
	$(SPHINXBUILD) -b html -c . $(SPHINXOPTS) docs $(BUILDDIR)/html
	@echo "Site built: open $(BUILDDIR)/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests gallery benchmarks conf.py docs/_ext

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_gradkit.py --out benchmarks/results/cpu.json --md benchmarks/results/cpu.md
	$(BIN)/python benchmarks/plot_results.py benchmarks/results/cpu.json --out benchmarks/results/w1_laplacian.png

bench-quick: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_gradkit.py --quick --out _build/bench/quick.json --md _build/bench/quick.md

bench-build: $(STAMP) katex
	SPHINXBUILD="$(SPHINXBUILD)" SPHINXOPTS="$(SPHINXOPTS)" $(BIN)/python benchmarks/bench_build.py

lock:
	rm -rf /tmp/gradkit-lock && $(PYTHON) -m venv /tmp/gradkit-lock
	/tmp/gradkit-lock/bin/python -m pip install --quiet -e '.[docs,test,dev,bench]'
	/tmp/gradkit-lock/bin/python -m pip freeze --exclude-editable \
	  | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/' > $(CONSTRAINTS)

clean:
	rm -rf $(BUILDDIR) docs/auto_examples docs/gen_modules docs/jupyter_execute docs/sg_execution_times.rst

mutation-docs: $(STAMP)
	$(BIN)/python tests/mutation_docs.py

# Every internal link and #anchor of the built site resolves (lychee, offline).
# _static/ holds the theme's Jinja macro templates, which are not pages.
LYCHEE_ARGS := --offline --include-fragments --no-progress --exclude-path $(BUILDDIR)/html/_static
check-links: $(STAMP)
	@test -f $(BUILDDIR)/html/index.html || { echo "check-links: run 'make html' first" >&2; exit 1; }
	$(BIN)/lychee $(LYCHEE_ARGS) '$(BUILDDIR)/html/**/*.html'

check-reproducible: $(STAMP) katex
	$(BIN)/python tests/check_reproducible.py

record-values: $(STAMP)
	-$(BIN)/python -m pytest -q tests/test_gallery.py tests/test_docs_pages.py -k "recorded_values" --force-regen
	@echo "Recorded values regenerated under tests/test_gallery/ and tests/test_docs_pages/: review 'git diff' before committing."

# -- the reader's site: offline assets, browser tests, publishing -------------
# (appended; see docs/_ext/make_inventories.py, tests/browser/, .readthedocs.yaml)
NPM ?= npm
KATEX_STAGE := $(BUILDDIR)/katex
KATEX_DIST := node_modules/katex/dist
BROWSER_PYTEST ?= -p no:cacheprovider -o addopts= -ra tests/browser
.PHONY: katex test-browser serve livehtml inventories inventories-online check-publishing

# KaTeX from the npm registry (package-lock.json), staged in $(KATEX_STAGE): sphinxcontrib-katex
# renders every expression at build time with render/katex.min.js (Node), and Sphinx copies
# static/katex/ (the CSS and its woff2 fonts) to _static/katex/: the site serves them itself
# and the reader's browser runs no math script.
katex: $(KATEX_STAGE)/static/katex/katex.min.css

$(KATEX_DIST)/katex.min.js: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

$(KATEX_STAGE)/static/katex/katex.min.css: $(KATEX_DIST)/katex.min.js
	rm -rf $(KATEX_STAGE) && mkdir -p $(KATEX_STAGE)/render $(KATEX_STAGE)/static/katex/fonts
	cp $(KATEX_DIST)/katex.min.js $(KATEX_STAGE)/render/
	cp $(KATEX_DIST)/katex.min.css node_modules/katex/LICENSE $(KATEX_STAGE)/static/katex/
	cp $(KATEX_DIST)/fonts/*.woff2 $(KATEX_STAGE)/static/katex/fonts/

# Real-browser checks of the built site (Chromium + Playwright + axe-core).
# Needs a built site (make html) and chromium (apt-get install chromium).
test-browser:
	@test -f $(BUILDDIR)/html/index.html || { echo "test-browser: $(BUILDDIR)/html/index.html is missing; run 'make html' first" >&2; exit 1; }
	REQUIRE_BROWSER=1 SITE_DIR=$(BUILDDIR)/html $(BIN)/python -m pytest $(BROWSER_PYTEST)

serve:
	@test -f $(BUILDDIR)/html/index.html || { echo "serve: $(BUILDDIR)/html/index.html is missing; run 'make html' first" >&2; exit 1; }
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(BUILDDIR)/html

livehtml: $(STAMP) katex
	$(BIN)/sphinx-autobuild -b html -c . $(SPHINXOPTS) --host 127.0.0.1 --port 8000 \
	  --watch conf.py --watch gallery --watch src --watch docs/_ext \
	  --ignore "*/auto_examples/*" --ignore "*/gen_modules/*" --ignore "*/jupyter_execute/*" \
	  --ignore "*/sg_execution_times.rst" docs $(BUILDDIR)/html

# Intersphinx inventories from the installed packages (committed; the build is offline).
inventories: $(STAMP)
	$(BIN)/python docs/_ext/make_inventories.py

# The real objects.inv files, for a maintainer online. Never part of the build or CI.
inventories-online: $(STAMP)
	$(BIN)/python docs/_ext/make_inventories.py --online

# .readthedocs.yaml and the GitHub workflow against the schemas vendored in .ci/schemas/.
check-publishing: $(STAMP)
	$(BIN)/check-jsonschema --schemafile .ci/schemas/readthedocs.json .readthedocs.yaml
	$(BIN)/check-jsonschema --schemafile .ci/schemas/github-workflows.json .github/workflows/docs.yml

# -- mutation testing of the gradkit package (mutmut 3.x, [tool.mutmut] in pyproject.toml) --
# Mutates src/gradkit, judges each mutant with tests/test_gradkit_*.py and the doctests of
# src/gradkit, then prints killed/survived/no-tests/timeout counts and every survivor.
# Starts from a clean mutants/ so the figures are for the whole package; fails on a survivor
# that is not explained by an `# equivalent mutant:` comment. About 10 minutes on 2 cores.
.PHONY: mutation-gradkit
mutation-gradkit: $(STAMP)
	rm -rf mutants && mkdir mutants
	start=$$(date +%s); \
	OMP_NUM_THREADS=1 $(BIN)/mutmut run > mutants/mutmut-run.log 2>&1 \
	  || { tail -c 3000 mutants/mutmut-run.log; exit 1; }; \
	$(BIN)/mutmut results > mutants/mutmut-results.txt; \
	$(BIN)/python tests/mutmut_summary.py --elapsed $$(( $$(date +%s) - start ))

# -- Lighthouse (mobile preset) over representative pages, served with gzip on 127.0.0.1 --
# Needs a built site, chromium and `npm ci` (lighthouse is pinned in package.json).
# Prints the scores, layout shift and weight per page; reports in test-artifacts/lighthouse/.
.PHONY: test-lighthouse
test-lighthouse: $(KATEX_DIST)/katex.min.js
	@test -f $(BUILDDIR)/html/index.html || { echo "test-lighthouse: $(BUILDDIR)/html/index.html is missing; run 'make html' first" >&2; exit 1; }
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python tools/lighthouse/run_lighthouse.py --site $(BUILDDIR)/html
