# fashiongraph: `make demo` runs the whole pipeline on the bundled real sample,
# `make test` runs every test, `make bench` the benchmarks (benchmarks/README.md).
# All create and reuse .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCALES ?= 0.01,0.1,1
KERNEL_SCALE ?= 0.1

.PHONY: venv demo test bench clean browser-deps neo4j-start neo4j-stop

# Local Neo4j + GDS for the neo4j engine's tests (loopback only; see neo4j/neo4j.sh and docs).
NEO4J := neo4j/neo4j.sh

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

# Starts Neo4j for the tests and stops it afterwards (quietly, so that pytest's summary stays the
# last line) unless it was running before. Without Java the script says so and the neo4j tests
# skip; under CI=true a missing Java is an error. pytest's exit status is make's.
test: venv browser-deps
	@if $(NEO4J) status >/dev/null 2>&1; then was_running=1; else was_running=0; fi; \
	$(NEO4J) start || exit 1; \
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$was_running = 0 ]; then $(NEO4J) stop 2>/dev/null; fi; \
	exit $$rc

neo4j-start:
	$(NEO4J) start

neo4j-stop:
	$(NEO4J) stop

# Kernels vs their references, then the pipeline at each of SCALES (resumes what is measured).
# Full scale (1) wants a quiet machine and ~12 GB free: e.g. `make bench SCALES=0.01,0.1`.
bench: venv
	$(BIN)/python -m benchmarks kernels --scale $(KERNEL_SCALE)
	$(BIN)/python -m benchmarks scale --scales $(SCALES)

clean:
	rm -rf runs build .pytest_cache
