# Accord's front door. `make demo` runs a node with sample data; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= accord-data
DATA ?= ../shared/data

.PHONY: demo test lint typecheck audit pytest bench clean dev-setup system-packages fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e . taxii2-client
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# System packages the tests need, from Debian's packages, installed through apt when
# missing (as root, or with sudo), non-interactively, so that CI=true runs them:
# Chromium for the console's browser tests (never a browser Playwright downloads) and
# libsodium for the independent RFC 9497 reference of tests/privacy.
system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	dpkg -s libsodium23 >/dev/null 2>&1 || missing="$$missing libsodium23"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

dev-setup: $(VENV)/.installed-dev system-packages

# A node under ./accord-data with a small real slice of ../shared/data where it
# exists, else the example set in examples/; stats and a search; then a partner
# member with a token, and the node served over TAXII 2.1 on 127.0.0.1:8000.
demo: $(VENV)/.installed
	BIN=$(BIN) HOME_DIR=$(HOME_DIR) DATA=$(DATA) scripts/demo.sh

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

# Known-vulnerable dependencies (SECURITY.md): pip-audit over the venv's distributions;
# fails on any advisory not ignored in scripts/audit.py. AUDIT_ARGS="--require-service"
# also fails where the vulnerability service answers for no dependency.
audit: $(VENV)/.installed-dev
	$(BIN)/python scripts/audit.py $(AUDIT_ARGS)

test: dev-setup
	$(MAKE) lint typecheck audit pytest

# The benchmarks, at full size (about two hours: medallion at 100,000 objects is slow).
# BENCH_ARGS="--size 20000" TAXII_BENCH_ARGS="--size 2000 --read-size 5000"
# SYNC_BENCH_ARGS="--size 20000" MATCH_BENCH_ARGS="--events 100000"
# WEB_BENCH_ARGS="--size 20000" BACKUP_BENCH_ARGS="--size 20000 --runs 1"
# LOAD_BENCH_ARGS="--duration 60" for a quick run.
bench: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)
	$(BIN)/python bench/taxii.py $(TAXII_BENCH_ARGS)
	$(BIN)/python bench/sync.py $(SYNC_BENCH_ARGS)
	$(BIN)/python bench/match.py $(MATCH_BENCH_ARGS)
	$(BIN)/python bench/web.py $(WEB_BENCH_ARGS)
	$(BIN)/python bench/ledger.py --taxii $(LEDGER_BENCH_ARGS)
	$(BIN)/python bench/governance.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/backup.py $(BACKUP_BENCH_ARGS)
	$(BIN)/python bench/limits.py
	$(BIN)/python bench/load.py --backend postgres --workers 4 $(LOAD_BENCH_ARGS)
	$(BIN)/python bench/load.py --backend sqlite $(LOAD_BENCH_ARGS)

# Fuzzing (docs/fuzzing.md): each target under atheris for FUZZ_SECONDS, one after
# the other (FUZZ_TARGETS="stix zeek" for some); stops at the first crash, which is
# kept in .fuzz/crashes/TARGET/. `make test` runs a short fuzz of every target.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= stix pattern_parse pattern_match agreement taxii_query taxii_envelope zeek eve csv lists

fuzz: $(VENV)/.installed-dev
	@for t in $(FUZZ_TARGETS); do \
		$(BIN)/python -m tests.fuzz run $$t --seconds $(FUZZ_SECONDS) || exit 1; \
	done

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache .fuzz
