# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench clean

setup: $(STAMP) profiles.yml

# Reinstall when the dependency pins change.
$(STAMP): pyproject.toml constraints.txt adapters/dbt-chdb/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
		-e adapters/dbt-chdb -e '.[dev]'
	touch $@

profiles.yml:
	cp profiles.example.yml profiles.yml

demo: setup
	$(BIN)/llmwh init
	$(BIN)/llmwh load sample
	$(BIN)/dbt build
	$(BIN)/llmwh status

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/sqlfluff lint models tests/dbt

clean:
	rm -rf .warehouse target logs
