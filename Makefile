# Ritrovo developer entry points.  Everything runs from the repo's .venv,
# which scripts/setup.sh creates and keeps current (idempotent, fast when
# nothing changed).
#
#   make setup                  create/refresh .venv (pip install -e .)
#   make run [ARGS=...]         serve with the embedded in-memory store on :8080
#   make test-setup             setup, plus the test extras (pytest, ruff, mypy),
#                               redis-server and chromium (setup.sh --test)
#   make test [PYTEST_ARGS=...] make lint, then pytest in TEST_WORKERS processes
#                               (default 2; TEST_WORKERS=0: in this process)
#   make lint                   scripts/lint.sh: ruff check and ruff format --check
#                               on server/ and tests/, mypy --strict on both, then
#                               scripts/lint_web.sh (tsc on web/js) when present
#   make bench                  run every bench/*.py
#   make clean                  remove caches and test artifacts (keeps .venv)

SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8080
ARGS   ?=
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

.PHONY: setup test-setup run test lint bench clean

setup:
	bash scripts/setup.sh

run: setup
	$(VENV)/bin/ritrovo serve --port $(PORT) $(ARGS)

test-setup:
	bash scripts/setup.sh --test

test: lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: test-setup
	bash scripts/lint.sh

bench: setup
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no benchmark scripts in bench/ yet"; exit 0; fi; \
	for s in "$${scripts[@]}"; do echo "== $$s"; $(PY) "$$s" || exit $$?; done

clean:
	rm -rf artifacts .pytest_cache .hypothesis .ruff_cache .mypy_cache .mypy_path build dist
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf
