"""What the warehouse already holds: tables, their columns and retention."""

from llmwh.warehouse.connection import Warehouse
from llmwh.warehouse.ddl import ttl_days_of
from llmwh.warehouse.exporter import INSERT_COLUMNS


def existing_tables(wh: Warehouse, database: str) -> dict:
    """name -> engine_full of the tables and views already in `database`."""
    return dict(wh.rows('select name, engine_full from system.tables where database = {db:String}',
                        {'db': database}))


def table_columns(wh: Warehouse, database: str) -> dict:
    """table -> set of column names, for every table in `database`."""
    have = {}
    for table, name in wh.rows('select table, name from system.columns where database = {db:String}',
                               {'db': database}):
        have.setdefault(table, set()).add(name)
    return have


def table_retention_days(wh: Warehouse, database: str) -> dict:
    """name -> TTL days of the tables in `database` that have a TTL.

    In the cluster form the TTL sits on `<name>_local`; it is reported under `<name>`.
    """
    retention = {}
    for name, engine_full in existing_tables(wh, database).items():
        days = ttl_days_of(engine_full)
        if days:
            retention[name.removesuffix('_local')] = days
    return retention


def missing_insert_columns(wh: Warehouse, database: str, table: str) -> list:
    """Columns of the exporter's insert into `table` that the table lacks."""
    have = table_columns(wh, database).get(table, set())
    return [c for c in INSERT_COLUMNS.get(table, ()) if c not in have]
