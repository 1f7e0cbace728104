"""llm-otel-warehouse: a ClickHouse warehouse and dbt project for LLM telemetry."""

__version__ = '0.1.0'
