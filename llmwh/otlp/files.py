"""Reading OTLP/JSON files: the export requests with their line numbers (the content hash
that records a load is llmwh.warehouse.loaded_files.content_sha256).

A file holds one export request per line (JSON Lines, as the collector's `file`
exporter writes) or one (pretty-printed) JSON document; either may be gzipped.
"""

import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Iterator, Union

from llmwh.errors import LlmwhError

CHUNK_BYTES = 2 << 20          # input per work unit
DETECT_LINES = 10


@dataclass
class Bad:
    """A line that is not a valid export request, with why."""
    line: int
    error: str
    raw: Union[str, bytes]        # bytes when the line is not UTF-8


def open_content(path):
    """The file's bytes, decompressed when it is gzip (by content, not name)."""
    with open(path, 'rb') as fh:
        gzipped = fh.read(2) == b'\x1f\x8b'
    return gzip.open(path, 'rb') if gzipped else open(path, 'rb')


def _read_error(path, ex) -> LlmwhError:
    return LlmwhError(f'{path}: cannot read the file: {ex}')


def _unit(lineno, raw: bytes):
    """(line number, text), or (line number, bytes, error) when it is not UTF-8."""
    raw = raw.rstrip(b'\r\n')
    try:
        return lineno, raw.decode('utf-8')
    except UnicodeDecodeError as ex:
        # Quarantined as the bytes read, so nothing is lost.
        return lineno, raw, f'not UTF-8 text: {ex.reason} at byte {ex.start}'


def _is_request(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def read_units(path) -> Iterator[tuple]:
    """The requests of a file with their line numbers: one per line (JSON Lines),
    or one (pretty-printed) document."""
    try:
        with open_content(path) as fh:
            lineno, first = 0, b''
            for lineno, first in enumerate(fh, 1):
                if first.strip():
                    break
            if not first.strip():
                return
            body = enumerate(fh, lineno + 1)
            if not _is_request(first):
                # Not JSON Lines, unless later lines are whole requests (a broken first line).
                rest = fh.read()
                whole = b'\n' * (lineno - 1) + first + rest
                lines = rest.split(b'\n')
                probe = [raw for raw in lines[:5 * DETECT_LINES] if raw.strip()][:DETECT_LINES]
                if _is_request(whole) or not any(_is_request(raw) for raw in probe):
                    yield _unit(1, whole)
                    return
                body = enumerate(lines, lineno + 1)
            yield _unit(lineno, first)
            for n, raw in body:
                if raw.strip():
                    yield _unit(n, raw)
    except (OSError, EOFError, zlib.error) as ex:
        raise _read_error(path, ex) from ex


def chunks(units) -> Iterator:
    """Work units of about CHUNK_BYTES; lines that could not be decoded pass through as Bad."""
    chunk, size = [], 0
    for unit in units:
        if len(unit) == 3:
            if chunk:
                yield chunk
                chunk, size = [], 0
            yield Bad(unit[0], unit[2], unit[1])
            continue
        chunk.append(unit)
        size += len(unit[1])
        if size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
