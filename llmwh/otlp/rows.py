"""OTLP/JSON export requests -> Arrow batches of the exporter's rows, per work unit.

Runs in worker processes too, so it holds no state and imports nothing heavy
beyond the mapping and pyarrow (no warehouse, no engine).
"""

import gc
import json
from collections import Counter
from dataclasses import dataclass, field

import orjson

from llmwh.otlp.batches import record_batch
from llmwh.otlp.fast import json_groups, short_groups
from llmwh.otlp.files import Bad
from llmwh.otlp.mapping import OtlpError


@dataclass
class Converted:
    """Rows of one work unit: an Arrow batch and a count per table, and its bad lines."""
    data: dict = field(default_factory=dict)      # table -> pyarrow.RecordBatch
    counts: Counter = field(default_factory=Counter)
    oldest: dict = field(default_factory=dict)   # table -> earliest row time, epoch seconds
    bad: list = field(default_factory=list)
    lines: int = 0


def _groups(units: list, out: Converted) -> dict:
    """table -> row groups of the good requests; bad ones go to out.bad."""
    tables = {}
    for lineno, text in units:
        out.lines += 1
        groups = _short_decoded(text)
        if groups is not None:
            for table, table_groups in groups.items():
                tables.setdefault(table, []).extend(table_groups)
            continue
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
            groups = json_groups(obj)
        except (OtlpError, RecursionError) as ex:
            out.bad.append(Bad(lineno, f'invalid OTLP: {ex}', text))
            continue
        for table, table_groups in groups.items():
            tables.setdefault(table, []).extend(table_groups)
    return tables


def _short_decoded(text: str):
    """Groups of a request orjson decodes and the short way reads, else None (then the
    request is decoded again with json.loads and read as before: error messages, NaN
    and the long way's exact integers all come from there)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return short_groups(obj)


def convert_chunk(units: list) -> Converted:
    """Rows of (line number, JSON text) requests; runs in worker processes too."""
    out = Converted()
    # Decoded requests are trees without cycles: the collector would only walk
    # them again and again while they are built (a quarter of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for table, groups in _groups(units, out).items():
            out.data[table], out.oldest[table] = record_batch(table, groups)
            out.counts[table] = out.data[table].num_rows
    finally:
        if collecting:
            gc.enable()
    return out


def worker_ready():
    """Pool initializer: a worker that runs it has imported this module and the mapping."""
