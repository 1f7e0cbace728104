"""fct_llm_calls and fct_traces (delete_insert on trace_id, meta.delete_scope:
trace_delete_scope) replace the rows of recomputed traces by rebuilding only
the day partitions that can hold them, and still leave one row per trace
and call.

One warehouse of four generated days (20-23 Nov) plus hand-written traces:
- UMBRELLA: an LLM call just before midnight of the 22nd; its LLM child
  after midnight arrives in run A, so the parent becomes an umbrella and its
  call leaves the 22nd, a day without any new row of the trace.
- EARLY_ROOT: an LLM call on the 22nd whose root span (not an LLM call) on
  the 21st arrives in run A: the trace's row moves to the 21st.
- EXPIRED: a root span and a call on the 21st, a call on the 22nd. Before
  run B the raw partition of the 21st is dropped (as the raw TTL does) and a
  span of another trace, not an LLM call, arrives on that day, so
  int_spans_deduplicated rebuilds the 21st without the trace's spans there;
  a late call of the trace on the 22nd re-opens it in the same run. No new
  row of fct_llm_calls is on the 21st, and no trace it replaces still has a
  span there, yet the trace's call there must go with the trace's other rows.
"""

import json
from datetime import datetime, timezone

import pytest

from conftest import INIT_FIXED_DAYS, MART_KEYS, dbt, llmwh, sql_rows, sql_write, warehouse_env

START = '2026-11-20'
DAYS = 4
UNTOUCHED_DAY = START
MARTS = ('fct_llm_calls', 'fct_traces')
DAY_COLUMN = {'fct_llm_calls': 'call_date', 'fct_traces': 'trace_date'}
UMBRELLA = 'dddd0001' * 4
EARLY_ROOT = 'dddd0002' * 4
EXPIRED = 'dddd0003' * 4
STRANGER = 'dddd0004' * 4


def _ns(day: str, seconds: int) -> int:
    midnight = datetime.fromisoformat(f'{day}T00:00:00+00:00').replace(tzinfo=timezone.utc)
    return (int(midnight.timestamp()) + seconds) * 10**9


def _span(trace, span_id, parent, start_ns, llm=True):
    attrs = {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
             'gen_ai.usage.input_tokens': '10', 'gen_ai.usage.output_tokens': '5'} if llm else {}
    return {'traceId': trace, 'spanId': span_id, 'parentSpanId': parent, 'name': 'chat gpt-4o' if llm else 'agent',
            'kind': 3 if llm else 1, 'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(start_ns + 10**9),
            'attributes': [{'key': k, 'value': {'stringValue': v}} for k, v in attrs.items()]}


def _load(env, path, *spans):
    lines = [json.dumps({'resourceSpans': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'scoped'}}]},
        'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})
        for span in spans]
    path.write_text('\n'.join(lines) + '\n')
    llmwh('load', 'otlp', str(path), env_extra=env, check=True)


def _run(env):
    dbt('run', '--select', '+fct_llm_calls', '+fct_traces', env_extra=env, check=True)


def _parts(env) -> dict:
    """mart -> {day: sorted active part names}."""
    rows = sql_rows(env, "select table, partition, groupArraySorted(100)(name) as names from system.parts "
                         f"where active and database = 'llm' and table in {MARTS} group by table, partition")
    parts = {m: {} for m in MARTS}
    for r in rows:
        parts[r['table']][r['partition']] = r['names']
    return parts


def _rows(env, mart, trace) -> list:
    return sql_rows(env, f"select *, toString({DAY_COLUMN[mart]}) as day from llm.{mart} "
                         f"where trace_id = '{trace}' order by {DAY_COLUMN[mart]}")


def _duplicate_keys(env) -> dict:
    found = {}
    for mart in MARTS:
        key = MART_KEYS[mart]
        found[mart] = sql_rows(env, f'select {key}, count() as n from llm.{mart} group by {key} having n > 1')
    return found


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('delete_scope')
    env = warehouse_env(tmp, profiles_dir)
    gen = tmp / 'gen'
    llmwh('generate', '--out', str(gen), '--days', str(DAYS), '--start', START, '--seed', '7',
          '--conversations', '8', check=True)
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', *(str(gen / f'{n}.jsonl') for n in ('traces', 'logs', 'metrics')), env_extra=env, check=True)
    _load(env, tmp / 'base.jsonl',
          _span(UMBRELLA, 'aa00000000000001', '', _ns('2026-11-22', 86400 - 5)),
          _span(EARLY_ROOT, 'bb00000000000002', 'bb00000000000001', _ns('2026-11-22', 600)),
          _span(EXPIRED, 'cc00000000000001', '', _ns('2026-11-21', 86400 - 30), llm=False),
          _span(EXPIRED, 'cc00000000000004', 'cc00000000000001', _ns('2026-11-21', 86400 - 20)),
          _span(EXPIRED, 'cc00000000000002', 'cc00000000000001', _ns('2026-11-22', 30)))
    dbt('seed', env_extra=env, check=True)
    _run(env)
    for mart in MARTS:
        sql_write(env, f'optimize table llm.{mart} final')
    state = {'base': {m: {t: _rows(env, m, t) for t in (UMBRELLA, EARLY_ROOT, EXPIRED)} for m in MARTS},
             'parts_before_a': _parts(env)}

    # Run A: the umbrella's child and the early root arrive.
    _load(env, tmp / 'run_a.jsonl',
          _span(UMBRELLA, 'aa00000000000002', 'aa00000000000001', _ns('2026-11-23', 5)),
          _span(EARLY_ROOT, 'bb00000000000001', '', _ns('2026-11-21', 86400 - 10), llm=False))
    _run(env)
    state['parts_after_a'] = _parts(env)
    state['after_a'] = {m: {t: _rows(env, m, t) for t in (UMBRELLA, EARLY_ROOT)} for m in MARTS}
    state['duplicates_after_a'] = _duplicate_keys(env)
    # The days any trace the run recomputed has a span on (what it may rewrite).
    state['days_of_run_a'] = {r['d'] for r in sql_rows(env, (
        "select distinct toString(span_date) as d from llm_intermediate.int_spans_deduplicated "
        "where trace_id in (select trace_id from llm_intermediate.int_spans_deduplicated "
        "where span_date in ('2026-11-21', '2026-11-23'))"))}

    # Run B: a late call of EXPIRED arrives, the 21st expires in the raw
    # table, then a late span of another trace lands on the 21st. (The late
    # call goes first: a restarted engine numbers new blocks from the highest
    # one left, which must not be the expired day's.)
    _load(env, tmp / 'run_b_late.jsonl', _span(EXPIRED, 'cc00000000000003', 'cc00000000000001', _ns('2026-11-22', 60)))
    sql_write(env, "alter table otel.otel_traces drop partition '2026-11-21'")
    _load(env, tmp / 'run_b_stranger.jsonl', _span(STRANGER, 'ee00000000000001', '', _ns('2026-11-21', 3600), llm=False))
    _run(env)
    state['after_b'] = {m: _rows(env, m, EXPIRED) for m in MARTS}
    state['duplicates_after_b'] = _duplicate_keys(env)
    return state


def test_the_hand_written_traces_start_as_written(warehouse):
    base = warehouse['base']
    assert [(r['call_id'], r['day']) for r in base['fct_llm_calls'][UMBRELLA]] == [('aa00000000000001', '2026-11-22')]
    assert [r['day'] for r in base['fct_traces'][EARLY_ROOT]] == ['2026-11-22']
    assert [r['day'] for r in base['fct_traces'][EXPIRED]] == ['2026-11-21']
    assert [(r['call_id'], r['day']) for r in base['fct_llm_calls'][EXPIRED]] == [
        ('cc00000000000004', '2026-11-21'), ('cc00000000000002', '2026-11-22')]


def test_a_call_that_became_an_umbrella_leaves_its_day(warehouse):
    # Its row was on the 22nd; the run's new rows of the trace are all on the 23rd.
    calls = warehouse['after_a']['fct_llm_calls'][UMBRELLA]
    assert [(r['call_id'], r['day']) for r in calls] == [('aa00000000000002', '2026-11-23')]
    traces = warehouse['after_a']['fct_traces'][UMBRELLA]
    assert [(r['day'], r['llm_calls']) for r in traces] == [('2026-11-22', 1)]


def test_a_trace_whose_root_arrived_late_moves_to_the_roots_day(warehouse):
    traces = warehouse['after_a']['fct_traces'][EARLY_ROOT]
    assert [r['day'] for r in traces] == ['2026-11-21']
    calls = warehouse['after_a']['fct_llm_calls'][EARLY_ROOT]
    assert [(r['call_id'], r['day']) for r in calls] == [('bb00000000000002', '2026-11-22')]


def test_no_key_is_duplicated_after_either_run(warehouse):
    assert warehouse['duplicates_after_a'] == {m: [] for m in MARTS}
    assert warehouse['duplicates_after_b'] == {m: [] for m in MARTS}


def test_a_late_span_on_an_expired_raw_day_keeps_that_days_spans(warehouse):
    # The 21st's raw partition expired, then a span of another trace landed
    # there: int_spans_deduplicated rebuilds the day from its own earlier rows
    # plus the new span, so EXPIRED, re-opened by its late call, is recomputed
    # with its root and first call of the 21st still there, in one row.
    traces = warehouse['after_b']['fct_traces']
    assert [(r['day'], r['llm_calls']) for r in traces] == [('2026-11-21', 3)]
    calls = warehouse['after_b']['fct_llm_calls']
    assert sorted((r['day'], r['call_id']) for r in calls) == [
        ('2026-11-21', 'cc00000000000004'), ('2026-11-22', 'cc00000000000002'),
        ('2026-11-22', 'cc00000000000003')]


def test_the_delete_leaves_untouched_day_partitions_alone(warehouse):
    # No trace recomputed in run A has a span on the first day, so neither
    # the delete nor the insert has business there: its parts keep their names
    # (a mutation of a part gives it a new name, even when it deletes nothing).
    assert UNTOUCHED_DAY not in warehouse['days_of_run_a']
    before, after = warehouse['parts_before_a'], warehouse['parts_after_a']
    for mart in MARTS:
        assert before[mart][UNTOUCHED_DAY], mart
        assert after[mart][UNTOUCHED_DAY] == before[mart][UNTOUCHED_DAY], mart
        # Days the run rewrote did change (the check can see a mutation).
        assert after[mart]['2026-11-22'] != before[mart]['2026-11-22'], mart
