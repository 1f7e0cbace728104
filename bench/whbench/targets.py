"""Issue 8's targets applied to the measurements: one report line each."""

from whbench.report import Line, gb, seconds

FULL_SIZE = 10_000_000          # the size the absolute build targets are stated for
BUILD_LIMIT_S = 60
BUILD_RSS_LIMIT = 4 * 10**9
QUERY_LIMIT_S = 0.100


def ingest(loaded, jsoneachrow: dict) -> list:
    loader_rate = loaded.rows / loaded.seconds
    plain_rate = jsoneachrow['rows'] / jsoneachrow['seconds']
    return [Line('1 ingest', 'llmwh load otlp vs INSERT FORMAT JSONEachRow',
                 f'{loader_rate:,.0f} vs {plain_rate:,.0f} rows/s', '>= 0.5x', loader_rate / plain_rate, 0.5,
                 at_most=False, note=f'{loaded.rows:,} rows (spans, logs, metric points); loader time as it '
                 'reports it (in-process), JSONEachRow timed in one process',
                 data={'loader_rows_per_s': loader_rate, 'jsoneachrow_rows_per_s': plain_rate})]


def dbt_split(build: dict) -> str:
    """Where a build's time went: process wall vs dbt's own total, models, tests, unit tests."""
    dbt = build['dbt']
    split = ', '.join(f'{k} {v:.1f}s' for k, v in sorted(dbt['by_resource_type'].items()))
    return f'wall {build["seconds"]:.1f}s = dbt start-up {build["seconds"] - dbt["elapsed"]:.1f}s + {split} + overhead'


def full_build(big: dict, raw: dict, spans: int) -> list:
    build_s = big['full']['seconds']
    return [
        Line('2 full build', f'dbt build --full-refresh vs raw pass ({spans:,} spans)',
             f'{seconds(build_s)} vs {seconds(raw["seconds"])}', '<= 4x', build_s / raw['seconds'], 4,
             note=dbt_split(big['full'])),
        Line('2 full build', 'dbt build --full-refresh, absolute', seconds(build_s),
             f'<= {BUILD_LIMIT_S} s at 10M', build_s / BUILD_LIMIT_S, 1, applies=spans >= FULL_SIZE),
    ]


def scheduled(small: dict, big: dict) -> list:
    """Step 3: the incremental run at both history sizes, and against the full build."""
    lines = []
    for run in (small, big):
        inc, full = run['incremental']['seconds'], run['full']['seconds']
        lines.append(Line('3 scheduled', f'dbt build after +1 hour, {run["history_spans"]:,}-span history',
                          f'{seconds(inc)} vs full {seconds(full)}', '<= 0.1x full build', inc / full, 0.1,
                          note=f'appended {run["appended"]}; {dbt_split(run["incremental"])}'))
    growth = big['incremental']['seconds'] / small['incremental']['seconds']
    lines.append(Line('3 scheduled', f'run at {big["history_spans"]:,} vs {small["history_spans"]:,}-span history',
                      f'{seconds(big["incremental"]["seconds"])} vs {seconds(small["incremental"]["seconds"])}',
                      '<= 1.3x', growth, 1.3))
    return lines


def storage(measured: dict, top: int = 10) -> tuple:
    """Step 4 lines (per table and together) and the top columns by compressed bytes."""
    spans, tables = measured['spans'], measured['tables']
    lines = []
    for names, label in ((('otel_traces',), 'otel_traces'), (('otel_logs',), 'otel_logs'),
                         (('otel_traces', 'otel_logs'), 'traces + logs')):
        ours = sum(tables[f'otel.{n}']['data_compressed_bytes'] for n in names)
        theirs = sum(tables[f'exporter_default.{n}']['data_compressed_bytes'] for n in names)
        lines.append(Line('4 storage', f'{label}: bytes per span vs exporter default DDL',
                          f'{ours / spans:,.1f} vs {theirs / spans:,.1f} B/span', '<= 0.85x', ours / theirs, 0.85))
    cols = measured['columns']
    ours = sorted(((k, v) for k, v in cols.items() if k.startswith('otel.')), key=lambda kv: -kv[1])
    table = [(k.removeprefix('otel.'), v, cols.get('exporter_default.' + k.removeprefix('otel.')))
             for k, v in ours[:top]]
    table_bytes = sum(tables[f'otel.{n}']['data_compressed_bytes'] for n in ('otel_traces', 'otel_logs'))
    coverage = sum(v for _, v in ours[:top]) / table_bytes if table_bytes else 0
    return lines, {'columns': table, 'coverage': coverage, 'spans': spans}


def print_top_columns(top: dict):
    spans = top['spans']
    print(f'\ntop columns by compressed bytes (this project vs exporter default, {spans:,} spans; '
          f'the columns listed hold {top["coverage"]:.0%} of the traces + logs bytes)')
    for name, ours, theirs in top['columns']:
        ratio = f'{ours / theirs:5.2f}x' if theirs else '   n/a'
        exporter = f'{theirs / spans:8.1f}' if theirs is not None else '     n/a'
        print(f'  {name:<42} {ours / spans:8.1f} B/span  exporter {exporter} B/span  {ratio}')


def dashboard(measured: dict) -> list:
    lines = []
    for name, q in measured['queries'].items():
        mart, raw = q['mart_seconds'], q['raw_seconds']
        lines.append(Line('5 queries', f'{name}: mart median', seconds(mart), '<= 100 ms',
                          mart / QUERY_LIMIT_S, 1, note=f'{q["mart_rows"]} rows (raw: {q["raw_rows"]})'))
        lines.append(Line('5 queries', f'{name}: raw / mart', f'{seconds(raw)} vs {seconds(mart)}',
                          '>= 20x faster', raw / mart, 20, at_most=False))
    return lines


def memory(big: dict, loaded, spans: int) -> list:
    rss = big['full']['max_rss_bytes']
    return [
        Line('6 memory', f'peak RSS, dbt build --full-refresh ({spans:,} spans)', gb(rss), '<= 4 GB at 10M',
             None if rss is None else rss / BUILD_RSS_LIMIT, 1, applies=spans >= FULL_SIZE),
        Line('6 memory', f'peak RSS, llmwh load otlp ({loaded.rows:,} rows)', gb(loaded.proc.max_rss_bytes),
             '(none)', None),
    ]
