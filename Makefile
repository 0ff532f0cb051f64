# FrugalFlow — `make demo` runs the real pipeline locally; `make test` runs the whole suite
# except the long reliability runs (marker `soak`, over ~2 minutes each), which `make soak` runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo run test soak lint unit clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# setuptools warns that the source folder (app/) could shadow the package (frugalflow):
	@# it cannot, the names differ; the warning would fill the first screen of make demo.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet -e '.[local,dev]'
	touch $(STAMP)

demo: install
	$(BIN)/frugalflow demo

run: install
	$(BIN)/frugalflow run

test: install lint
	$(BIN)/pytest -q -m 'not soak'

soak: install
	$(BIN)/pytest -q -m soak

unit: install
	$(BIN)/pytest -q tests/unit

lint: install
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
