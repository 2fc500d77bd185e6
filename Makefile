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

.PHONY: setup demo test lint check browser

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

# Debian's chromium, for the test that opens the local org's Event page headless.
# apt is the only source of it here; the step is skipped once it is installed.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

demo: setup
	$(PY) -m metacheck
	$(PY) -m localorg.demo

test: setup browser lint
	$(PY) -m pytest
