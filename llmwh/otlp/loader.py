"""`llmwh load otlp`: backfill OTLP/JSON files into the raw tables as the exporter writes them.

Per file: hash the (decompressed) content and skip it when that content was
loaded before; turn every request into exporter rows (llmwh.otlp.rows), spooled
as one Arrow stream per table; insert only after the whole file parsed, so a
bad line leaves nothing of its file behind unless --skip-bad quarantines it;
then record the file in llmwh_loaded_files (llmwh.warehouse.loaded_files, the
record `load usage` keeps too). Big inputs are parsed by worker processes:
decoding the JSON and mapping it is Python and is the bottleneck. A file's
insert and record run in a background thread while the next files parse (the
engine releases the GIL), in file order: a file's rows go in only after the
files before it loaded. A small file after a bigger one (a late delivery after
its day's file) goes in with it, one insert per table, when none of its rows
shares a time with theirs: fewer, bigger parts, and the same rows as two loads.

Crash safety: a load killed after some inserts but before the record leaves
rows behind, and a file that grew since a partial load shares rows with it.
So when a table already holds rows from the file's time range, the file's rows
go to a temporary table first and only those not already present (the whole
row compared, by hash) are inserted, with a warning naming how many were
there. A rerun therefore converges to the rows of an undisturbed load.
`--force` inserts everything again.
"""

import multiprocessing
import os
import signal
import tempfile
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from llmwh.errors import LlmwhError
from llmwh.otlp.batches import StreamSpool
from llmwh.otlp import files as otlp_files
from llmwh.otlp.files import Bad, chunks, read_units
from llmwh.otlp.rows import Converted, convert_chunk, worker_ready
from llmwh.reporting import Echo, quiet
from llmwh.warehouse import Warehouse
from llmwh.warehouse.ddl import quote
from llmwh.warehouse.exporter import INSERT_COLUMNS
from llmwh.warehouse.introspect import table_columns, table_retention_days
from llmwh.warehouse.loaded_files import (LOADED_FILES, LOADED_FILES_COLUMNS, content_sha256, load_record,
                                          previous_loads, record_loads, skipped_message)

QUARANTINE = 'llmwh_quarantine'
QUARANTINE_COLUMNS = ('file', 'sha256', 'line', 'error', 'raw', 'loaded_at')
# Arrow columns are matched by name; EventName is left out when the logs table lacks it.
INSERT_SETTINGS = {'input_format_skip_unknown_fields': 1}
INSERT_FORMAT = 'ArrowStream'
# A run with less input than pool_min_bytes parses in-process: spawned workers each
# import the mapping, pyarrow and pandas (about half a second of CPU) and send their
# batches back, while in-process parsing overlaps the previous file's insert. On 2 cores
# (bench/bench_ingest.py, medians of 3-4 interleaved runs) a 36 MB base loaded 2-3x slower
# with 2 workers, a 76 MB one in 3.3 s against 2.9 s in-process, and a 191 MB one in 6.3 s
# against 6.6 s: the two meet near 150 MB (this value is 150 MiB). More workers split the parse
# further, so the size falls with their number (an estimate: only 2 cores were measured).
POOL_MIN_BYTES = 150 << 20
SPOOL_MEMORY_BYTES = 64 << 20  # spooled rows beyond this go to a temp file
# Parsed files whose inserts may wait in line: a short file after a long one does not hold
# up the parse of the next while the long one goes in. Memory: this many files' spools.
PARSED_AHEAD = 2
# A next file at most this many times smaller than the files held goes in with them.
JOIN_RATIO = 8
LOOK_UP_BYTES = 256 << 20   # content hashed ahead of the parse, looked up with one query
PROGRESS_SECONDS = 10
_EPOCH = datetime(1970, 1, 1)
# Test hook of the crash tests (tests/test_load_crash.py), documented in the
# README: LLMWH_FAULT=after_insert:<table> or before_record kills the process
# with SIGKILL at that point of every file's load.
FAULT_ENV = 'LLMWH_FAULT'


def pool_min_bytes(jobs: int) -> int:
    """The input size from which `jobs` (2 or more) worker processes parse a run faster."""
    return POOL_MIN_BYTES * 2 // jobs


def _fault(point: str):
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Summary:
    rows: Counter = field(default_factory=Counter)
    loaded: int = 0
    skipped: int = 0
    bad_lines: int = 0
    seconds: float = 0.0


@dataclass
class ParsedFile:
    """Everything one file turned into, before any of it is inserted."""
    path: str
    sha256: str
    size: int
    spools: dict = field(default_factory=dict)     # table -> _Spool of an Arrow stream
    counts: Counter = field(default_factory=Counter)
    bad: list = field(default_factory=list)
    oldest: dict = field(default_factory=dict)     # table -> earliest row, epoch seconds
    lines: int = 0
    parse_seconds: float = 0.0

    def in_memory(self) -> bool:
        return not any(spool.on_disk() for spool in self.spools.values())

    def add(self, result: Converted):
        self.bad.extend(result.bad)
        for table, batch in result.data.items():
            self.spools.setdefault(table, _Spool()).write(batch)
        self.counts.update(result.counts)
        for table, seconds in result.oldest.items():
            self.oldest[table] = min(seconds, self.oldest.get(table, seconds))
        self.lines += result.lines


class _Spool(StreamSpool):
    """Rows of one table for one file, in memory up to a size, then on disk."""

    def __init__(self):
        super().__init__(tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES))

    def blocks(self) -> Iterator[bytes]:
        self.finish()
        self.fh.seek(0)
        while block := self.fh.read(8 << 20):
            yield block

    def on_disk(self) -> bool:
        return self.fh._rolled   # SpooledTemporaryFile's "moved to a file"

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.finish()
        self.fh.seek(0)
        yield from pa.ipc.open_stream(self.fh)

    def times(self) -> pa.ChunkedArray:
        """The rows' times (Timestamp, or the metrics' TimeUnix)."""
        batches = list(self.batches())
        column = _time_column(batches[0].schema.names)
        return pa.chunked_array([batch.column(column) for batch in batches])

    @classmethod
    def joined(cls, spools: list) -> '_Spool':
        """One stream of the batches of `spools` (which are closed)."""
        out = cls()
        for spool in spools:
            for batch in spool.batches():
                out.write(batch)
            spool.fh.close()
        return out


def _joins(held: list, parsed: ParsedFile) -> bool:
    """Whether `parsed` may go in with the files held: no row of it has the time of one of
    theirs in the same table, so none of its rows can be one of theirs (whole rows compared,
    as an overlapping load is)."""
    for table, spool in parsed.spools.items():
        times = None
        for other in held:
            if table in other.spools:
                if times is None:
                    times = spool.times().combine_chunks()
                if pc.any(pc.is_in(other.spools[table].times(), value_set=times)).as_py():
                    return False
    return True


class OtlpLoader:
    def __init__(self, wh: Warehouse, database: str, force: bool = False, skip_bad: bool = False,
                 jobs: Optional[int] = None, echo: Echo = quiet):
        self.wh, self.database = wh, database
        self.force, self.skip_bad = force, skip_bad
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.echo = echo
        self.pool = None
        self.parallel = False   # parse in worker processes (set per run, from its input size)
        self.inserter = None   # one thread: a file's insert and record, while the next file parses
        self.columns = self._insert_columns()
        self.ttl_days = {name: days for name, days in table_retention_days(wh, database).items()
                         if name in INSERT_COLUMNS}
        self.seen = {}   # sha256 -> file, loaded by this run

    # -- tables

    def _insert_columns(self) -> dict:
        have = table_columns(self.wh, self.database)
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

    def _warn_past_retention(self, path: str, oldest: dict):
        for table, seconds in sorted(oldest.items()):
            days = self.ttl_days.get(table)
            if days and seconds < time.time() - days * 86400:
                day = (_EPOCH + timedelta(seconds=seconds)).date()
                self.echo(f'  warning: {path}: {table} rows go back to {day}, past the table\'s {days}-day '
                          'retention: TTL drops them. Backfill old data into tables created with '
                          '`llmwh init --no-ttl` (or ALTER TABLE ... REMOVE TTL)', err=True)

    # -- files

    def load(self, paths: Sequence[str]) -> Summary:
        for p in paths:
            if not os.path.isfile(p):
                raise LlmwhError(f'{p} is not a file' if os.path.exists(p) else f'no such file: {p}')
        paths = [str(p) for p in paths]
        self.parallel = self.jobs > 1 and sum(os.path.getsize(p) for p in paths) >= pool_min_bytes(self.jobs)
        summary = Summary()
        started = time.monotonic()
        # In file order: (future, files) of files going in, and (note, counted) of skipped ones.
        pending = deque()
        looked_up = deque()
        last = None   # the last insert started
        held = []     # parsed files whose rows go in together, waiting for a small next file
        try:
            for i in range(len(paths)):
                if not looked_up:
                    # No query while an insert runs: the engine's client serves one at a time, and a
                    # server's session one query at a time.
                    self._report_done(pending, summary, keep=0)
                    looked_up.extend(self._look_up(paths[i:]))
                path, sha256, size, previous = looked_up.popleft()
                note = self._skip_note(path, sha256, previous)
                if note is not None:
                    if held:
                        last = self._submit(held, last, pending)
                        held = []
                    pending.append((note, bool(sha256)))
                else:
                    parse_started = time.monotonic()
                    try:
                        # Parsed while earlier files' rows go in (the engine releases the GIL).
                        parsed = self._parse_file(path, sha256, size)
                    except BaseException:
                        if held:   # the files before a bad one load
                            last = self._submit(held, last, pending)
                            held = []
                        raise
                    parsed.parse_seconds = time.monotonic() - parse_started
                    self.seen[sha256] = os.path.abspath(path)   # the same content later in this run is skipped
                    if held and not _joins(held, parsed):
                        last = self._submit(held, last, pending)
                        held = []
                    held.append(parsed)
                    # A small next file (a late delivery after its day's file) waits to go in with these:
                    # one insert makes fewer parts than two, and skips the second file's overlap check.
                    following = looked_up[0][2] if looked_up else None
                    if following is None or following * JOIN_RATIO > sum(f.size for f in held) \
                            or not all(f.in_memory() for f in held):
                        last = self._submit(held, last, pending)
                        held = []
                self._report_done(pending, summary, keep=PARSED_AHEAD)
            if held:
                last = self._submit(held, last, pending)
            self._report_done(pending, summary, keep=0)
        finally:
            try:
                # Something failed: the loads already going in end first, and an error of
                # theirs, the earlier one, is the one raised.
                for item in pending:
                    if isinstance(item[0], Future):
                        item[0].result()
            finally:
                if self.inserter is not None:
                    self.inserter.shutdown()
                    self.inserter = None
                if self.pool is not None:
                    self.pool.terminate()
                    self.pool = None
        summary.seconds = time.monotonic() - started
        return summary

    def _report_done(self, pending: deque, summary: Summary, keep: int):
        """Report the files whose loads ended, in file order, waiting for the oldest ones
        while more than `keep` are pending."""
        while pending and (len(pending) > keep or not isinstance(pending[0][0], Future) or pending[0][0].done()):
            item = pending.popleft()
            if isinstance(item[0], Future):
                self._finish(item, summary)
            else:
                note, counted = item
                self.echo(f'  {note}')
                summary.skipped += counted

    def _look_up(self, paths: Sequence[str]) -> list:
        """(path, sha256, size, previous load) of the next files, up to LOOK_UP_BYTES of them, with
        one query. sha256 is None for an empty file."""
        if self.parallel:
            self._start_pool()   # the workers start up while the content is hashed
        out, total = [], 0
        for path in paths:
            sha256, size = content_sha256(path)
            # All empty files share one hash; none is "the same file" as another.
            out.append((path, sha256 if size else None, size))
            total += size
            if total >= LOOK_UP_BYTES:
                break
        hashes = [sha256 for _, sha256, _ in out if sha256 and sha256 not in self.seen]
        previous = {} if self.force else previous_loads(self.wh, self.database, hashes)
        return [(path, sha256, size, previous.get(sha256)) for path, sha256, size in out]

    def _skip_note(self, path: str, sha256: Optional[str], previous: Optional[tuple]) -> Optional[str]:
        """Why the file is not loaded (empty, or this content was loaded before and --force is
        off), or None."""
        if sha256 is None:
            return f'{path}: empty; nothing to load'
        if not self.force and sha256 in self.seen:
            previous = self.seen[sha256], None
        return skipped_message(path, previous) if previous and not self.force else None

    def _submit(self, files: list, before: Optional[Future], pending: deque) -> Future:
        """Insert and record parsed files in the background, after the files before them; queues
        (future, files) in `pending` and returns the future."""
        if self.inserter is None:
            self.inserter = ThreadPoolExecutor(max_workers=1, thread_name_prefix='llmwh-insert')
        loaded_at = datetime.now(timezone.utc)
        future = self.inserter.submit(self._insert_and_record, files, loaded_at, before)
        pending.append((future, files))
        return future

    def _insert_and_record(self, files: list, loaded_at: datetime, before: Optional[Future]) -> float:
        if before is not None:
            before.result()   # rows go in only after the files before them loaded (else their error)
        started = time.monotonic()
        self._insert_rows(files)
        self._record_files(files, loaded_at)
        return time.monotonic() - started

    def _finish(self, inserting: tuple, summary: Summary):
        """Wait for files' insert and record (raising its error), then report them."""
        future, files = inserting
        insert_seconds = future.result()
        for parsed in files:
            self._report_file(parsed, parsed.parse_seconds + insert_seconds)
            summary.loaded += 1
            summary.rows.update(parsed.counts)
            summary.bad_lines += len(parsed.bad)

    def _parse_file(self, path: str, sha256: str, size: int) -> ParsedFile:
        """Every row of the file, spooled; a bad line stops here unless --skip-bad."""
        parsed = ParsedFile(path, sha256, size)
        started = last_report = time.monotonic()
        for result in self._convert(read_units(path), size):
            if result.bad and not self.skip_bad:
                first = result.bad[0]
                raise LlmwhError(f'{path} line {first.line}: {first.error}; nothing from this file was '
                                 'loaded (--skip-bad quarantines bad lines and loads the rest)')
            parsed.add(result)
            now = time.monotonic()
            if now - last_report >= PROGRESS_SECONDS:
                total = sum(parsed.counts.values())
                self.echo(f'    ... {path}: {parsed.lines:,} requests, {total:,} rows '
                          f'({total / (now - started):,.0f} rows/s)')
                last_report = now
        return parsed

    def _insert_rows(self, files: list):
        for table in sorted({table for parsed in files for table in parsed.spools}):
            having = [parsed for parsed in files if table in parsed.spools]
            oldest = min(parsed.oldest[table] for parsed in having)
            if len(having) > 1 and (self.force or not self._holds_rows_since(table, oldest)):
                # Their rows share no time (_joins), so none is another's: one insert.
                self._insert_table(table, _Spool.joined([parsed.spools.pop(table) for parsed in having]))
            for parsed in having:
                if table in parsed.spools:
                    self._insert_file_rows(parsed, table)
            _fault(f'after_insert:{table}')

    def _insert_file_rows(self, parsed: ParsedFile, table: str):
        spool = parsed.spools.pop(table)
        if self.force or not self._holds_rows_since(table, parsed.oldest[table]):
            self._insert_table(table, spool)
            return
        present = self._insert_new_rows(table, spool)
        if present:
            total = parsed.counts[table]
            # Said at once (from the insert thread): a crash right after must not lose it.
            self.echo(f'  warning: {parsed.path}: {present:,} of {total:,} {table} rows were already '
                      'in the warehouse (an interrupted or overlapping earlier load); '
                      f'loaded the other {total - present:,}', err=True)
            parsed.counts[table] -= present

    def _holds_rows_since(self, table: str, seconds: int) -> bool:
        """Whether `table` has a row at or after this time: only then can a file's rows be there already."""
        time_column = quote(_time_column(self.columns[table]))
        return bool(self.wh.rows(
            f'select 1 from {quote(self.database)}.{quote(table)} '
            f'where {time_column} >= toDateTime({{s:Int64}}) limit 1', {'s': max(0, seconds)}))

    def _insert_new_rows(self, table: str, spool: '_Spool') -> int:
        """Insert the rows not already in `table` (whole rows compared by hash); returns how many were."""
        columns = ', '.join(quote(c) for c in self.columns[table])
        time_column = quote(_time_column(self.columns[table]))
        target = f'{quote(self.database)}.{quote(table)}'
        stage = quote(f'llmwh_stage_{table}')
        # Temporary: it dies with the session, so a crash leaves nothing to clean up. Memory: it
        # is read twice and dropped, parts and merges would only cost.
        self.wh.command(f'create temporary table {stage} engine = Memory as select {columns} from {target} '
                        'limit 0')
        try:
            self._insert_table(table, spool, into=f'llmwh_stage_{table}')
            # A row equal to a staged one has one of the staged times: only those rows are hashed.
            present_hashes = (f'select cityHash64({columns}) from {target} '
                              f'where {time_column} in (select {time_column} from {stage})')
            present = self.wh.rows(f'select countIf(cityHash64({columns}) in ({present_hashes})) '
                                   f'from {stage}')[0][0]
            self.wh.command(f'insert into {target} ({columns}) select {columns} from {stage} '
                            f'where cityHash64({columns}) not in ({present_hashes})')
        finally:
            self.wh.command(f'drop temporary table if exists {stage}')
        return present

    def _record_files(self, files: list, loaded_at: datetime):
        """Quarantine the bad lines, then record the files (one insert each): a file counts
        as loaded only once all its rows are in."""
        _fault('before_record')
        bad = [[os.path.abspath(parsed.path), parsed.sha256, b.line, b.error,
                b.raw if isinstance(b.raw, bytes) else b.raw.encode(), loaded_at]
               for parsed in files for b in parsed.bad]
        if bad:
            self.wh.insert(QUARANTINE, bad, self.columns[QUARANTINE], database=self.database)
        record_loads(self.wh, self.database, [load_record(parsed.sha256, parsed.path, parsed.size,
                                                          dict(parsed.counts), loaded_at, len(parsed.bad))
                                              for parsed in files])
        for parsed in files:
            self.seen[parsed.sha256] = os.path.abspath(parsed.path)

    def _report_file(self, parsed: ParsedFile, seconds: float):
        total = sum(parsed.counts.values())
        per_table = ', '.join(f'{t} {n:,}' for t, n in sorted(parsed.counts.items())) or 'no rows'
        quarantined = f'; {len(parsed.bad):,} bad line(s) quarantined' if parsed.bad else ''
        self.echo(f'  {parsed.path}: {total:,} rows ({per_table}) in {seconds:.1f}s, '
                  f'{total / seconds if seconds else 0:,.0f} rows/s{quarantined}')
        self._warn_past_retention(parsed.path, parsed.oldest)

    def _convert(self, units, size: int) -> Iterator[Converted]:
        """Converted work units, in file order; in worker processes when the file is big."""
        items = chunks(units)
        if not self.parallel or size < otlp_files.CHUNK_BYTES:   # one work unit: nothing to share out
            for item in items:
                yield Converted(bad=[item]) if isinstance(item, Bad) else convert_chunk(item)
            return
        self._start_pool()
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

    def _start_pool(self):
        if self.pool is None and self.jobs > 1:
            # spawn, not fork: this process runs the engine's threads. Workers import
            # the mapping as they start, not on their first chunk.
            self.pool = multiprocessing.get_context('spawn').Pool(self.jobs, initializer=worker_ready)

    def _insert_table(self, table: str, spool: _Spool, into: Optional[str] = None):
        """Insert the spooled rows into `table`, or into the temporary table `into`."""
        try:
            self.wh.insert_formatted(into or table, self.columns[table], spool.blocks(), fmt=INSERT_FORMAT,
                                     database=None if into else self.database, settings=INSERT_SETTINGS)
        finally:
            spool.fh.close()


def _time_column(columns) -> str:
    return 'Timestamp' if 'Timestamp' in columns else 'TimeUnix'


def _result(item) -> Converted:
    return item if isinstance(item, Converted) else item.get()


def load_otlp_files(wh: Warehouse, database: str, paths: Sequence[str], force: bool = False,
                    skip_bad: bool = False, jobs: Optional[int] = None, echo: Echo = quiet) -> Summary:
    """Load OTLP/JSON files; reports a line per file and a summary, returns the summary."""
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
