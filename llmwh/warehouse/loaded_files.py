"""The record of loaded files (table llmwh_loaded_files): one row per load of
a file, keyed by the sha256 of its content, so a re-run skips content it has
loaded before. The one definition of that bookkeeping: `llmwh load usage`
(llmwh/billing/loader.py) and `llmwh load otlp` (llmwh/otlp/loader.py) both
hash, look up and record files through these functions.
"""

import gzip
import hashlib
import os
import zlib
from datetime import datetime
from typing import Optional

from llmwh.errors import LlmwhError
from llmwh.warehouse.connection import Warehouse
from llmwh.warehouse.ddl import quote

LOADED_FILES = 'llmwh_loaded_files'
LOADED_FILES_COLUMNS = ('sha256', 'file', 'size_bytes', 'rows', 'bad_lines', 'loaded_at')


def content_sha256(path) -> tuple:
    """sha256 and size of the content (decompressed), so a .gz of a loaded file counts as loaded."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, 'rb') as fh:
            gzipped = fh.read(2) == b'\x1f\x8b'
        with (gzip.open(path, 'rb') if gzipped else open(path, 'rb')) as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
                size += len(block)
    except (OSError, EOFError, zlib.error) as ex:
        raise LlmwhError(f'{path}: cannot read the file: {ex}') from ex
    return digest.hexdigest(), size


def previous_loads(wh: Warehouse, database: str, hashes) -> dict:
    """sha256 -> (file, loaded_at) of the first load of each of these contents loaded before."""
    if not hashes:
        return {}
    rows = wh.rows(f'select sha256, file, loaded_at from {quote(database)}.{quote(LOADED_FILES)} '
                   'where sha256 in {h:Array(String)} order by loaded_at limit 1 by sha256', {'h': list(hashes)})
    return {sha256: (file, loaded_at) for sha256, file, loaded_at in rows}


def previous_load(wh: Warehouse, database: str, sha256: str) -> Optional[tuple]:
    """(file, loaded_at) of the first load of this content, or None."""
    return previous_loads(wh, database, [sha256]).get(sha256)


def load_record(sha256: str, path: str, size: int, rows: dict, loaded_at: datetime, bad_lines: int = 0) -> list:
    """A row of LOADED_FILES, in LOADED_FILES_COLUMNS order."""
    return [sha256, os.path.abspath(path), size, rows, bad_lines, loaded_at]


def record_loads(wh: Warehouse, database: str, records: list):
    """Record loads (load_record rows) with one insert."""
    wh.insert(LOADED_FILES, records, list(LOADED_FILES_COLUMNS), database=database)


def record_load(wh: Warehouse, database: str, sha256: str, path: str, size: int, rows: dict,
                loaded_at: datetime, bad_lines: int = 0):
    record_loads(wh, database, [load_record(sha256, path, size, rows, loaded_at, bad_lines)])


def skipped_message(path: str, previous: tuple) -> str:
    file, loaded_at = previous
    when = f' at {loaded_at:%Y-%m-%d %H:%M:%S} UTC' if loaded_at else ' earlier in this run'
    same = '' if file == os.path.abspath(path) else f' (same content as {file})'
    return f'{path}: already loaded{when}{same}; skipped (--force loads it again)'
