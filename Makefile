# One command runs the app, one passes the tests; each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# torch is pinned in requirements-torch.txt (shared with the Dockerfile). The CPU wheel of
# that version lies on the build machines' disk; an unpinned torch would download a
# multi-gigabyte CUDA build.

.PHONY: install install-test run test lint bench clean admin

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# libseccomp2 backs the workers' seccomp filter; without it they run without that layer
# (and say so in the log), so a machine where apt cannot install it still gets a server.
.stamp-install: $(BIN)/python pyproject.toml requirements-torch.txt
	$(BIN)/pip install --quiet -r requirements-torch.txt
	$(BIN)/pip install --quiet -e .
	@if [ "$$(uname -s)" = Linux ] && ! /sbin/ldconfig -p | grep -q 'libseccomp\.so\.2'; then \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp2; } \
		|| echo "libseccomp2 is not installed: the workers will run without their seccomp filter (fix: apt-get install libseccomp2)"; \
	fi
	touch $@

.stamp-install-test: .stamp-install pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }
	touch $@

install: .stamp-install

install-test: .stamp-install-test

# A teacher account for the classroom (asks for the password): make admin TEACHER=ms-tanaka
TEACHER ?= teacher
admin: .stamp-install
	$(BIN)/python -m app.admin create-teacher $(TEACHER)

run: .stamp-install
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --loop uvloop --http httptools

# The executor seam is type-checked strictly: every backend must satisfy the Executor
# protocol (app/executor/base.py), which app/jobs.py's make_executor() returns.
MYPY_STRICT := app/executor app/jobs.py app/callers.py app/metrics.py app/observability.py \
	app/training/store app/training/driver.py

test: .stamp-install-test
	$(BIN)/ruff check .
	$(BIN)/mypy --strict $(MYPY_STRICT)
	$(BIN)/python -m pytest

bench: .stamp-install-test
	$(BIN)/python bench/eval_latency.py

clean:
	rm -rf $(VENV) .stamp-install .stamp-install-test

# Mutation testing (docs/MUTATION.md): mutmut mutates app/engine and app/executor in a copy of
# the project under MUTATION_DIR, so no mutants/ folder appears in the checkout, and runs
# tests/security, tests/engine and tests/executor against each mutant (setup.cfg, [mutmut]).
# MUTANTS narrows a run to some mutant names (the results leave out mutants never run),
# MUTATION_TESTS replaces the test selection, MUTATION_SAMPLE runs N mutants drawn uniformly
# at random (seed MUTATION_SEED) from the whole scope and counts their verdicts:
#   make mutation MUTANTS='app.engine.safety*' MUTATION_TESTS='tests/engine'
#   make mutation MUTATION_SAMPLE=200 MUTATION_SEED=1
MUTATION_DIR ?= build/mutation
MUTANTS ?=
MUTATION_TESTS ?=
MUTATION_SAMPLE ?=
MUTATION_SEED ?= 1
MUTMUT := $(abspath $(BIN))/mutmut

.PHONY: mutation
mutation: .stamp-install
	$(BIN)/pip install --quiet -e ".[test,mutation]"
	mkdir -p $(MUTATION_DIR)
	rm -rf $(MUTATION_DIR)/app $(MUTATION_DIR)/tests
	cp -R app tests static templates pyproject.toml setup.cfg $(MUTATION_DIR)/
	if [ -n "$(MUTATION_TESTS)" ]; then $(BIN)/python -c 'import configparser, sys; \
		c = configparser.ConfigParser(); c.read(sys.argv[1]); \
		c["mutmut"]["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(sys.argv[2:]); \
		c.write(open(sys.argv[1], "w"))' $(MUTATION_DIR)/setup.cfg $(MUTATION_TESTS); fi
	: >$(MUTATION_DIR)/sample.txt
	if [ -n "$(MUTATION_SAMPLE)" ]; then cd $(MUTATION_DIR) && $(abspath $(BIN))/python \
		$(abspath tools/mutation_sample.py) $(MUTATION_SAMPLE) $(MUTATION_SEED) >sample.txt; fi
	cd $(MUTATION_DIR) && $(MUTMUT) run $(MUTANTS) $$(cat sample.txt)
	cd $(MUTATION_DIR) && $(MUTMUT) results | { grep -v ': not checked$$' || true; }
	if [ -s $(MUTATION_DIR)/sample.txt ]; then cd $(MUTATION_DIR) && echo "the sample's verdicts:" && \
		$(MUTMUT) results --all true | awk -F': ' 'NR == FNR { drawn["    " $$0] = 1; next } \
		$$1 in drawn { count[$$2]++ } END { for (s in count) print count[s], s }' sample.txt -; fi
