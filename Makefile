# The README's two commands. Both work on a fresh machine with only Python 3.11+ and the package registries.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint loop mutation bench bench-mock bench-reference bench-conformance bench-locust bench-audit bench-console clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "yzw-conform needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## demo: install the kit and run the main job available today (see README)
demo: $(VENV)/.installed-demo
	$(BIN)/yzw demo

## test: install the kit with its test extras, lint it, and run the kit's own tests
# --dist loadfile: a module runs on one worker (the PostgreSQL replicas share one database, locust wants the
# CPU to itself). Not loadgroup: with pytest 9.2 it silently stops grouping (pytest-xdist issue #1386).
test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(VENV)/.installed-test
	$(BIN)/ruff check conftest.py src conformance loadtests tests benchmarks scripts
	$(BIN)/ruff format --check conftest.py src conformance loadtests tests benchmarks scripts
	$(BIN)/mypy

## loop: every seeded fault over its whole chapter: fails its requirement and nothing but its declared collaterals
# (make test checks each fault against its own requirement's checks only; this takes over an hour on 2 cores)
loop: $(VENV)/.installed-test
	YZW_LOOP_SCOPE=chapter $(BIN)/python -m pytest -n 2 --dist loadfile tests/test_loop_shard_0.py tests/test_loop_shard_1.py tests/test_loop_shard_2.py tests/test_loop_shard_3.py

## mutation: mutation testing of the reference system, the conformance run as the test (about an hour)
# SAMPLE mutants per module of mutation/modules.yaml, seeded; survivors' diffs in build/mutation/.
SAMPLE ?= 15
mutation: $(VENV)/.installed-test
	$(BIN)/python scripts/mutation.py --sample $(SAMPLE)

## bench: the benchmarks (figures, not pass/fail)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_codes.py
	$(BIN)/python benchmarks/bench_validate.py

## bench-mock: the mock platform vs. Prism, and exchange ingest (needs wrk; npm for Prism)
# BEFORE=<another checkout> measures its platform in the same run too (before/after).
bench-mock: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_mock.py $(if $(BEFORE),--before $(BEFORE))

## bench-reference: signed application intake of the reference system, requests/s and p95 (needs wrk)
bench-reference: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_reference.py

## bench-conformance: how long a full conformance run and each chapter take against the reference system
bench-conformance: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_conformance.py

## bench-locust: the kit's signed intake user vs. a bare locust FastHttpUser on a trivial endpoint
bench-locust: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_locust.py

## bench-console: the web console's pages with 50 systems and 10,000 cases: p50 and p95 per page
bench-console: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_console.py

## bench-audit: yzw audit over a generated dump of 1,000,000 events: records/s and peak memory
bench-audit: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_audit.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
