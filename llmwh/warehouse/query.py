"""`llmwh sql`: run a query on the target, rendered by the engine in an output format."""

from llmwh.errors import LlmwhError
from llmwh.warehouse.connection import Warehouse

# Friendly names for the common ClickHouse output formats; any other
# ClickHouse format name (Vertical, Markdown, ...) is passed through.
FORMATS = {
    'table': 'PrettyCompactMonoBlock',
    'tsv': 'TabSeparatedWithNames',
    'csv': 'CSVWithNames',
    'json': 'JSONEachRow',
}


def clean_query(query: str) -> str:
    """The query without surrounding blanks and trailing semicolons; empty is an error."""
    query = query.strip().rstrip(';').strip()
    if not query:
        raise LlmwhError('the query is empty')
    return query


def run_sql(wh: Warehouse, query: str, fmt: str) -> bytes:
    """Result of `query` rendered by the engine in `fmt` (friendly or ClickHouse name)."""
    ch_format = FORMATS.get(fmt.lower(), fmt)
    database = wh.target.schema
    if wh.database_exists(database):
        # Unqualified names resolve in the marts database, like dbt's schema.
        wh.use_database(database)
    return wh.raw(clean_query(query), fmt=ch_format)
