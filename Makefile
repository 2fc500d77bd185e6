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
# The pinned sf never asks npm for a newer version (a Node process when its cache is stale).
export SF_SKIP_NEW_VERSION_CHECK := true

.PHONY: setup demo test lint check browser

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "== Python tools into .venv (pinned in requirements.lock): CumulusCI, simple-salesforce,"
	@echo "   lxml, Robot Framework, pytest. About 200 MB; one minute on a warm pip cache."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "== Node tools into node_modules (pinned in package-lock.json): the Salesforce CLI"
	@echo "   (cci deploys source through it), Node 22 (which that CLI needs) and Lightning Flow"
	@echo "   Scanner. About 480 MB; a minute or two on a cold npm cache."
	set -o pipefail; npm ci --no-audit --no-fund --loglevel=http 2>&1 | \
	  awk '/ http fetch /{n++; if (n % 100 == 0) print "   " n " packages fetched"; next} {print}'
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
	$(PY) -m localorg.demo $(DEMO_OPTIONS)

# pytest-xdist with three workers more than there are cores: the longest tests mostly wait on
# cci commands (Metadata API polls), so spare workers keep the cores busy meanwhile (on 2
# cores: 51.5-53.5 s with 4 workers, 47.2-48.2 s with 5, 48.1-48.5 s with 6;
# docs/performance.md). Each
# test module runs on one worker so its module-scoped org is set up once (--dist loadscope;
# tests/conftest.py starts the longest tests first, each on its own). The 15 slowest tests
# are listed at the end.
test: setup browser lint
	$(PY) -m pytest -n $$(( $$(nproc) + 3 )) --dist loadscope --durations=15
