"""`llmwh load otlp`: backfill OTLP/JSON files into the raw tables as the exporter writes them.

Per file: hash the (decompressed) content and skip it when that content was
loaded before; turn every request into exporter rows (llmwh.otlp), spooled as
JSONEachRow that ClickHouse parses itself; insert only after the whole file
parsed, so a bad line leaves nothing of its file behind unless --skip-bad
quarantines it; then record the file in llmwh_loaded_files. Big inputs are
parsed by worker processes: protobuf's JSON parser is pure Python and is
the bottleneck.
"""

import gzip
import hashlib
import json
import multiprocessing
import os
import tempfile
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import click
from clickhouse_connect.driver.exceptions import ClickHouseError

from llmwh.ddl import quote
from llmwh.errors import LlmwhError
from llmwh.exporter import INSERT_COLUMNS
from llmwh.init_cmd import table_retention_days
from llmwh.otlp import OtlpError, json_rows
from llmwh.warehouse import Warehouse, clean_error

LOADED_FILES = 'llmwh_loaded_files'
QUARANTINE = 'llmwh_quarantine'
LOADED_FILES_COLUMNS = ('sha256', 'file', 'size_bytes', 'rows', 'bad_lines', 'loaded_at')
QUARANTINE_COLUMNS = ('file', 'sha256', 'line', 'error', 'raw', 'loaded_at')
# Columns holding DateTime64(9); sent as ISO 8601 UTC text with 9 decimals
# (a bare number is ambiguous to ClickHouse's DateTime64 text parser).
DT64_COLUMNS = {'otel_traces': ('Timestamp', 'Events.Timestamp'), 'otel_logs': ('Timestamp',)}
INSERT_SETTINGS = {'date_time_input_format': 'best_effort', 'input_format_skip_unknown_fields': 1}
CHUNK_BYTES = 2 << 20          # input per work unit
POOL_MIN_BYTES = 8 << 20       # smaller files parse in-process: starting workers costs more
SPOOL_MEMORY_BYTES = 64 << 20  # spooled rows beyond this go to a temp file
PROGRESS_SECONDS = 10
DETECT_LINES = 10


@dataclass
class Bad:
    line: int
    error: str
    raw: str        # bytes when the line is not UTF-8


@dataclass
class Converted:
    """Rows of one work unit: JSONEachRow bytes and counts per table, and its bad lines."""
    data: dict = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    oldest: dict = field(default_factory=dict)   # table -> earliest row time, epoch seconds
    bad: list = field(default_factory=list)
    lines: int = 0


@dataclass
class Summary:
    rows: Counter = field(default_factory=Counter)
    loaded: int = 0
    skipped: int = 0
    bad_lines: int = 0
    seconds: float = 0.0


# ------------------------------------------------------------ conversion

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


def convert_chunk(units) -> Converted:
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


# --------------------------------------------------------------- reading

def _open(path):
    """The file's bytes, decompressed when it is gzip (by content, not name)."""
    with open(path, 'rb') as fh:
        gzipped = fh.read(2) == b'\x1f\x8b'
    return gzip.open(path, 'rb') if gzipped else open(path, 'rb')


def _read_error(path, ex) -> LlmwhError:
    return LlmwhError(f'{path}: cannot read the file: {ex}')


def content_sha256(path) -> tuple:
    """sha256 and size of the content (decompressed), so a .gz of a loaded file counts as loaded."""
    digest, size = hashlib.sha256(), 0
    try:
        with _open(path) as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
                size += len(block)
    except (OSError, EOFError, zlib.error) as ex:
        raise _read_error(path, ex) from ex
    return digest.hexdigest(), size


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


def read_units(path):
    """The requests of a file with their line numbers: one per line (JSON Lines),
    or one (pretty-printed) document."""
    try:
        with _open(path) as fh:
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


def _chunks(units):
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


# --------------------------------------------------------------- loading

class _Spool:
    """Rows of one table for one file, in memory up to a size, then on disk."""

    def __init__(self):
        self.fh = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)

    def blocks(self):
        self.fh.seek(0)
        while block := self.fh.read(8 << 20):
            yield block


class OtlpLoader:
    def __init__(self, wh: Warehouse, database: str, force=False, skip_bad=False, jobs=None,
                 echo=click.echo):
        self.wh, self.database = wh, database
        self.force, self.skip_bad = force, skip_bad
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.echo = echo
        self.pool = None
        self.columns = self._insert_columns()
        self.ttl_days = self._ttl_days()
        self.seen = {}   # sha256 -> file, loaded by this run

    # -- tables

    def _insert_columns(self) -> dict:
        have = {}
        for table, name in self.wh.rows(
                'select table, name from system.columns where database = {db:String}', {'db': self.database}):
            have.setdefault(table, set()).add(name)
        columns = {}
        for table, wanted in [*INSERT_COLUMNS.items(), (LOADED_FILES, LOADED_FILES_COLUMNS),
                              (QUARANTINE, QUARANTINE_COLUMNS)]:
            if table not in have:
                raise LlmwhError(f'table {self.database}.{table} does not exist; create it with `llmwh init`')
            # Like the exporter: EventName is sent only when the logs table has it.
            cols = [c for c in wanted if c in have[table] or c != 'EventName']
            missing = [c for c in cols if c not in have[table]]
            if missing:
                raise LlmwhError(f'{self.database}.{table} lacks columns the exporter inserts: '
                                 f'{", ".join(missing)}')
            columns[table] = cols
        return columns

    def _ttl_days(self) -> dict:
        return {name: days for name, days in table_retention_days(self.wh, self.database).items()
                if name in INSERT_COLUMNS}

    def _warn_past_retention(self, path, oldest):
        for table, seconds in sorted(oldest.items()):
            days = self.ttl_days.get(table)
            if days and seconds < time.time() - days * 86400:
                day = (_EPOCH + timedelta(seconds=seconds)).date()
                self.echo(f'  warning: {path}: {table} rows go back to {day}, past the table\'s {days}-day '
                          'retention: TTL drops them. Backfill old data into tables created with '
                          '`llmwh init --no-ttl` (or ALTER TABLE ... REMOVE TTL)', err=True)

    def _previous_load(self, sha256):
        if sha256 in self.seen:
            return self.seen[sha256], None
        rows = self.wh.rows(
            f'select file, loaded_at from {quote(self.database)}.{quote(LOADED_FILES)} '
            'where sha256 = {h:String} order by loaded_at limit 1', {'h': sha256})
        return rows[0] if rows else None

    # -- files

    def load(self, paths) -> Summary:
        for p in paths:
            if not os.path.isfile(p):
                raise LlmwhError(f'{p} is not a file' if os.path.exists(p) else f'no such file: {p}')
        summary = Summary()
        started = time.monotonic()
        try:
            for path in paths:
                self._load_file(str(path), summary)
        finally:
            if self.pool is not None:
                self.pool.terminate()
                self.pool = None
        summary.seconds = time.monotonic() - started
        return summary

    def _load_file(self, path, summary):
        sha256, size = content_sha256(path)
        if not size:
            # All empty files share one hash; none is "the same file" as another.
            self.echo(f'  {path}: empty; nothing to load')
            return
        previous = None if self.force else self._previous_load(sha256)
        if previous:
            file, loaded_at = previous
            when = f' at {loaded_at:%Y-%m-%d %H:%M:%S} UTC' if loaded_at else ' earlier in this run'
            same = '' if file == os.path.abspath(path) else f' (same content as {file})'
            self.echo(f'  {path}: already loaded{when}{same}; skipped (--force loads it again)')
            summary.skipped += 1
            return
        started = time.monotonic()
        spools, counts, bad, oldest = {}, Counter(), [], {}
        lines, last_report = 0, started
        for result in self._convert(read_units(path), size):
            if result.bad and not self.skip_bad:
                first = result.bad[0]
                raise LlmwhError(f'{path} line {first.line}: {first.error}; nothing from this file was '
                                 'loaded (--skip-bad quarantines bad lines and loads the rest)')
            bad.extend(result.bad)
            for table, data in result.data.items():
                spools.setdefault(table, _Spool()).fh.write(data)
            counts.update(result.counts)
            for table, seconds in result.oldest.items():
                oldest[table] = min(seconds, oldest.get(table, seconds))
            lines += result.lines
            now = time.monotonic()
            if now - last_report >= PROGRESS_SECONDS:
                total = sum(counts.values())
                self.echo(f'    ... {path}: {lines:,} requests, {total:,} rows '
                          f'({total / (now - started):,.0f} rows/s)')
                last_report = now
        loaded_at = datetime.now(timezone.utc)
        done = []
        for table in sorted(spools):
            try:
                self._insert_json(table, spools.pop(table))
            except LlmwhError as ex:
                if not done:
                    raise
                # Rare (the engine failed between tables), but say what a re-run would double.
                raise LlmwhError(f'{ex.format_message()}; {path} is not recorded as loaded but its '
                                 f'{", ".join(done)} rows are in: delete them before loading it again') from ex
            done.append(table)
        if bad:
            rows = [[os.path.abspath(path), sha256, b.line, b.error,
                     b.raw if isinstance(b.raw, bytes) else b.raw.encode(), loaded_at] for b in bad]
            self.wh.insert(QUARANTINE, rows, self.columns[QUARANTINE], database=self.database)
        # Recorded last: a file counts as loaded only once all its rows are in.
        self.wh.insert(LOADED_FILES, [[sha256, os.path.abspath(path), size, dict(counts), len(bad), loaded_at]],
                       self.columns[LOADED_FILES], database=self.database)
        self.seen[sha256] = os.path.abspath(path)
        seconds = time.monotonic() - started
        total = sum(counts.values())
        per_table = ', '.join(f'{t} {n:,}' for t, n in sorted(counts.items())) or 'no rows'
        quarantined = f'; {len(bad):,} bad line(s) quarantined' if bad else ''
        self.echo(f'  {path}: {total:,} rows ({per_table}) in {seconds:.1f}s, '
                  f'{total / seconds if seconds else 0:,.0f} rows/s{quarantined}')
        self._warn_past_retention(path, oldest)
        summary.loaded += 1
        summary.rows.update(counts)
        summary.bad_lines += len(bad)

    def _convert(self, units, size):
        """Converted work units, in file order; in worker processes when the file is big."""
        items = _chunks(units)
        if self.jobs == 1 or size < POOL_MIN_BYTES:
            for item in items:
                yield Converted(bad=[item]) if isinstance(item, Bad) else convert_chunk(item)
            return
        if self.pool is None:
            # spawn, not fork: this process runs the engine's threads.
            self.pool = multiprocessing.get_context('spawn').Pool(self.jobs)
        pending = deque()
        for item in items:
            if isinstance(item, Bad):
                pending.append(Converted(bad=[item]))
            else:
                pending.append(self.pool.apply_async(convert_chunk, (item,)))
            # Bounded read-ahead keeps memory flat on big files.
            while len(pending) > 2 * self.jobs:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())

    def _insert_json(self, table, spool):
        try:
            self.wh.client.raw_insert(f'{quote(self.database)}.{quote(table)}', self.columns[table],
                                      spool.blocks(), settings=INSERT_SETTINGS, fmt='JSONEachRow')
        except ClickHouseError as ex:
            raise LlmwhError(f'insert into {self.database}.{table} failed: {clean_error(ex)}') from ex
        finally:
            spool.fh.close()


def _result(item):
    return item if isinstance(item, Converted) else item.get()


def load_otlp_files(wh: Warehouse, database: str, paths, force=False, skip_bad=False, jobs=None,
                    echo=click.echo) -> Summary:
    """Load OTLP/JSON files; prints a line per file and a summary, returns the summary."""
    loader = OtlpLoader(wh, database, force=force, skip_bad=skip_bad, jobs=jobs, echo=echo)
    echo(f'Loading {len(paths)} OTLP/JSON file(s) into database {database}')
    summary = loader.load(paths)
    total = sum(summary.rows.values())
    rate = total / summary.seconds if summary.seconds else 0
    skipped = f', skipped {summary.skipped} already loaded' if summary.skipped else ''
    echo(f'Loaded {summary.loaded} file(s){skipped}: {total:,} rows in {summary.seconds:.1f}s '
         f'({rate:,.0f} rows/s)')
    for table, count in sorted(summary.rows.items()):
        echo(f'  {table:<40} {count:>12,} rows')
    if summary.bad_lines:
        echo(f'  {summary.bad_lines:,} bad line(s) quarantined in {database}.{QUARANTINE}')
    return summary
