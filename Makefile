# The two commands a new user needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench system-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

## run: create .venv, install collabkg, build the store from the bundled real data
run: $(STAMP)
	$(BIN)/collabkg build

## test: create .venv if needed, install the test extras and system tools, run the whole suite
## (two worker processes, one test file each at a time: module fixtures and servers stay per file)
PYTEST_ARGS ?= -n 2 --dist loadfile
test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## system-deps: Debian packages the tests use (installed when running as root, as in CI)
system-deps:
	@bash tools/system-deps.sh

## bench: speed and memory, side by side with the rdflib baseline (not a test)
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .collabkg build dist
