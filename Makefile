# Two commands do everything on a machine with only Python 3.11+, git and make:
#   make run    the whole system (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL)
#   make test   lint, types and the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: run test install lint format typecheck pytest lock bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

run: install
	$(VENV)/bin/pms dev

test: install lint typecheck pytest

lint: install
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/ruff format --check src tests bench migrations
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix src tests bench migrations
	$(VENV)/bin/ruff format src tests bench migrations

typecheck: install
	$(VENV)/bin/mypy

# The loop-blocking check fails a test whose event loop stalls; on a shared 2-core runner the
# first compilation of a query can take ~150 ms, so CI allows 250 ms (the design target is 100).
pytest: install
	PMS_TEST_SLOW_CALLBACK_MS=$${PMS_TEST_SLOW_CALLBACK_MS:-250} $(VENV)/bin/pytest

# Re-resolve dependencies after editing pyproject.toml; commit uv.lock.
lock: $(UV)
	$(UV) lock --python $(PYTHON)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
