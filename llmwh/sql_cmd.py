"""`llmwh sql`: run a query on the target and print the result."""

import sys

from llmwh.errors import LlmwhError
from llmwh.warehouse import Warehouse

# Friendly names for the common ClickHouse output formats; any other
# ClickHouse format name (Vertical, Markdown, ...) is passed through.
FORMATS = {
    'table': 'PrettyCompactMonoBlock',
    'tsv': 'TabSeparatedWithNames',
    'csv': 'CSVWithNames',
    'json': 'JSONEachRow',
}


def read_query(query: str) -> str:
    if query in (None, '-'):
        if sys.stdin.isatty():
            raise LlmwhError('give a query as an argument, or pipe one in with `-`')
        query = sys.stdin.read()
    query = query.strip().rstrip(';').strip()
    if not query:
        raise LlmwhError('the query is empty')
    return query


def run_sql(wh: Warehouse, query: str, fmt: str) -> bytes:
    """Result of `query` rendered by the engine in `fmt` (friendly or ClickHouse name)."""
    ch_format = FORMATS.get(fmt.lower(), fmt)
    database = wh.target.schema
    if wh.rows('select count() from system.databases where name = {db:String}', {'db': database})[0][0]:
        # Unqualified names resolve in the marts database, like dbt's schema.
        wh.client.database = database
    return wh.raw(query, fmt=ch_format)
