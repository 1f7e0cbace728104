"""Steps 1-5: the measurements. Each returns plain data; whbench.targets judges it."""

import statistics
from pathlib import Path

from llmwh.run.cycle import BUILD_ARGS
from llmwh.warehouse.exporter import INSERT_COLUMNS

from whbench import history, queries, replicate
from whbench.workspace import StepFailed, Workspace, progress

EXPORTER_DB = 'exporter_default'
STORAGE_TABLES = ('otel_traces', 'otel_logs')


def _cols(table: str) -> str:
    return ', '.join(f'`{c}`' for c in INSERT_COLUMNS[table])


def ingest_jsoneachrow(ws: Workspace) -> dict:
    """Step 1: the loaded base rows again, as a plain `INSERT ... FORMAT JSONEachRow` per table.

    The rows are exported from the tables the loader filled, the tables are
    emptied, and the files inserted into the very same tables (materialized
    view included), so both inserts write identical rows to identical tables.
    """
    progress('step 1: the same rows with INSERT ... FORMAT JSONEachRow')
    before = history.table_counts(ws, replicate.OTEL_DB)
    files = {t: ws.root / f'{t}.jsonl' for t in replicate.TABLES}
    ops = [{'kind': 'command', 'sql': f"select {_cols(t)} from otel.{t} into outfile '{f}' format JSONEachRow"}
           for t, f in files.items()]
    ops += [{'kind': 'command', 'sql': f'truncate table otel.{t}'}
            for t in (*replicate.TABLES, 'otel_traces_trace_id_ts')]
    ops += [{'kind': 'insert_file', 'table': f'otel.{t}', 'columns': list(INSERT_COLUMNS[t]), 'path': str(f)}
            for t, f in files.items()]
    results = ws.sql(ops)[-len(files):]
    after = history.table_counts(ws, replicate.OTEL_DB)
    if after != before:
        raise StepFailed(f'JSONEachRow insert wrote {after}, the loader {before}')
    seconds = {t: r['seconds'] for t, r in zip(files, results)}
    for f in files.values():
        f.unlink()
    total = sum(seconds.values())
    progress(f'  {sum(after.values()):,} rows in {total:.1f}s')
    return {'rows': sum(after.values()), 'seconds': total, 'seconds_by_table': seconds}


def dbt_build(ws: Workspace, label: str, *args) -> dict:
    """One `dbt build` (wall time of the process, peak RSS, dbt's own timings)."""
    progress(f'dbt build {" ".join(args)} ({label})')
    proc = ws.dbt('build', *args)
    timings = ws.dbt_elapsed()
    progress(f'  {proc.seconds:.1f}s wall, dbt {timings["elapsed"]:.1f}s, '
             f'peak RSS {(proc.max_rss_bytes or 0) / 2**20:,.0f} MiB')
    return {'seconds': proc.seconds, 'max_rss_bytes': proc.max_rss_bytes, 'dbt': timings}


def full_then_scheduled(ws: Workspace, index: int, hour_units: float, history_units: float) -> dict:
    """Steps 2/3 at one history size: full build, one more hour of data, incremental build.

    Both builds are the one `llmwh run` makes (BUILD_ARGS: models, seeds and
    data tests; unit tests check model logic on fixtures, which is CI's job).
    """
    spans = history.table_counts(ws, replicate.OTEL_DB)['otel_traces']
    full = dbt_build(ws, f'{spans:,} spans', '--full-refresh', *BUILD_ARGS)
    progress(f'step 3: appending one hour to the {spans:,}-span history')
    appended = history.append_hour(ws, index, hour_units, history_units)
    incremental = dbt_build(ws, f'scheduled run, {spans:,}-span history', *BUILD_ARGS)
    return {'history_spans': spans, 'full': full, 'appended': appended, 'incremental': incremental}


def raw_pass(ws: Workspace, repeat: int) -> dict:
    """Step 2's yardstick: one extraction pass over otel_traces (median of `repeat` runs)."""
    progress(f'step 2: raw extraction pass over otel_traces ({repeat} runs)')
    result = ws.sql([{'kind': 'time', 'sql': queries.raw_pass(), 'warmup': 0, 'repeat': repeat}])[0]
    median = statistics.median(result['times'])
    progress(f'  median {median:.2f}s')
    return {'seconds': median, 'times': result['times']}


def dashboard(ws: Workspace, repeat: int, raw_repeat: int) -> dict:
    """Step 5: each dashboard query on its mart and on the raw tables, timed in one process."""
    last_day = ws.query('select toString(max(call_date)) from llm.fct_llm_calls')[0][0]
    first_day = ws.query(f"select toString(toDate('{last_day}') - 6)")[0][0]
    window = queries.Window(first_day, last_day)
    progress(f'step 5: dashboard queries over {first_day} .. {last_day} '
             f'(median of {repeat} mart / {raw_repeat} raw runs)')
    ops, names = [], []
    for name, (mart, raw) in queries.dashboard_queries(window).items():
        ops += [{'kind': 'time', 'sql': mart, 'repeat': repeat},
                {'kind': 'time', 'sql': raw, 'repeat': raw_repeat}]
        names.append(name)
    results = ws.sql(ops)
    out = {}
    for i, name in enumerate(names):
        mart, raw = results[2 * i], results[2 * i + 1]
        out[name] = {'mart_seconds': statistics.median(mart['times']), 'raw_seconds': statistics.median(raw['times']),
                     'mart_times': mart['times'], 'raw_times': raw['times'],
                     'mart_rows': mart['rows'], 'raw_rows': raw['rows']}
        progress(f'  {name}: mart {out[name]["mart_seconds"] * 1000:.1f} ms, '
                 f'raw {out[name]["raw_seconds"] * 1000:.0f} ms')
    return {'window': [first_day, last_day], 'queries': out}


def _exporter_ddl() -> list:
    text = (Path(__file__).parent / 'exporter_default.sql').read_text().replace('{db}', EXPORTER_DB)
    text = '\n'.join(line for line in text.splitlines() if not line.startswith('--'))
    return [s.strip() for s in text.split(';') if s.strip()]


def storage(ws: Workspace) -> dict:
    """Step 4: the same rows in this project's tables and in the exporter's defaults, fully merged."""
    progress('step 4: storage vs the exporter default DDL (copy, wide parts, OPTIMIZE FINAL both)')
    ops = [f'create database if not exists {EXPORTER_DB}', *_exporter_ddl()]
    for t in STORAGE_TABLES:
        ops.append(f'insert into {EXPORTER_DB}.{t} ({_cols(t)}) select {_cols(t)} from otel.{t}')
    # Wide parts on both sides, as any production-sized part is (> 10 MB): small
    # runs then compare the same format as large ones, with per-column sizes.
    wide = 'modify setting min_bytes_for_wide_part = 0, min_rows_for_wide_part = 0'
    for t in STORAGE_TABLES:
        ops += [f'alter table otel.{t} {wide}', f'alter table {EXPORTER_DB}.{t} {wide}',
                f'optimize table otel.{t} final', f'optimize table {EXPORTER_DB}.{t} final']
    ws.sql([{'kind': 'command', 'sql': s} for s in ops])
    dbs = f"('otel', '{EXPORTER_DB}')"
    tables = ', '.join(f"'{t}'" for t in STORAGE_TABLES)
    parts = ws.query(f'select database, table, sum(rows), sum(data_compressed_bytes), sum(bytes_on_disk) '
                     f'from system.parts where active and database in {dbs} and table in ({tables}) '
                     'group by database, table')
    # Per column from parts_columns: system.columns lags behind merges.
    columns = ws.query(f'select database, table, column, sum(column_data_compressed_bytes) '
                       f'from system.parts_columns where active and database in {dbs} and table in ({tables}) '
                       'group by database, table, column')
    spans = ws.query('select count() from otel.otel_traces')[0][0]
    by_table = {f'{db}.{t}': {'rows': rows, 'data_compressed_bytes': data, 'bytes_on_disk': disk}
                for db, t, rows, data, disk in parts}
    by_column = {f'{db}.{t}.{name}': size for db, t, name, size in columns}
    progress(f'  {by_table}')
    return {'spans': spans, 'tables': by_table, 'columns': by_column}
