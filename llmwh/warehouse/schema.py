"""`llmwh init`'s work: apply the rendered DDL, idempotently, and report drift."""

from llmwh.errors import LlmwhError
from llmwh.reporting import Echo, quiet
from llmwh.warehouse.connection import Warehouse
from llmwh.warehouse.ddl import DdlOptions, created_objects, render, settings_of, ttl_days_of
from llmwh.warehouse.introspect import existing_tables, missing_insert_columns


def apply_ddl(wh: Warehouse, options: DdlOptions, echo: Echo = quiet) -> dict:
    """Apply ddl/ in order; never drops or alters what exists. Returns name -> status.

    Where an existing table differs from what the DDL would create now
    (retention, table settings, missing exporter columns), `echo` gets a warning.
    """
    options.server_version = wh.server_version
    before = existing_tables(wh, options.database)
    statements = render(options)
    for statement in statements:
        try:
            wh.command(statement.sql)
        except LlmwhError as ex:
            raise LlmwhError(f'{statement.source}: {ex}') from ex
    status = {}
    for name, sql in created_objects(statements).items():
        if name in before:
            status[name] = 'exists'
            for warning in drift_warnings(wh, options.database, name, before[name], sql):
                echo(f'  warning: {warning}', err=True)
        else:
            status[name] = 'created'
    return status


def drift_warnings(wh: Warehouse, database: str, name: str, engine_full: str, rendered_sql: str) -> list:
    """How an existing table differs from what the DDL would create now.

    The wanted retention is the rendered DDL's own: bookkeeping tables created
    without ttl() want none, whatever the default retention.
    """
    if name.endswith('_mv'):
        return []
    warnings = []
    current, wanted = ttl_days_of(engine_full), ttl_days_of(rendered_sql)
    if current != wanted:
        warnings.append(f'{name} keeps its retention of {current or "unlimited"} days '
                        f'(configured: {wanted or "unlimited"}); init never alters existing tables: '
                        f'use ALTER TABLE ... MODIFY TTL to change it')
    existing = settings_of(engine_full)
    for key, value in settings_of(rendered_sql).items():
        if existing.get(key) != value:
            # e.g. otel_traces/otel_logs from before inline String lengths (README.md, upgrade notes)
            warnings.append(f'{name} was created without {key} = {value}; init never alters existing '
                            f'tables: use ALTER TABLE ... MODIFY SETTING to change it')
    missing = missing_insert_columns(wh, database, name)
    if missing:
        warnings.append(f'{name} lacks columns the exporter inserts: {", ".join(missing)}')
    return warnings
