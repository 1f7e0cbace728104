"""`llmwh init`: create the raw OTel database and tables (idempotent)."""

import re

import click

from llmwh.ddl import DdlOptions, render, table_names
from llmwh.errors import LlmwhError
from llmwh.exporter import INSERT_COLUMNS
from llmwh.warehouse import Warehouse


def existing_tables(wh: Warehouse, database: str) -> dict:
    """name -> engine_full of the tables and views already in `database`."""
    return dict(wh.rows('select name, engine_full from system.tables where database = {db:String}',
                        {'db': database}))


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
    # Retention wanted = what the DDL renders: a table created without ttl()
    # (llmwh bookkeeping) wants none, whatever the default retention.
    rendered = {m.group(1): st.sql for st in statements
                if (m := re.match(r'create table if not exists `[^`]+`\.`([^`]+)`', st.sql))}
    status = {}
    for name in table_names(options):
        if name in before:
            status[name] = 'exists'
            _warn_on_drift(wh, options, name, before[name], echo, rendered.get(name))
        else:
            status[name] = 'created'
    return status


def _warn_on_drift(wh, options, name, engine_full, echo, rendered=None):
    if name.endswith('_mv'):
        return
    m = re.search(r'toIntervalDay\((\d+)\)', engine_full)
    current, wanted = (int(m.group(1)) if m else 0), options.ttl_days(name)
    if rendered is not None:
        w = re.search(r'toIntervalDay\((\d+)\)', rendered)
        wanted = int(w.group(1)) if w else 0
    if current != wanted:
        echo(f'  warning: {name} keeps its retention of {current or "unlimited"} days '
             f'(configured: {wanted or "unlimited"}); init never alters existing tables: '
             f'use ALTER TABLE ... MODIFY TTL to change it', err=True)
    missing = missing_insert_columns(wh, options.database, name)
    if missing:
        echo(f'  warning: {name} lacks columns the exporter inserts: {", ".join(missing)}', err=True)
