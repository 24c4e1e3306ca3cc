# edustat: `make demo` (the platform on a sample province) and `make test` (the whole suite).
# Everything installs from here on a fresh machine with Python 3.11: the venv from PyPI, and
# the OS packages below from Debian when they are missing (needs root or sudo).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Two workers, a test file each at a time (module fixtures build a warehouse once per file):
# the suite waits on Airflow, dbt and Postgres as much as it computes, so two workers on two
# cores take about half the time of one. PYTEST_ARGS= runs it serially.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: demo test venv assets deps-os deps-browser lint bench airflow shim seeds suites docs clean

demo: venv assets deps-os deps-browser
	$(BIN)/edustat demo
	@echo "edustat: $(BIN)/edustat (or: source $(VENV)/bin/activate, or: make shim)"

test: venv assets deps-os deps-browser
	$(BIN)/ruff check src plugins dags tests scripts bench
	$(BIN)/pytest $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# The CSS/JS the GX Data Docs would load from CDNs, pinned in assets/data-docs/package-lock.json
# and installed from npm (Debian nodejs + npm when missing): the site loads nothing from the
# internet (edustat.validation.data_docs).
ASSETS := assets/data-docs
assets: $(ASSETS)/node_modules/.installed

$(ASSETS)/node_modules/.installed: $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "installing npm (Debian nodejs, npm)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	npm ci --prefix $(ASSETS) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The embedded warehouse needs PostgreSQL's server binaries (initdb, pg_ctl); EDUSTAT_WAREHOUSE_DSN
# makes them unnecessary.
deps-os:
	@if [ -z "$$EDUSTAT_WAREHOUSE_DSN" ] && ! command -v initdb >/dev/null 2>&1 \
	    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL server binaries (Debian postgresql)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq postgresql >/dev/null; \
	fi

# The reports are printed to PDF by headless Chromium (CJK fonts embedded from fonts-noto-cjk),
# and the report tests open the HTML in the same browser.
# fonts-wqy-microhei: the PDFs' text font (its CJK text reads back as written, see base.html.j2).
deps-browser:
	@if ! command -v chromium >/dev/null 2>&1 \
	    || ! fc-list 2>/dev/null | grep -q "WenQuanYi Micro Hei"; then \
	  echo "installing Chromium and CJK fonts (Debian chromium, fonts-noto-cjk, fonts-wqy-microhei)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium fonts-noto-cjk fonts-wqy-microhei >/dev/null; \
	fi

lint: venv
	$(BIN)/ruff check src plugins dags tests scripts bench

bench: venv deps-os
	$(BIN)/python bench/run_bench.py

# The Airflow UI and REST API on 127.0.0.1:8080 with a login (printed on the first start). The
# nightly schedule stays paused: switch it on in the UI, or `make airflow AIRFLOW_ARGS=--unpause`.
AIRFLOW_ARGS ?=
airflow: venv deps-os
	$(BIN)/edustat airflow-ui $(AIRFLOW_ARGS)

# `edustat` on PATH: a link to the venv's entry point in BINDIR (on PATH in most shells).
BINDIR ?= $(HOME)/.local/bin
shim: venv
	mkdir -p $(BINDIR)
	ln -sf $(abspath $(BIN))/edustat $(BINDIR)/edustat
	@echo "edustat -> $(BINDIR)/edustat"; case ":$$PATH:" in *":$(BINDIR):"*) ;; \
	  *) echo "add $(BINDIR) to PATH, e.g. export PATH=\"$(BINDIR):\$$PATH\"";; esac

# Reference data and the GX project are generated, then committed.
seeds: venv
	$(BIN)/python scripts/build_divisions_seed.py

suites: venv
	$(BIN)/edustat suites

# The tables of docs/ whose facts live in code (CLI, settings, marts, seeds, rules.BOUNDS).
docs: venv
	$(BIN)/python scripts/build_docs.py

clean:
	rm -rf .edustat dbt_project/target dbt_project/logs .pytest_cache $(ASSETS)/node_modules
