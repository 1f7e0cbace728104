"""`llmwh sql`: run a query on the target, rendered by the engine in an output format."""

import re

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


# readonly=2: reads and SET only; no INSERT, DDL or other change of data.
READ_ONLY = {'readonly': 2}

# Statements that return rows, rendered by the engine in the output format.
# Any other (INSERT ... VALUES, SET, DDL) runs as a command: a FORMAT clause
# appended to it would be read as part of the statement (VALUES data, a setting).
RESULT_KEYWORDS = {'select', 'with', 'show', 'describe', 'desc', 'explain', 'exists', 'check'}
_LEADING = re.compile(r'(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*', re.S)
_WORD = re.compile(r'[a-z]+', re.I)


def returns_rows(query: str) -> bool:
    """Whether the statement is one that returns rows (its first keyword, past comments)."""
    word = _WORD.match(query, _LEADING.match(query).end())
    return bool(word) and word.group(0).lower() in RESULT_KEYWORDS


def run_sql(wh: Warehouse, query: str, fmt: str, write: bool = False) -> bytes:
    """Result of `query` rendered by the engine in `fmt` (friendly or ClickHouse name).
    Read-only unless `write`: the engine refuses statements that change anything."""
    ch_format = FORMATS.get(fmt.lower(), fmt)
    database = wh.target.schema
    if wh.database_exists(database):
        # Unqualified names resolve in the marts database, like dbt's schema.
        wh.use_database(database)
    query = clean_query(query)
    settings = None if write else READ_ONLY
    try:
        if returns_rows(query):
            return wh.raw(query, fmt=ch_format, settings=settings)
        wh.command(query, settings=settings)
        return b''
    except LlmwhError as ex:
        raise LlmwhError(error_line(str(ex), ch_format, write)) from None


_FORMAT_SUFFIX = re.compile(r'\s*\bFORMAT\s+\w+\b')


def error_line(message: str, ch_format: str, write: bool) -> str:
    """The engine's error as one line, without the FORMAT clause the client appended."""
    message = ' '.join(_FORMAT_SUFFIX.sub('', message).split())
    if not write and '(READONLY)' in message:
        message += '; `llmwh sql` is read-only: add --write to change data'
    return message
