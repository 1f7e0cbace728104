# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup chromium demo test lint bench dashboards bench-dashboards clean

setup: $(STAMP) profiles.yml

# Reinstall when the dependency pins change.
$(STAMP): pyproject.toml constraints.txt adapters/dbt-chdb/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e adapters/dbt-chdb -e '.[dev]'
	touch $@

profiles.yml:
	cp profiles.example.yml profiles.yml

# tests/test_report.py renders `llmwh report` in headless Chromium: Debian's
# packages, installed once when missing (CI runs as root; sudo otherwise).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium: $(CHROMIUM)

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends \
		chromium chromium-driver

# A few days of generated LLM telemetry (deterministic seed), loaded the way a
# collector backfill would be, then the dbt project built on top of it.
DEMO_DATA := .demo-telemetry
demo: setup
	$(BIN)/llmwh init
	$(BIN)/llmwh generate --out $(DEMO_DATA) --days 3 --conversations 60 --seed 42
	$(BIN)/llmwh load otlp $(DEMO_DATA)/traces*.jsonl $(DEMO_DATA)/logs*.jsonl $(DEMO_DATA)/metrics*.jsonl
	$(BIN)/llmwh load usage --provider openai $(DEMO_DATA)/billing/openai_usage_completions.jsonl
	$(BIN)/llmwh load usage --provider anthropic $(DEMO_DATA)/billing/anthropic_usage_messages.jsonl
	$(BIN)/dbt build
	$(BIN)/llmwh status

test: setup $(CHROMIUM)
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/sqlfluff lint models tests/dbt macros queries

# Not a test: issue 8's benchmarks over a 1M-span history (see bench/README.md);
# ARGS='--spans 200000' for a quick run, ARGS='--spans 10000000' for the full one.
bench: setup
	$(BIN)/python bench/bench_warehouse.py $(ARGS)

# Grafana dashboards as code: regenerate dashboards/grafana/json/ (committed;
# a test fails when it differs from what this generates).
dashboards: setup
	$(BIN)/python -m dashboards.build

# Not a test: every panel query and cookbook query on the warehouse (run `make demo`
# first, or set LLMWH_TARGET/LLMWH_PATH), median latency per panel over the last 7 days.
bench-dashboards: setup
	$(BIN)/python -m dashboards.run_queries --cookbook queries $(ARGS)

clean:
	rm -rf .warehouse $(DEMO_DATA) target logs
