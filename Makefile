# Ritrovo developer entry points.  Everything runs from the repo's .venv,
# which scripts/setup.sh creates and keeps current (idempotent, fast when
# nothing changed).
#
#   make setup                  create/refresh .venv (pip install -e .)
#   make run [ARGS=...]         serve with the embedded in-memory store on :8080
#   make test [PYTEST_ARGS=...] install test deps + redis-server + chromium, run pytest
#   make lint                   ruff check (skipped when ruff is not installed)
#   make bench                  run every bench/*.py
#   make clean                  remove caches and test artifacts (keeps .venv)

SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8080
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: setup run test lint bench clean

setup:
	bash scripts/setup.sh

run: setup
	$(VENV)/bin/ritrovo serve --port $(PORT) $(ARGS)

test:
	bash scripts/setup.sh --test
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint:
	@if [ -x $(VENV)/bin/ruff ]; then RUFF=$(VENV)/bin/ruff; \
	elif command -v ruff >/dev/null 2>&1; then RUFF=ruff; \
	else echo "lint: ruff is not installed (pip install ruff); skipping"; exit 0; fi; \
	echo "$$RUFF check server tests"; "$$RUFF" check server tests

bench: setup
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no benchmark scripts in bench/ yet"; exit 0; fi; \
	for s in "$${scripts[@]}"; do echo "== $$s"; $(PY) "$$s" || exit $$?; done

clean:
	rm -rf artifacts .pytest_cache .hypothesis .ruff_cache .mypy_cache build dist
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0r rm -rf
