# Every target first syncs a virtual environment from uv.lock (`uv sync --frozen`: the
# runtime dependencies, the test and dev groups, and reddit_assets itself, editable).
# `--compile-bytecode` writes every dependency's .pyc at install: where
# PYTHONDONTWRITEBYTECODE is set (container images often set it) Python never caches them
# itself and each process compiled Dagster again, 4.7 s to load our definitions instead of 2.3 s.
#
#   make check                   .venv, with python3 (python3.11 if python3 is older)
#   make check PYTHON=python3.13 .venv-3.13, so switching Python leaves .venv alone
#
# uv comes from PATH, or is installed from the package index into .venv-tools. It never
# downloads a Python build: the interpreter is the one PYTHON names.
DEFAULT_PYTHON := $(shell python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo python3 || echo python3.11)
PYTHON ?= $(DEFAULT_PYTHON)

# The interpreter's real path. A pyenv shim of a version that is installed but not
# selected (python3.13 under `pyenv global 3.11.7`) answers "command not found": then
# take that version from pyenv's own folder.
find_python = $(shell $(1) -c 'import sys; print(sys.executable)' 2>/dev/null \
  || ls -d $$(pyenv root 2>/dev/null)/versions/*/bin/$(1) 2>/dev/null | sort -V | tail -n 1)
python_version = $(if $(1),$(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))

PYTHON_EXE := $(call find_python,$(PYTHON))
PY_VERSION := $(call python_version,$(PYTHON_EXE))
DEFAULT_VERSION := $(if $(filter $(DEFAULT_PYTHON),$(PYTHON)),$(PY_VERSION),$(call python_version,$(call find_python,$(DEFAULT_PYTHON))))

# .venv for the default Python's version, .venv-X.Y for any other.
VENV ?= $(if $(filter $(DEFAULT_VERSION),$(PY_VERSION)),.venv,.venv-$(PY_VERSION))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .venv-tools/bin/uv
UV_BOOTSTRAP := $(UV)
endif
UV_ENV := UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system

.PHONY: install demo test lint check bench bench-year lock python clean

$(STAMP): uv.lock pyproject.toml $(UV_BOOTSTRAP)
	@test -n "$(PY_VERSION)" || { echo "make: no Python interpreter '$(PYTHON)' here (give PYTHON=python3.11 or newer)" >&2; exit 1; }
	$(UV_ENV) UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --compile-bytecode --python $(PYTHON_EXE)
	touch $(STAMP)

.venv-tools/bin/uv:
	$(DEFAULT_PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m reddit_assets_demo.run

# The whole suite: needs PostgreSQL, Redis and RabbitMQ running (.ci/run starts them).
# Three workers on two cores: most integration tests wait on a daemon, a webserver or a
# server's delay, so a third keeps the cores busy; the slow ones start first (conftest.py).
# Every fixture takes free ports and fresh databases, so tests do not meet.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=20

# Lint, format, the definitions load, and the product's types (mypy, set up in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/dg check defs
	$(BIN)/mypy

# The fast tier: lint, and the tests that need no server, on two workers.
check: lint
	$(BIN)/python -m pytest -m "not integration" -n 2 --durations=5

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The year-scale reprocess, not part of `bench`: 36,500 partitions (100 subreddits x 365
# days) imported, then backfilled (database, archives to moto's S3 server) on a PostgreSQL
# instance (127.0.0.1:5432, fresh databases); prints each phase's wall time.
bench-year: $(STAMP)
	$(BIN)/python -m benchmarks.year

# After editing the dependencies in pyproject.toml: re-resolve uv.lock (3.11 to 3.13).
lock: $(UV_BOOTSTRAP)
	$(UV_ENV) $(UV) lock --python $(PYTHON_EXE)

# The interpreter PYTHON resolves to, or a failure if there is none (used by .ci/run).
python:
	@test -n "$(PY_VERSION)" || { echo "make: no Python interpreter '$(PYTHON)' here" >&2; exit 1; }
	@echo "$(PYTHON_EXE) ($(PY_VERSION)) -> $(VENV)"

clean:
	rm -rf .venv .venv-3.* .venv-tools .demo .pytest_cache .ruff_cache .mypy_cache
