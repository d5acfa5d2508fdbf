# Helpline: `make run` sets up and serves the demo; `make test` sets up and runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WEBCHAT := tests/webchat
WEBCHAT_STAMP := $(WEBCHAT)/node_modules/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help install system-deps webchat run setup test test-fast lint typecheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# One pip command for everything: torch==2.13.0 is pinned in pyproject.toml, so pip takes the CPU build
# instead of pulling a newer torch with gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP) ## install Helpline and its tools into .venv

system-deps: ## install Debian's chromium and npm for the browser tests (never a downloaded browser)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }

# The third-party rasa-webchat widget, at the version package-lock.json pins, for the test that connects it to the
# Rasa socket.io channel; installed again only when the lock changes.
$(WEBCHAT_STAMP): $(WEBCHAT)/package.json $(WEBCHAT)/package-lock.json
	cd $(WEBCHAT) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

webchat: system-deps $(WEBCHAT_STAMP) ## install rasa-webchat (npm) for its browser test

setup: install ## prepare the demo company in ./var: FAQ index and, on first run, the trained model
	$(BIN)/helpline setup

run: setup ## set up and serve the widget demo on http://$(HOST):$(PORT), its action server beside it
	$(BIN)/helpline serve --host $(HOST) --port $(PORT) --actions demo.actions

lint: install ## ruff
	$(BIN)/ruff check .

typecheck: install ## mypy
	$(BIN)/mypy

test: install system-deps webchat lint typecheck ## lint, type-check and run the whole test suite
	$(BIN)/pytest

test-fast: install webchat lint ## the suite without the slow paths
	$(BIN)/pytest -m "not slow"

bench: install ## run the benchmarks (they write benchmarks/RESULTS.md)
	$(BIN)/python -m benchmarks.stackfaq
	$(BIN)/python -m benchmarks.banking77
	$(BIN)/python -m benchmarks.inbox
	$(BIN)/python -m benchmarks.classifier_speed
	$(BIN)/python -m benchmarks.faiss_scale
	$(BIN)/python -m benchmarks.e2e_ws --profile
	$(BIN)/python -m benchmarks.soak
	$(BIN)/python -m benchmarks.faults
	$(BIN)/python -m benchmarks.redaction
	$(BIN)/python -m benchmarks.fuzz_protocol
	$(BIN)/python -m benchmarks.api_fuzz

clean: ## remove the virtualenv, the local data dir and the tests' npm packages
	rm -rf $(VENV) var $(WEBCHAT)/node_modules
