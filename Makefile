# One command runs the app, one passes the tests; each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The CPU wheel of this version lies on the build machines' disk; an unpinned torch
# would download a multi-gigabyte CUDA build.
TORCH_VERSION ?= 2.13.0

.PHONY: install install-test run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.stamp-install: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e .
	touch $@

.stamp-install-test: .stamp-install pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }
	touch $@

install: .stamp-install

install-test: .stamp-install-test

run: .stamp-install
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --loop uvloop --http httptools

test: .stamp-install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: .stamp-install-test
	$(BIN)/python bench/eval_latency.py

clean:
	rm -rf $(VENV) .stamp-install .stamp-install-test
