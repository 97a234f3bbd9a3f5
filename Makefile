# ELYSIUM Commerce. `make run` serves the shop; `make test` runs every test on real PostgreSQL.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
PYTEST_WORKERS ?= auto

.PHONY: help install install-runtime run serve worker migrate demo stop-db backup test test-fast lint format bench bench-load clean

help:
	@echo "make run | test | test-fast | lint | format | bench | bench-load | migrate | demo | backup | stop-db | clean"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (containers, CI) every
# process, each `elysium` command a test starts among them, would otherwise compile it again.
.venv/.installed: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@rm -f .venv/.runtime
	@mkdir -p .elysium && touch $@

# What the service needs to run, without the development tools (`uv sync` makes the
# environment exact: a later `make test` or `make lint` installs the tools again).
.venv/.runtime: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --no-dev --compile-bytecode
	@rm -f .venv/.installed
	@mkdir -p .elysium && touch $@

install: .venv/.installed

install-runtime: .venv/.runtime

RUN_SERVICE := $(UV) run --frozen --no-sync

run: install-runtime
	$(RUN_SERVICE) elysium run

serve: install-runtime
	$(RUN_SERVICE) elysium serve

worker: install-runtime
	$(RUN_SERVICE) elysium worker

migrate: install-runtime
	$(RUN_SERVICE) elysium migrate

demo: install-runtime
	$(RUN_SERVICE) elysium demo

stop-db: install-runtime
	$(RUN_SERVICE) elysium stop-db

backup: install-runtime
	$(RUN_SERVICE) elysium backup

test: install
	$(RUN) pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Everything but the tests marked slow (real processes: the CLI, servers, workers, schemathesis).
test-fast: install
	$(RUN) pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

lint: install
	$(RUN) ruff check src tests bench migrations scripts
	$(RUN) ruff format --check src tests bench migrations scripts
	$(RUN) mypy
	$(RUN) lint-imports --no-logo
	$(RUN) python scripts/check_migrations.py

format: install
	$(RUN) ruff check --fix src tests bench migrations scripts
	$(RUN) ruff format src tests bench migrations scripts

bench: install
	$(RUN) python bench/run.py $(BENCH_ARGS)

# The mixed-workload load test at several shopper counts, a minute each (bench/README.md).
bench-load: install
	BENCH_SHOPPERS=$${BENCH_SHOPPERS:-250,500,1000,1500} BENCH_SECONDS=$${BENCH_SECONDS:-60} \
	  $(RUN) python bench/run.py shoppers

clean:
	rm -rf .venv .tools .elysium .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
