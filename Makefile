# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   -> .venv, install, demo data, AutoML job, leaderboard, forecasts
#   make test   -> dev install, ruff, mypy, pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA := data/demo/sales.csv
DEMO_FUTURE := data/demo/future.csv
DEMO_RUN  := runs/demo

.PHONY: demo test install dev lint typecheck bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the local CPU build; anything later that needs torch finds it in place.
	$(BIN)/pip install --quiet torch==2.13.0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

demo: $(VENV)/.installed
	$(BIN)/tidecast demo-data --out $(DEMO_DATA) --items 125 --seed 42 --future-out $(DEMO_FUTURE) --horizon 14
	$(BIN)/tidecast train $(DEMO_DATA) --horizon 14 --quantiles 0.1,0.5,0.9 --metric wql \
		--item-col item_id --timestamp-col timestamp --target-col target_value \
		--known-covariates promotion,is_holiday --static-columns category,region \
		--future $(DEMO_FUTURE) --freq D --preset medium --out $(DEMO_RUN)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The browser tests (reports, dashboard, /docs) drive Debian's chromium, never a downloaded
# browser: installed here when apt can (root), else those tests are skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium is not installed: the browser tests will be skipped"

test: lint typecheck browser
	$(BIN)/pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs data/demo .mypy_cache .ruff_cache .pytest_cache
