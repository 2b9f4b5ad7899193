# fashiongraph: `make demo` runs the whole pipeline on the bundled real sample,
# `make test` runs every test. Both create and reuse .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[gnn,neo4j,serve,test]"
	touch $(STAMP)

demo: venv
	$(BIN)/fashiongraph demo --out runs/demo

test: venv
	$(BIN)/python -m pytest

clean:
	rm -rf runs build .pytest_cache
