# `make up` sets everything up on a fresh machine and runs Grumble on SQLite with demo data.
# `make test` runs the linters, the type checker and every test.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: install up test lint typecheck pytest clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned by constraints.txt: an unpinned torch pulls gigabytes of CUDA packages.
	$(BIN)/pip install --quiet -c constraints.txt torch
	# What `make test` needs: Grumble, the test tools and the training extra (the tests cover training).
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,train]"
	# Builds the bundled model's int8 ONNX file now (~10 s), so the first load is fast too.
	$(BIN)/python -m models.export
	touch $(STAMP)

install: $(STAMP)

up: install
	$(BIN)/grumble up

lint: install
	$(BIN)/ruff check monitor dashboard models tests bench
	$(BIN)/ruff format --check monitor dashboard models tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
