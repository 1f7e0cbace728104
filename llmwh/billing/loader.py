"""`llmwh load usage`: provider usage and billing exports into provider_usage / provider_costs.

Every file is parsed and checked before anything is inserted, so a bad file
(or row) loads nothing. Each file's rows carry one `loaded_at`, later than any
earlier load, so the latest load of a (provider, bucket, group keys) key wins:
reloading the same or an overlapping export never double counts. Each loaded
file is recorded by content hash in llmwh_loaded_files (as `load otlp` does),
and content loaded before is skipped unless `force`, so a rerun adds no raw
rows either.
"""

from datetime import datetime, timedelta, timezone

from typing import Optional, Sequence

from llmwh.billing.exports import TABLES, ParsedExport, columns, parse_export
from llmwh.errors import LlmwhError
from llmwh.reporting import Echo, quiet
from llmwh.warehouse import Warehouse
from llmwh.warehouse.introspect import existing_tables, table_retention_days
from llmwh.warehouse.loaded_files import LOADED_FILES, content_sha256, previous_load, record_load, skipped_message

# An export spans up to months of daily buckets, and every day is a partition.
INSERT_SETTINGS = {'max_partitions_per_insert_block': 0}


class LoadClock:
    """`loaded_at` per file: now, but always after the previous file's."""

    def __init__(self):
        self.last = None

    def next(self) -> datetime:
        now = datetime.now(timezone.utc)
        if self.last is not None and now <= self.last:
            now = self.last + timedelta(microseconds=1)
        self.last = now
        return now


def parse_exports(paths: Sequence[str], provider: str, kind: Optional[str] = None) -> list:
    if not paths:
        raise LlmwhError('give at least one export file')
    return [parse_export(path, provider, kind) for path in paths]


def describe(export: ParsedExport) -> str:
    if not export.rows:
        return f'{export.path}: no results, nothing to load'
    text = f'{export.path}: {export.source_format}, {len(export.rows)} rows -> {export.table}'
    if export.repeated_keys:
        text += f' ({export.repeated_keys} repeated keys in the file: the later row kept)'
    return text


def load_usage_files(wh: Optional[Warehouse], database: str, provider: str, paths: Sequence[str],
                     kind: Optional[str] = None, echo: Echo = quiet, dry_run: bool = False,
                     force: bool = False) -> dict:
    """Parse every file, then insert each one whose content was not loaded before
    (all of them with `force`). Returns rows loaded per table."""
    exports = parse_exports(paths, provider, kind)
    totals = {table: 0 for table in TABLES.values()}
    if not dry_run:
        _check_tables(wh, database, sorted({e.table for e in exports if e.rows} | {LOADED_FILES}))
    clock = LoadClock()
    seen = {}   # sha256 -> path, loaded by this run
    for export in exports:
        for warning in export.warnings:
            echo(f'  warning: {warning}', err=True)
        if not export.rows:
            echo(f'  {describe(export)}')
            continue
        if not dry_run:
            sha256, size = content_sha256(export.path)
            previous = (seen[sha256], None) if sha256 in seen else (
                None if force else previous_load(wh, database, sha256))
            if previous:
                echo(f'  {skipped_message(export.path, previous)}')
                continue
        echo(f'  {describe(export)}')
        totals[export.table] += len(export.rows)
        if dry_run:
            continue
        _warn_on_expiry(wh, database, export, echo)
        names = list(columns(export.kind))
        loaded_at = clock.next()
        values = [[row[c] for c in names] + [loaded_at] for row in export.rows]
        wh.insert(export.table, values, names + ['loaded_at'], database=database,
                  settings=INSERT_SETTINGS)
        record_load(wh, database, sha256, export.path, size, {export.table: len(export.rows)}, loaded_at)
        seen[sha256] = export.path
    return totals


def _check_tables(wh: Warehouse, database: str, tables: list):
    have = existing_tables(wh, database)
    missing = [t for t in tables if t not in have]
    if missing:
        raise LlmwhError(f'no table {database}.{missing[0]}; run `llmwh init` first '
                         '(it creates the provider usage and cost tables)')


def _warn_on_expiry(wh: Warehouse, database: str, export: ParsedExport, echo: Echo):
    """Rows older than the table's TTL are dropped as they land: say so."""
    days = table_retention_days(wh, database).get(export.table)
    if not days:
        return
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    old = sum(1 for row in export.rows if row['bucket_start'] < cutoff)
    if old:
        echo(f'  warning: {export.path}: {old} of {len(export.rows)} rows start before '
             f'{cutoff:%Y-%m-%d}, beyond the {days}-day retention of {database}.{export.table}, '
             'and are dropped by its TTL (ALTER TABLE ... REMOVE TTL keeps them)', err=True)
