"""The warehouse itself: connections, the raw DDL, the exporter's insert contract,
table introspection, queries and what dbt built.

Everything that reads or writes the warehouse goes through `connect()`; the
other packages (otlp, billing, sample) use this one and never each other.
"""

from llmwh.warehouse.connection import Warehouse, clean_error, connect

__all__ = ['Warehouse', 'clean_error', 'connect']
