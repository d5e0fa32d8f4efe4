# ParkBrain — one verb per chore. Every target creates .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DB     ?= parkbrain.duckdb
PORT   ?= 8000

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,geo,bim,brick,mqtt,spark,llm]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: $(STAMP)  ## build the demo province and serve it on http://127.0.0.1:8000
	$(VENV)/bin/parkbrain demo --db $(DB) --port $(PORT)

test: $(STAMP)  ## run the whole test suite
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

bench: $(STAMP)  ## benchmarks print their figure beside a reference measured in the same run
	$(PY) benchmarks/bench_demo.py
	$(PY) benchmarks/bench_api.py
	$(PY) benchmarks/bench_console.py
	$(PY) benchmarks/bench_import.py
	$(PY) benchmarks/bench_ask.py
	$(VENV)/bin/parkbrain bench telemetry
	$(VENV)/bin/parkbrain bench skab
	$(VENV)/bin/parkbrain bench forecast

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache artifacts
