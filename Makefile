# fashiongraph: `make demo` runs the whole pipeline on the bundled real sample,
# `make test` runs every test, `make bench` the benchmarks (benchmarks/README.md).
# All create and reuse .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCALES ?= 0.01,0.1,1
KERNEL_SCALE ?= 0.1

.PHONY: venv demo test bench clean browser-deps

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

# Kernels vs their references, then the pipeline at each of SCALES (resumes what is measured).
# Full scale (1) wants a quiet machine and ~12 GB free: e.g. `make bench SCALES=0.01,0.1`.
bench: venv
	$(BIN)/python -m benchmarks kernels --scale $(KERNEL_SCALE)
	$(BIN)/python -m benchmarks scale --scales $(SCALES)

clean:
	rm -rf runs build .pytest_cache
