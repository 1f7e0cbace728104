"""A scheduled run follows the day partitions that received data.

Before each run every row of the incremental tables is marked (a mutation,
which adds no block, so it is not new data); the run rewrites exactly what it
recomputes, so the unmarked rows afterwards are the run's work. That must be
the day partition that received the new span and the traces with a raw span
on that day: nothing of the other days, however recent.
"""

import json
from datetime import datetime, timezone

import pytest

from conftest import dbt, llmwh, warehouse_env

START = '2026-11-20'
DAYS = 3
MARK = '~untouched'
# (table, marked column, key the run recomputes)
MARKED = {
    'llm_intermediate.int_spans_deduplicated': ('service_name', 'span_date'),
    'llm_intermediate.int_llm_calls_classified': ('span_name', 'trace_id'),
    'llm.fct_traces': ('root_span_name', 'trace_id'),
}


def _ns(day: int, seconds: int) -> int:
    start = datetime.fromisoformat(f'{START}T00:00:00+00:00').replace(tzinfo=timezone.utc)
    return (int(start.timestamp()) + day * 86400 + seconds) * 10**9


def _request(trace_id, span_id, parent, start_ns):
    attrs = {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
             'gen_ai.usage.input_tokens': '10', 'gen_ai.usage.output_tokens': '5'}
    span = {'traceId': trace_id, 'spanId': span_id, 'parentSpanId': parent, 'name': 'chat gpt-4o', 'kind': 3,
            'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(start_ns + 10**9),
            'attributes': [{'key': k, 'value': {'stringValue': v}} for k, v in attrs.items()]}
    return json.dumps({'resourceSpans': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'late-comer'}}]},
        'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})


def _rows(env, query):
    out = llmwh('sql', query, '--format', 'json', env_extra=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def _scheduled_run(env, tmp, name, line):
    """Mark every row, load one span, run the models; what the run rewrote."""
    for table, (column, _) in MARKED.items():
        llmwh('sql', '--write', f"alter table {table} update {column} = '{MARK}' where true "
              'settings mutations_sync = 2', env_extra=env, check=True)
    path = tmp / f'{name}.jsonl'
    path.write_text(line + '\n')
    llmwh('load', 'otlp', str(path), env_extra=env, check=True)
    dbt('run', '--select', '+fct_traces', env_extra=env, check=True)
    rewritten = {}
    for table, (column, key) in MARKED.items():
        rows = _rows(env, f'select toString({key}) as k from {table} group by k having countIf({column} = {MARK!r}) = 0')
        rewritten[table] = {r['k'] for r in rows}
    return rewritten


def _raw_traces_on(env, day):
    rows = _rows(env, f"select distinct TraceId as t from otel.otel_traces where toDate(Timestamp) = '{day}'")
    return {r['t'] for r in rows}


def _all(env, table):
    return {r['t'] for r in _rows(env, f'select distinct trace_id as t from {table}')}


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('watermarks')
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(tmp / 'gen'), '--days', str(DAYS), '--start', START, '--seed', '5',
          '--conversations', '12', check=True)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', str(tmp / 'gen' / 'traces.jsonl'), str(tmp / 'gen' / 'logs.jsonl'),
          str(tmp / 'gen' / 'metrics.jsonl'), env_extra=env, check=True)
    dbt('seed', env_extra=env, check=True)
    dbt('run', '--select', '+fct_traces', env_extra=env, check=True)
    return env, tmp


def _assert_only_day(env, rewritten, day):
    on_day = _raw_traces_on(env, day)
    assert rewritten['llm_intermediate.int_spans_deduplicated'] == {day}
    for table in ('llm_intermediate.int_llm_calls_classified', 'llm.fct_traces'):
        expected = _all(env, table) & on_day
        assert expected, table
        assert rewritten[table] == expected, table


def test_an_append_on_the_newest_day_recomputes_that_day_only(warehouse):
    env, tmp = warehouse
    newest = f'2026-11-{20 + DAYS - 1}'
    trace = 'abc00001' * 4
    rewritten = _scheduled_run(env, tmp, 'append', _request(trace, '00000000000000b1', '', _ns(DAYS - 1, 80000)))
    _assert_only_day(env, rewritten, newest)
    assert trace in rewritten['llm.fct_traces']


def test_a_late_span_of_an_old_day_reopens_that_day_only(warehouse):
    env, tmp = warehouse
    oldest = START
    # A trace whose spans all lie on the first day gets a late child span there.
    trace = _rows(env, "select TraceId as t from otel.otel_traces group by t "
                  f"having max(toDate(Timestamp)) = '{oldest}' order by t limit 1")[0]['t']
    root = _rows(env, f"select SpanId as s from otel.otel_traces where TraceId = '{trace}' "
                 "order by Timestamp limit 1")[0]['s']
    rewritten = _scheduled_run(env, tmp, 'late', _request(trace, '00000000000000c1', root, _ns(0, 43200)))
    _assert_only_day(env, rewritten, oldest)
    assert trace in rewritten['llm.fct_traces']
    late = _rows(env, "select count() as n from llm_intermediate.int_spans_deduplicated "
                 f"where trace_id = '{trace}' and span_id = '00000000000000c1'")
    assert late[0]['n'] == 1


def test_a_run_with_nothing_new_rewrites_nothing(warehouse):
    env, tmp = warehouse
    for table, (column, _) in MARKED.items():
        llmwh('sql', '--write', f"alter table {table} update {column} = '{MARK}' where true "
              'settings mutations_sync = 2', env_extra=env, check=True)
    dbt('run', '--select', '+fct_traces', env_extra=env, check=True)
    for table, (column, _) in MARKED.items():
        assert _rows(env, f'select countIf({column} != {MARK!r}) as n from {table}')[0]['n'] == 0, table
