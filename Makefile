# The two commands a newcomer types: `make run` and `make test`. Both set up .venv first;
# it is reinstalled only when pyproject.toml changes (the stamp file).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
DEMO := demo-workspace

.PHONY: run test lint bench clean

run: $(STAMP)
	@test -d $(DEMO)/.mlops || $(BIN)/mlops init $(DEMO)
	$(BIN)/mlops console --workspace $(DEMO)

test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) $(DEMO)
