# Accord's front door. `make demo` runs a node with sample data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= accord-data
DATA ?= ../shared/data
ACCORD := $(BIN)/accord --home $(HOME_DIR)

.PHONY: demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# A node under ./accord-data with a small real slice of ../shared/data where it
# exists (ATT&CK ICS, ESET's STIX 2.1 events, one Unit 42 playbook in STIX 2.0),
# else the example set shipped in examples/; then stats and a search.
demo: $(VENV)/.installed
	@test -f $(HOME_DIR)/node.toml || $(ACCORD) init --name demo
	@if [ -d "$(DATA)/attack" ]; then \
		$(ACCORD) import --collection demo $(DATA)/attack/ics-attack-18.1.json \
			$(DATA)/eset/stix21 $(DATA)/unit42/playbook_json/IcedID_Unit42_Intel.json \
		&& $(ACCORD) stats && $(ACCORD) search waafefuvuko.com; \
	else \
		$(ACCORD) import --collection demo examples/ \
		&& $(ACCORD) stats && $(ACCORD) search 198.51.100.7; \
	fi

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

test: $(VENV)/.installed-dev
	$(MAKE) lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
