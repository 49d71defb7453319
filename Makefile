# Two commands set Qualiflow up on a fresh clone:
#   make demo   install everything, migrate the SQLite database under var/, seed the demo plant once,
#               print the demo logins and serve on http://127.0.0.1:8000
#   make test   install everything and run the whole test suite (DATABASE_URL picks the database;
#               SQLite under var/ by default)
# The other targets are steps of these two.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Stamps make a repeated install a no-op until pyproject.toml or package*.json change.
PYTHON_STAMP := $(VENV)/.qualiflow-installed
NPM_STAMP := node_modules/.qualiflow-installed

.PHONY: demo test install translations

demo: install translations
	$(BIN)/qualiflow demo

test: install translations
	$(BIN)/pytest

install: $(PYTHON_STAMP) $(NPM_STAMP)

translations: $(PYTHON_STAMP)
	$(BIN)/qualiflow manage compilemessages_polib

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PYTHON_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json $(wildcard package-lock.json)
	npm install --no-audit --no-fund
	touch $@
