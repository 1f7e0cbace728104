"""OTLP/JSON export requests -> JSONEachRow lines of the exporter's rows, per work unit.

Runs in worker processes too, so it holds no state and imports nothing heavy
beyond the mapping.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from llmwh.otlp.files import Bad
from llmwh.otlp.mapping import OtlpError, json_rows

# Columns holding DateTime64(9); sent as ISO 8601 UTC text with 9 decimals
# (a bare number is ambiguous to ClickHouse's DateTime64 text parser).
DT64_COLUMNS = {'otel_traces': ('Timestamp', 'Events.Timestamp'), 'otel_logs': ('Timestamp',)}


@dataclass
class Converted:
    """Rows of one work unit: JSONEachRow bytes and counts per table, and its bad lines."""
    data: dict = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    oldest: dict = field(default_factory=dict)   # table -> earliest row time, epoch seconds
    bad: list = field(default_factory=list)
    lines: int = 0


_EPOCH = datetime(1970, 1, 1)


@lru_cache(maxsize=1 << 16)
def _second_text(sec: int) -> str:
    return (_EPOCH + timedelta(seconds=sec)).strftime('%Y-%m-%dT%H:%M:%S')


def iso_ns(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    return f'{_second_text(sec)}.{frac:09d}Z'


def row_json(table: str, row: dict) -> str:
    """One JSONEachRow line for `row` (DateTime64 nanoseconds become exact ISO text)."""
    for col in DT64_COLUMNS.get(table, ()):
        value = row[col]
        row[col] = iso_ns(value) if isinstance(value, int) else [iso_ns(v) for v in value]
    return json.dumps(row, separators=(',', ':'))


def _row_seconds(row) -> int:
    return row['Timestamp'] // 1_000_000_000 if 'Timestamp' in row else row['TimeUnix']


def convert_chunk(units: list) -> Converted:
    """Rows of (line number, JSON text) requests; runs in worker processes too."""
    out = Converted()
    lines = {}
    for lineno, text in units:
        out.lines += 1
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as ex:
            line = lineno + ex.lineno - 1
            out.bad.append(Bad(line, f'invalid JSON: {ex.msg} (column {ex.colno})', text))
            continue
        except RecursionError:
            out.bad.append(Bad(lineno, 'invalid JSON: nested too deeply', text))
            continue
        try:
            tables = json_rows(obj)
        except (OtlpError, RecursionError) as ex:
            out.bad.append(Bad(lineno, f'invalid OTLP: {ex}', text))
            continue
        for table, rows in tables.items():
            oldest = min(_row_seconds(row) for row in rows)
            out.oldest[table] = min(oldest, out.oldest.get(table, oldest))
            lines.setdefault(table, []).extend(row_json(table, row) for row in rows)
            out.counts[table] += len(rows)
    out.data = {table: ('\n'.join(rows) + '\n').encode() for table, rows in lines.items()}
    return out
