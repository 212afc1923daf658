# One command to set up and run anything: each target installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first and pinned: left to the resolver it becomes a multi-GB CUDA build.
# Elsewhere, for a CPU-only wheel: make chat TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
STAMP := $(VENV)/.installed

.PHONY: install chat test test-all lint bench bench-quick lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

chat: install
	$(BIN)/usru index
	$(BIN)/usru chat

# The fast tier: everything but the real-model and load tests (markers in pyproject.toml).
test: install
	$(BIN)/python -m pytest -m "not model and not load"

test-all: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check retrieval bot tests bench
	$(BIN)/ruff format --check retrieval bot tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

# Re-pin every dependency to what is installed now (torch is pinned separately above).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(torch|usru)[=@ ]' > constraints.txt

clean:
	rm -rf $(VENV) .usru .pytest_cache .mypy_cache .ruff_cache
