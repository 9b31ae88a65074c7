# Two commands do all the set-up (see README.md):
#   make lab    create .venv, install everything, build the front end, start JupyterLab
#   make test   the same set-up, then every test layer
# Everything else here is a step of those two.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
UI_STAMP := ui-tests/node_modules/.installed
HUB_STAMP := tests/hub/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: lab test setup lint lint-py lint-js typecheck pytest jest check-extension ui-test chromium bench clean

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG)

test: setup lint typecheck pytest jest check-extension ui-test
	@echo "make test: every layer passed"

# -- set-up -----------------------------------------------------------------------------------

setup: $(STAMP)

$(STAMP): pyproject.toml package.json yarn.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Editable install: hatch-jupyter-builder runs `jlpm install` and builds the front end.
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	$(BIN)/jupyter labextension develop --overwrite .
	$(BIN)/jupyter server extension enable --sys-prefix jupyter_envhelper
	touch $(STAMP)

# -- gates, in order --------------------------------------------------------------------------

lint: lint-py lint-js

lint-py: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

lint-js: setup
	$(BIN)/jlpm lint:check

typecheck: setup
	$(BIN)/mypy

pytest: setup $(HUB_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

jest: setup
	$(BIN)/jlpm test

# (no `tee /dev/stderr`: when the log is a file, reopening it truncates everything before)
check-extension: setup
	@out="$$($(BIN)/jupyter server extension list 2>&1)"; echo "$$out"; \
	  echo "$$out" | grep -qE "jupyter_envhelper.*OK"
	@out="$$($(BIN)/jupyter labextension list 2>&1)"; echo "$$out"; \
	  echo "$$out" | grep -qE "jupyter-envhelper.*enabled.*OK"

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# configurable-http-proxy for tests/test_hub.py (JupyterHub's proxy), project-local
$(HUB_STAMP): tests/hub/package.json tests/hub/package-lock.json
	cd tests/hub && npm ci --no-audit --no-fund --loglevel=error
	touch $(HUB_STAMP)

$(UI_STAMP): ui-tests/package.json ui-tests/yarn.lock
	cd ui-tests && $(BIN)/jlpm install
	touch $(UI_STAMP)

ui-test: setup chromium $(UI_STAMP)
	$(BIN)/jlpm build
	cd ui-tests && $(BIN)/jlpm playwright test

# -- not part of `make test` ------------------------------------------------------------------

bench: setup
	$(BIN)/python benchmarks/bench_probe.py

clean:
	rm -rf $(VENV) node_modules ui-tests/node_modules lib jupyter_envhelper/labextension
