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
	@echo "==> [1/4] Creating the virtual environment in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# torch first, pinned by constraints.txt: an unpinned torch pulls gigabytes of CUDA packages.
	@echo "==> [2/4] Installing torch, the CPU build (the largest download: a few minutes on a slow line)"
	@$(BIN)/pip install --progress-bar on -c constraints.txt torch
	@# What `make test` needs: Grumble, the test tools and the training extra (the tests cover training).
	@echo "==> [3/4] Installing Grumble and its libraries (a few minutes)"
	@$(BIN)/pip install --progress-bar on -c constraints.txt -e ".[test,train]"
	@echo "==> [4/4] Preparing the bundled sentiment model and topic encoder (about 30 s)"
	@$(BIN)/python -m models.export
	@$(BIN)/python -m models.embedding
	@touch $(STAMP)
	@echo "==> Installed. The command is $(BIN)/grumble (or run 'source $(BIN)/activate' once, then 'grumble --help')."

install: $(STAMP)

up: install
	@echo "==> Starting Grumble on SQLite with demo data ($(BIN)/grumble up; Ctrl-C stops it)"
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
