# Two commands: `make demo` runs the main job on embedded defaults, `make test` runs the suite.
# Both install what they need: a private uv in .tools/, the locked dependencies in .venv/.
PYTHON ?= python3
UV := .tools/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo test lint format bench fuzz sandboxes clean screenshots chromium rehearsal

$(UV):
	@echo "Installing uv $(UV_VERSION) into .tools (once)..."
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: every flow run is a fresh process that imports Prefect, pandas and Great
# Expectations; without .pyc files (PYTHONDONTWRITEBYTECODE, a read-only install) each one
# compiles them from source again (docs/DECISIONS.md, "Activation and Great Expectations").
.venv/.synced: $(UV) pyproject.toml uv.lock Makefile
	@echo "Installing the locked dependencies into .venv (first time: about a minute)..."
	$(UV) sync --frozen --compile-bytecode
	touch $@

install: .venv/.synced

demo: install
	.venv/bin/python -m cli demo

test: install chromium
	.venv/bin/pytest -n 4 --dist loadfile --no-loadscope-reorder --durations=30

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# schemathesis against both sandboxes (the real Tripletex spec, our Svenn contract); `make test`
# runs the same test with a small budget. FUZZ_EXAMPLES = generated requests per operation.
# Then the realtime interleavings (deletes, edits, new records, ticks, reconciliations) with
# REALTIME_EXAMPLES programs (a few in `make test`), and the push fault schedules (Tripletex
# edits with dropped, delayed, duplicated, reordered or version-skipping deliveries) with
# PUSH_FAULT_EXAMPLES schedules.
FUZZ_EXAMPLES ?= 40
REALTIME_EXAMPLES ?= 200
PUSH_FAULT_EXAMPLES ?= 100
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/pytest tests/test_fuzz_sandboxes.py -q -s -p no:randomly
	REALTIME_EXAMPLES=$(REALTIME_EXAMPLES) .venv/bin/pytest -n 0 -q -p no:randomly \
		tests/flows/test_realtime_deletes_property.py
	PUSH_FAULT_EXAMPLES=$(PUSH_FAULT_EXAMPLES) .venv/bin/pytest -n 0 -q -p no:randomly \
		tests/flows/test_push_faults_property.py

# Every bench script, then ONE table of the figures against their targets (bench/figures.py).
# `make bench ARGS=--profile` also saves cProfile output in bench/profiles/ and prints each top 20
# (passed on as BENCH_PROFILE=1: the scripts' own arguments differ).
bench: install
	.venv/bin/python bench/figures.py --begin
	for script in bench/bench_*.py; do echo "== $$script"; \
	  BENCH_PROFILE=$(if $(findstring --profile,$(ARGS)),1,) .venv/bin/python $$script || exit 1; \
	done
	@echo "== figures (this run; older ones say when they were measured)"
	.venv/bin/python bench/figures.py

# Debian's chromium for the browser tests and the screenshots, driven by Playwright with
# executable_path (never a browser download). A fresh machine lacks it; needs root or sudo.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium"; \
	    $$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo) sh -c \
	    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'; }

# README's "Rehearse the whole path" block as printed: a Prefect server on 4200, both sandboxes,
# a worker and the key intake, up until Ctrl-C, which stops them all.
rehearsal: install
	.venv/bin/python -m scripts.rehearsal

# The rehearsal against a real Prefect server, photographed into docs/screenshots/.
screenshots: install chromium
	.venv/bin/python -m scripts.screenshots

clean:
	rm -rf .venv .tools data .pytest_cache .mypy_cache .ruff_cache
