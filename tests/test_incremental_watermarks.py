"""A scheduled run follows the rows delivered since the last run.

Before each run every row of the incremental tables is marked (a mutation,
which adds no block, so it is not new data); the run rewrites exactly what it
recomputes, so the unmarked rows afterwards are the run's work. That must be
the new span, and the trace of that span: no other span or trace of that day,
nothing of the other days, however recent.
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import INIT_FIXED_DAYS, dbt, llmwh, warehouse_env

START = '2026-11-20'
DAYS = 3
MARK = '~untouched'
# (table, marked column, key the run recomputes)
MARKED = {
    'llm_intermediate.int_spans_deduplicated': ('service_name', "concat(trace_id, '/', span_id)"),
    'llm_intermediate.int_llm_calls_priced': ('span_name', 'trace_id'),
    'llm.fct_traces': ('root_span_name', 'trace_id'),
}


def _ns(day: int, seconds: int) -> int:
    start = datetime.fromisoformat(f'{START}T00:00:00+00:00').replace(tzinfo=timezone.utc)
    return (int(start.timestamp()) + day * 86400 + seconds) * 10**9


def _request(trace_id, span_id, parent, start_ns, conversation=None):
    attrs = {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
             'gen_ai.usage.input_tokens': '10', 'gen_ai.usage.output_tokens': '5'}
    if conversation:
        attrs['gen_ai.conversation.id'] = conversation
    span = {'traceId': trace_id, 'spanId': span_id, 'parentSpanId': parent, 'name': 'chat gpt-4o', 'kind': 3,
            'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(start_ns + 10**9),
            'attributes': [{'key': k, 'value': {'stringValue': v}} for k, v in attrs.items()]}
    return json.dumps({'resourceSpans': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'late-comer'}}]},
        'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})


def _rows(env, query):
    out = llmwh('sql', query, '--format', 'json', env_extra=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def _scheduled_run(env, tmp, name, line, merge_day=None):
    """Mark every row, load one span, run the models; what the run rewrote.
    `merge_day`: first merge that day's raw parts into one, as a background
    merge may do before the run."""
    for table, (column, _) in MARKED.items():
        llmwh('sql', '--write', f"alter table {table} update {column} = '{MARK}' where true "
              'settings mutations_sync = 2', env_extra=env, check=True)
    path = tmp / f'{name}.jsonl'
    path.write_text(line + '\n')
    llmwh('load', 'otlp', str(path), env_extra=env, check=True)
    if merge_day:
        llmwh('sql', '--write', f"optimize table otel.otel_traces partition '{merge_day}' final",
              env_extra=env, check=True)
        parts = _rows(env, "select count() as n from system.parts where active and database = 'otel' "
                      f"and table = 'otel_traces' and partition = '{merge_day}'")
        assert parts[0]['n'] == 1
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
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', str(tmp / 'gen' / 'traces.jsonl'), str(tmp / 'gen' / 'logs.jsonl'),
          str(tmp / 'gen' / 'metrics.jsonl'), env_extra=env, check=True)
    dbt('seed', env_extra=env, check=True)
    dbt('run', '--select', '+fct_traces', env_extra=env, check=True)
    return env, tmp


def _assert_only(env, rewritten, day, trace, span):
    assert rewritten['llm_intermediate.int_spans_deduplicated'] == {f'{trace}/{span}'}
    # The day holds other traces, which the run leaves alone.
    assert len(_all(env, 'llm.fct_traces') & _raw_traces_on(env, day)) > 1
    for table in ('llm_intermediate.int_llm_calls_priced', 'llm.fct_traces'):
        assert rewritten[table] == {trace}, table


def test_an_append_on_the_newest_day_recomputes_its_trace_only(warehouse):
    env, tmp = warehouse
    newest = f'2026-11-{20 + DAYS - 1}'
    trace = 'abc00001' * 4
    rewritten = _scheduled_run(env, tmp, 'append', _request(trace, '00000000000000b1', '', _ns(DAYS - 1, 80000)))
    _assert_only(env, rewritten, newest, trace, '00000000000000b1')


def test_a_span_merged_with_its_days_older_rows_recomputes_its_trace_only(warehouse):
    """The new span's part merged with the day's older rows before the run: the
    run still tells the new row apart (its block number), not the whole part."""
    env, tmp = warehouse
    newest = f'2026-11-{20 + DAYS - 1}'
    trace = 'abc00002' * 4
    rewritten = _scheduled_run(env, tmp, 'merged', _request(trace, '00000000000000d1', '', _ns(DAYS - 1, 81000)),
                               merge_day=newest)
    _assert_only(env, rewritten, newest, trace, '00000000000000d1')


def test_a_late_span_of_an_old_day_reopens_its_trace_only(warehouse):
    env, tmp = warehouse
    oldest = START
    # A trace whose spans all lie on the first day gets a late child span there.
    trace = _rows(env, "select TraceId as t from otel.otel_traces group by t "
                  f"having max(toDate(Timestamp)) = '{oldest}' order by t limit 1")[0]['t']
    root = _rows(env, f"select SpanId as s from otel.otel_traces where TraceId = '{trace}' "
                 "order by Timestamp limit 1")[0]['s']
    rewritten = _scheduled_run(env, tmp, 'late', _request(trace, '00000000000000c1', root, _ns(0, 43200)))
    _assert_only(env, rewritten, oldest, trace, '00000000000000c1')
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


def test_a_new_turn_of_an_older_conversation_recomputes_it_from_all_its_days(warehouse):
    """A call on the newest day joins a conversation whose calls are all on earlier days:
    the run reads that conversation's earlier days too (its active_days), not only the new one."""
    env, tmp = warehouse
    newest = f'2026-11-{20 + DAYS - 1}'
    dbt('run', '--select', '+fct_conversations', env_extra=env, check=True)
    query = ('select conversation_id as c, llm_calls as n, arrayMap(d -> toString(d), active_days) as days '
             'from llm.fct_conversations where {} order by c limit 1')
    before = _rows(env, query.format(f"llm_calls > 0 and not has(active_days, toDate('{newest}'))"))[0]
    path = tmp / 'turn.jsonl'
    path.write_text(_request('abc00003' * 4, '00000000000000e1', '', _ns(DAYS - 1, 82000),
                             conversation=before['c']) + '\n')
    llmwh('load', 'otlp', str(path), env_extra=env, check=True)
    dbt('run', '--select', '+fct_conversations', env_extra=env, check=True)
    after = _rows(env, query.format(f"conversation_id = '{before['c']}'"))[0]
    assert after['n'] == before['n'] + 1
    assert after['days'] == sorted(before['days'] + [newest])


LEAF_TEST = 'assert_trace_tokens_equal_leaf_usage_span_sums'


def _log_request(trace_id, time_ns):
    record = {'timeUnixNano': str(time_ns), 'traceId': trace_id, 'severityText': 'INFO',
              'body': {'stringValue': 'feedback received'}}
    return json.dumps({'resourceLogs': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'late-comer'}}]},
        'scopeLogs': [{'scope': {'name': 'app'}, 'logRecords': [record]}]}]})


def _leaf_test_run(env, *args):
    """Run the whole-trace token test by `dbt build`/`dbt test` args: the dbt process and the
    test's entry in run_results.json (its compiled query, to run again for what it flagged:
    this invocation's records stay)."""
    proc = dbt(*args, env_extra=env)
    results = json.loads(Path(env['DBT_TARGET_PATH'], 'run_results.json').read_text())['results']
    [result] = [r for r in results if r['unique_id'].endswith(LEAF_TEST)]
    return proc, result


def _leaf_test_failures(env, *args):
    """Exit code, status and the trace ids the whole-trace token test flagged."""
    proc, result = _leaf_test_run(env, *args)
    rows = _rows(env, f"select distinct trace_id as t from ({result['compiled_code']}) as failures")
    return proc.returncode, result['status'], {r['t'] for r in rows}


def test_the_leaf_token_test_checks_what_a_scheduled_build_recomputed(warehouse):
    """A scheduled `dbt build` checks the traces it recomputed (not all history); `dbt test` checks all."""
    env, tmp = warehouse
    newest = f'2026-11-{20 + DAYS - 1}'
    # Traces with one usage span (no umbrella) and no span on the newest day.
    candidates = (
        "select trace_id as t from llm_intermediate.int_spans_deduplicated "
        "where trace_id not in (select trace_id from llm.fct_llm_calls where usage_source = 'log') "
        f"group by trace_id having countIf(input_tokens is not null) = 1 and max(span_date) < '{newest}' "
        "order by t limit 2")
    recomputed, untouched = [r['t'] for r in _rows(env, candidates)]
    # Wrong numbers the models did not make: an intermediate span row of one trace (the next
    # build recomputes that trace from it) and the mart row of another (nothing recomputes it).
    llmwh('sql', '--write', 'alter table llm_intermediate.int_spans_deduplicated update '
          f"input_tokens = input_tokens + 1 where trace_id = '{recomputed}' and input_tokens is not null "
          'settings mutations_sync = 2', env_extra=env, check=True)
    llmwh('sql', '--write', 'alter table llm.fct_traces update input_tokens = input_tokens + 1 '
          f"where trace_id = '{untouched}' settings mutations_sync = 2", env_extra=env, check=True)
    # A late log of the first trace, on the newest day: its trace is recomputed, its old day is not.
    path = tmp / 'late_log.jsonl'
    path.write_text(_log_request(recomputed, _ns(DAYS - 1, 3600)) + '\n')
    llmwh('load', 'otlp', str(path), env_extra=env, check=True)

    code, status, flagged = _leaf_test_failures(
        env, 'build', '--select', '+fct_traces', LEAF_TEST, '--exclude-resource-type', 'unit_test')
    assert (code, status, flagged) == (1, 'fail', {recomputed})

    code, status, flagged = _leaf_test_failures(env, 'test', '--select', LEAF_TEST)
    assert (code, status, flagged) == (1, 'fail', {recomputed, untouched})


def test_a_data_quality_table_of_an_earlier_version_asks_for_one_full_refresh(warehouse):
    """fct_data_quality_issues used to be an unpartitioned table: replacing its one partition with
    the changed days would drop the rest, so the build stops and names the fix."""
    env, _ = warehouse
    dbt('run', '--select', '+fct_data_quality_issues', env_extra=env, check=True)
    query = 'select issue_date, source_table, rule_name, issue_rows from llm.fct_data_quality_issues order by all'
    before = _rows(env, query)
    assert before
    for statement in ('create table llm.dq_old engine = MergeTree order by (issue_date, source_table, rule_name) '
                      'as select * from llm.fct_data_quality_issues',
                      'exchange tables llm.dq_old and llm.fct_data_quality_issues',
                      'drop table llm.dq_old'):
        llmwh('sql', '--write', statement, env_extra=env, check=True)
    proc = dbt('run', '--select', 'fct_data_quality_issues', env_extra=env)
    assert proc.returncode == 1
    assert 'predates its day partitions' in proc.stdout
    assert 'dbt build --full-refresh --select fct_data_quality_issues' in proc.stdout
    assert _rows(env, query) == before
    dbt('run', '--full-refresh', '--select', 'fct_data_quality_issues', env_extra=env, check=True)
    assert _rows(env, query) == before


def test_a_first_build_of_the_traces_checks_every_trace(warehouse):
    """fct_traces built whole inside a `dbt build` (its first build, as after `llmwh init`):
    the leaf token test checks every trace, not the empty set of recomputed ones."""
    env, _ = warehouse
    candidate = _rows(env, (
        "select trace_id as t from llm_intermediate.int_spans_deduplicated "
        "where trace_id not in (select trace_id from llm.fct_llm_calls where usage_source = 'log') "
        "group by trace_id having countIf(input_tokens is not null) = 1 order by t desc limit 1"))[0]['t']
    # A wrong call row no run rewrites (nothing new is delivered, fct_llm_calls is not built):
    # fct_traces sums it when built whole, and only a check of every trace sees it.
    llmwh('sql', '--write', 'alter table llm.fct_llm_calls update input_tokens = input_tokens + 1 '
          f"where trace_id = '{candidate}' and input_tokens is not null settings mutations_sync = 2",
          env_extra=env, check=True)
    llmwh('sql', '--write', 'drop table llm.fct_traces', env_extra=env, check=True)
    code, status, flagged = _leaf_test_failures(
        env, 'build', '--select', 'fct_traces', LEAF_TEST, '--exclude-resource-type', 'unit_test')
    assert (code, status) == (1, 'fail')
    assert candidate in flagged


def test_the_leaf_token_test_finds_an_umbrella_above_spans_without_usage(warehouse):
    """The leaf token test walks up through spans that report no usage: a workflow span repeats
    the usage of the calls under its task spans, and a fct_traces row that counted it is flagged."""
    env, _ = warehouse
    trace = _rows(env, (
        "select trace_id as t from llm.fct_traces where root_span_name = 'research.workflow' "
        "and trace_id not in (select trace_id from llm.fct_llm_calls where usage_source = 'log') "
        'order by t limit 1'))[0]['t']
    naive = _rows(env, 'select sum(input_tokens) as i, sum(output_tokens) as o '
                  f"from llm_intermediate.int_spans_deduplicated where trace_id = '{trace}'")[0]
    fact = _rows(env, f"select input_tokens as i, output_tokens as o from llm.fct_traces where trace_id = '{trace}'")[0]
    # The workflow's tokens are its calls' again; no call is its direct child.
    assert naive['i'] == 2 * fact['i'] and naive['o'] == 2 * fact['o']
    direct = _rows(env, (
        'select count() as n from llm_intermediate.int_spans_deduplicated as child '
        'inner join llm_intermediate.int_spans_deduplicated as parent '
        'on child.trace_id = parent.trace_id and child.parent_span_id = parent.span_id '
        f"where child.trace_id = '{trace}' and child.input_tokens is not null and parent.input_tokens is not null"))
    assert direct == [{'n': 0}]

    def set_tokens(tokens):
        llmwh('sql', '--write', f"alter table llm.fct_traces update input_tokens = {tokens['i']}, "
              f"output_tokens = {tokens['o']} where trace_id = '{trace}' settings mutations_sync = 2",
              env_extra=env, check=True)

    set_tokens(naive)
    try:
        proc, result = _leaf_test_run(env, 'test', '--select', LEAF_TEST)
        problems = f"select problem from ({result['compiled_code']}) as failures where trace_id = '{trace}'"
        flagged = {r['problem'] for r in _rows(env, problems)}
    finally:
        set_tokens(fact)
    # (Earlier tests of this module leave other traces wrong on purpose.)
    assert (proc.returncode, result['status']) == (1, 'fail')
    assert flagged == {
        'fct_traces tokens differ from the sum of the leaf usage spans',
        'trace with an umbrella span: fct_traces tokens equal the naive sum of all usage spans',
    }
    assert _rows(env, problems) == []
