"""INSERT ... SELECT statements that grow a generated base into a large history.

The generator makes about 1,500 spans/s, far too slow for millions, so a
base of tens of thousands of spans is copied (database bench_base) and
replicated inside ClickHouse. Replica r of a row gets:

- new ids: trace ids MD5(id # r) in hex, span ids the first 16 hex digits of
  the same, applied to SpanId, ParentSpanId, link and log ids alike, so trees
  stay intact and logs still join their spans; an empty id stays empty;
- conversation ids suffixed `-r<r>` (span and log attributes, and the id in
  the text of unparsed LibreChat log lines), so replicas are new conversations;
- timestamps shifted (replica r of the history by a few minutes, an appended
  hour by whatever puts the trace inside that hour);
- metrics: `service.instance.id = bench-r<r>`, so each replica is a series of
  its own and cumulative series stay monotonic.

Replica 0 is the base as loaded. A history of u "replica units" holds the
rows whose replica r and bucket b (0..999, a hash of the trace id or metric
series) satisfy r * 1000 + b < u * 1000: fractional sizes keep whole traces
and series, and growing from u1 to u2 inserts exactly the rows in between.
"""

from llmwh.warehouse.exporter import INSERT_COLUMNS

BASE_DB = 'bench_base'
OTEL_DB = 'otel'
TABLES = ('otel_traces', 'otel_logs', 'otel_metrics_histogram', 'otel_metrics_sum')
# Attribute keys whose values name a conversation or session in the generated data.
CONVERSATION_KEYS = ('gen_ai.conversation.id', 'session.id', 'conversationId', 'langfuse.session.id',
                     'traceloop.association.properties.session_id',
                     'traceloop.association.properties.conversation_id')
# Replica numbers of appended hours start here, clear of any history replica.
APPEND_REPLICA_BASE = 100_000
# History replica r is shifted by ((r * 7919) % 3600 - 1800) seconds: within half an hour.
HISTORY_SHIFT_S = 'if(r.number = 0, 0, toInt64((r.number * 7919) % 3600) - 1800)'


def trace_id(col: str) -> str:
    return f"if({col} = '' or r.number = 0, {col}, lower(hex(MD5(concat({col}, '#', toString(r.number))))))"


def span_id(col: str) -> str:
    return (f"if({col} = '' or r.number = 0, {col}, "
            f"substring(lower(hex(MD5(concat({col}, '#', toString(r.number))))), 1, 16))")


def suffixed(map_col: str) -> str:
    keys = ', '.join(f"'{k}'" for k in CONVERSATION_KEYS)
    return (f"mapApply((k, v) -> (k, if(r.number != 0 and v != '' and k in ({keys}), "
            f"concat(v, '-r', toString(r.number)), v)), {map_col})")


def shifted_ns(col: str, shift_ns: str) -> str:
    return f'{col} + toIntervalNanosecond({shift_ns})'


# Source columns are qualified (b.): ClickHouse would resolve a bare name to
# the select's alias of the same name, i.e. the already rewritten value.
def span_exprs(shift_ns: str) -> dict:
    return {
        'Timestamp': shifted_ns('b.Timestamp', shift_ns),
        'TraceId': trace_id('b.TraceId'),
        'SpanId': span_id('b.SpanId'),
        'ParentSpanId': span_id('b.ParentSpanId'),
        'SpanAttributes': suffixed('b.SpanAttributes'),
        'Events.Timestamp': f'arrayMap(t -> {shifted_ns("t", shift_ns)}, b.`Events.Timestamp`)',
        'Links.TraceId': f'arrayMap(x -> {trace_id("x")}, b.`Links.TraceId`)',
        'Links.SpanId': f'arrayMap(x -> {span_id("x")}, b.`Links.SpanId`)',
    }


def log_exprs(shift_ns: str) -> dict:
    body = ("if(r.number = 0, b.Body, replaceRegexpOne(b.Body, 'conversationId: ([0-9A-Za-z_-]+)', "
            "concat('conversationId: \\\\1-r', toString(r.number))))")
    return {
        'Timestamp': shifted_ns('b.Timestamp', shift_ns),
        'TraceId': trace_id('b.TraceId'),
        'SpanId': span_id('b.SpanId'),
        'Body': body,
        'LogAttributes': suffixed('b.LogAttributes'),
    }


def metric_exprs(shift_s: str) -> dict:
    return {
        'ResourceAttributes': ("if(r.number = 0, b.ResourceAttributes, mapUpdate(b.ResourceAttributes, "
                               "map('service.instance.id', concat('bench-r', toString(r.number)))))"),
        'StartTimeUnix': f'if(b.StartTimeUnix = 0, b.StartTimeUnix, b.StartTimeUnix + toIntervalSecond({shift_s}))',
        'TimeUnix': f'b.TimeUnix + toIntervalSecond({shift_s})',
        'Exemplars.TimeUnix': f'arrayMap(t -> t + toIntervalSecond({shift_s}), b.`Exemplars.TimeUnix`)',
        'Exemplars.TraceId': f'arrayMap(x -> {trace_id("x")}, b.`Exemplars.TraceId`)',
        'Exemplars.SpanId': f'arrayMap(x -> {span_id("x")}, b.`Exemplars.SpanId`)',
    }


def _bucket(table: str) -> str:
    """Which rows go together into a partial replica: whole traces, whole metric series."""
    if table.startswith('otel_metrics'):
        return 'cityHash64(b.ServiceName, b.MetricName, b.Attributes) % 1000'
    return 'cityHash64(b.TraceId) % 1000'


def insert_sql(table: str, exprs: dict, lo: int, hi: int, join: str = '', where: str = '') -> str:
    """INSERT of the replicas r and buckets b with lo <= r * 1000 + b < hi (per-mille units)."""
    columns = INSERT_COLUMNS[table]
    select = ',\n    '.join(f'{exprs[c]} as `{c}`' if c in exprs else f'b.`{c}` as `{c}`' for c in columns)
    first, last = lo // 1000, -(-hi // 1000)
    position = f'r.number * 1000 + {_bucket(table)}'
    return (
        f'insert into {OTEL_DB}.{table} ({", ".join(f"`{c}`" for c in columns)})\n'
        f'select\n    {select}\nfrom {BASE_DB}.{table} as b cross join numbers({first}, {last - first}) as r\n'
        f'{join}\nwhere {position} >= {lo} and {position} < {hi}{" and " + where if where else ""}\n'
        f'settings join_use_nulls = 1, max_partitions_per_insert_block = 1000'
    )


def snapshot_sql() -> list:
    """Copy the loaded base to bench_base: the source of every replica."""
    ops = [f'create database if not exists {BASE_DB}']
    for table in TABLES:
        ops.append(f'create table {BASE_DB}.{table} engine = MergeTree order by tuple() '
                   f'as select * from {OTEL_DB}.{table}')
    return ops


def history_sql(lo_units: float, hi_units: float) -> list:
    """Grow the history from lo_units to hi_units replica units (all four tables)."""
    lo, hi = round(lo_units * 1000), round(hi_units * 1000)
    shift_ns = f'{HISTORY_SHIFT_S} * 1000000000'
    return [
        insert_sql('otel_traces', span_exprs(shift_ns), lo, hi),
        insert_sql('otel_logs', log_exprs(shift_ns), lo, hi),
        insert_sql('otel_metrics_histogram', metric_exprs(HISTORY_SHIFT_S), lo, hi),
        insert_sql('otel_metrics_sum', metric_exprs(HISTORY_SHIFT_S), lo, hi),
    ]


def append_hour_sql(index: int, hour_start: str, hour_units: float, history_units: float) -> list:
    """One more hour of data after the newest span (`hour_start`), as a collector would deliver it.

    Spans and logs: base traces (hour_units of them, as new replicas) each
    moved to a random second of the hour, keeping their internal timing.
    Metrics: every series of the history gets its next collection point
    (the base's last hour of points, shifted `index` hours on).
    """
    lo = (APPEND_REPLICA_BASE * index) * 1000
    trace_starts = (f'left join (select TraceId, min(Timestamp) as trace_start from {BASE_DB}.otel_traces '
                    'group by TraceId) as starts on starts.TraceId = b.TraceId')
    shift_ns = (f"dateDiff('nanosecond', coalesce(starts.trace_start, b.Timestamp), "
                f"toDateTime64('{hour_start}', 9)) + toInt64(cityHash64(b.TraceId, r.number) % 3600) * 1000000000")
    shift_s = f'{HISTORY_SHIFT_S} + {index} * 3600'
    last_hour = 'b.TimeUnix > (select max(TimeUnix) - 3600 from {db}.{table})'
    metric_ops = [insert_sql(t, metric_exprs(shift_s), 0, round(history_units * 1000),
                             where=last_hour.format(db=BASE_DB, table=t))
                  for t in ('otel_metrics_histogram', 'otel_metrics_sum')]
    return [
        insert_sql('otel_traces', span_exprs(shift_ns), lo, lo + round(hour_units * 1000), join=trace_starts),
        insert_sql('otel_logs', log_exprs(shift_ns), lo, lo + round(hour_units * 1000), join=trace_starts),
        *metric_ops,
    ]
