# Two commands on a fresh machine: `make demo` (set up, run the main job) and
# `make test` (set up, run the whole test suite). Both create .venv on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench clean

$(BIN)/flowsim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/flowsim
	$(BIN)/flowsim experiment experiments/slow_down_to_speed_up.yaml --out results/slow_down_to_speed_up
	mkdir -p docs/figures
	cp results/slow_down_to_speed_up/figures/sweep_curve.png results/slow_down_to_speed_up/figures/lead_week.png \
	   results/slow_down_to_speed_up/figures/forest.png results/slow_down_to_speed_up/figures/arr.png docs/figures/

test: $(BIN)/flowsim
	$(BIN)/pytest -n auto

test-fast: $(BIN)/flowsim
	$(BIN)/pytest -n auto -m "not slow"

lint: $(BIN)/flowsim
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(BIN)/flowsim
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
