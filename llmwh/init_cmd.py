"""`llmwh init`: create the raw OTel database and tables (idempotent)."""

import click

from llmwh.ddl import DdlOptions, created_objects, render, ttl_days_of
from llmwh.errors import LlmwhError
from llmwh.exporter import INSERT_COLUMNS
from llmwh.warehouse import Warehouse


def existing_tables(wh: Warehouse, database: str) -> dict:
    """name -> engine_full of the tables and views already in `database`."""
    return dict(wh.rows('select name, engine_full from system.tables where database = {db:String}',
                        {'db': database}))


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
    have = {name for (name,) in wh.rows(
        'select name from system.columns where database = {db:String} and table = {t:String}',
        {'db': database, 't': table})}
    return [c for c in INSERT_COLUMNS.get(table, ()) if c not in have]


def apply_ddl(wh: Warehouse, options: DdlOptions, echo=click.echo) -> dict:
    """Apply ddl/ in order; never drops or alters what exists. Returns name -> status."""
    options.server_version = wh.server_version
    before = existing_tables(wh, options.database)
    statements = render(options)
    for statement in statements:
        try:
            wh.command(statement.sql)
        except LlmwhError as ex:
            raise LlmwhError(f'{statement.source}: {ex.format_message()}') from ex
    status = {}
    for name, sql in created_objects(statements).items():
        if name in before:
            status[name] = 'exists'
            _warn_on_drift(wh, options.database, name, before[name], sql, echo)
        else:
            status[name] = 'created'
    return status


def _warn_on_drift(wh, database, name, engine_full, rendered_sql, echo):
    """Warn where an existing table differs from what the DDL would create now.

    The wanted retention is the rendered DDL's own: bookkeeping tables created
    without ttl() want none, whatever the default retention.
    """
    if name.endswith('_mv'):
        return
    current, wanted = ttl_days_of(engine_full), ttl_days_of(rendered_sql)
    if current != wanted:
        echo(f'  warning: {name} keeps its retention of {current or "unlimited"} days '
             f'(configured: {wanted or "unlimited"}); init never alters existing tables: '
             f'use ALTER TABLE ... MODIFY TTL to change it', err=True)
    missing = missing_insert_columns(wh, database, name)
    if missing:
        echo(f'  warning: {name} lacks columns the exporter inserts: {", ".join(missing)}', err=True)
