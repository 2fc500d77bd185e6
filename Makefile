# Two commands: `make demo` and `make test`. Both install what they need, once,
# into the checkout (.venv, node_modules), from pinned lock files.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export SF_DISABLE_TELEMETRY := true
export SF_AUTOUPDATE_DISABLE := true
# sf 2.150.6's update hook reads only this one.
export SF_DISABLE_AUTOUPDATE := true

.PHONY: setup demo test lint check

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(PY) -m ruff check .

check: setup
	$(PY) -m metacheck

demo: setup
	$(PY) -m metacheck

test: setup lint
	$(PY) -m pytest
