"""`llmwh run`: one scheduled cycle (lock, source freshness, incremental dbt
build, data-quality checks, a record in otel.llmwh_runs). See cycle.py."""
