# fashiongraph: `make demo` runs the whole pipeline on the bundled real sample,
# `make test` runs every test. Both create and reuse .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test clean browser-deps

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[gnn,neo4j,serve,test]"
	touch $(STAMP)

demo: venv
	$(BIN)/fashiongraph demo --out runs/demo

# Debian's chromium for the browser test (Playwright drives it; never `playwright install`).
# apt-get runs only when chromium is missing and we are root; otherwise the test says why.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

test: venv browser-deps
	$(BIN)/python -m pytest

clean:
	rm -rf runs build .pytest_cache
