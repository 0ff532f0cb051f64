# FrugalFlow — `make demo` runs the real pipeline locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo run test lint unit clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	touch $(STAMP)

demo: install
	$(BIN)/frugalflow demo

run: install
	$(BIN)/frugalflow run

test: install lint
	$(BIN)/pytest -q

unit: install
	$(BIN)/pytest -q tests/unit

lint: install
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
