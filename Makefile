PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint sql-fix bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,analysis]"
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p output
	$(BIN)/planwise run --database output/planwise.duckdb --json-out output/run_result.json
	$(BIN)/planwise summary --database output/planwise.duckdb > output/.summary.txt.tmp
	mv output/.summary.txt.tmp output/summary.txt
	cat output/summary.txt
	$(BIN)/planwise report --database output/planwise.duckdb --out output/report.html
	@echo "results: output/planwise.duckdb, output/run_result.json, output/summary.txt, output/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest

# SQL: sqlfluff with the dbt templater (.sqlfluff) over the models and data tests; no database is opened.
SQL_LINT_PATHS := planwise_core/dbt_project/models planwise_core/dbt_project/tests
# sqlfluff's parser recurses once per nesting level: the NDT summary's nested subqueries need more than Python's
# default recursion limit of 1000 (one process: sqlfluff's worker processes would not inherit the limit).
SQLFLUFF := $(BIN)/python -c 'import sys; sys.setrecursionlimit(20000); from sqlfluff.cli.commands import cli; cli()'

lint: $(STAMP)
	$(BIN)/ruff check .
	PLANWISE_DATABASE=:memory: $(SQLFLUFF) lint $(SQL_LINT_PATHS) --processes 1 --disable-progress-bar

# The mechanical SQL fixes the lint rules allow (review the diff; the tables must not change).
sql-fix: $(STAMP)
	PLANWISE_DATABASE=:memory: $(SQLFLUFF) fix $(SQL_LINT_PATHS) --processes 1 --disable-progress-bar

bench: $(STAMP)
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python bench/bench.py --quick $(BENCH_ARGS)

clean:
	rm -rf output .pytest_cache
