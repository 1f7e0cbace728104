"""A scheduled `dbt build` tests the rows it works on, not all history again (meta.test_scope).

Data tests on the raw spans' staging view check the spans int_spans_deduplicated
has not read yet; tests on trace-keyed models check the traces the build
recomputed. `dbt test` and --full-refresh check every row, and a row that
fails stays in scope until it passes.
"""

import json
from pathlib import Path

import pytest

from conftest import INIT_FIXED_DAYS, dbt, llmwh, sql_rows, sql_write, warehouse_env

BUILD = ('build', '--exclude-resource-type', 'unit_test')
KIND_TEST = 'accepted_values_stg_otel__spans_span_kind'
UNIQUE_TRACES_TEST = 'unique_fct_traces_trace_id'


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('test_scope')
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(tmp / 'gen'), '--days', '2', '--start', '2026-11-20', '--seed', '11',
          '--conversations', '8', check=True)
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', str(tmp / 'gen' / 'traces.jsonl'), str(tmp / 'gen' / 'logs.jsonl'), env_extra=env,
          check=True)
    dbt(*BUILD, env_extra=env, check=True)
    return env, tmp


def _result(env, test_name):
    """The test's entry in the last invocation's run_results.json."""
    results = json.loads(Path(env['DBT_TARGET_PATH'], 'run_results.json').read_text())['results']
    [result] = [r for r in results if r['unique_id'].split('.')[2].startswith(test_name)]
    return result


def _flagged(env, test_name, column):
    """What the test's compiled query (as the last invocation ran it) finds now: the scope's
    records of that invocation stay after it."""
    sql = _result(env, test_name)['compiled_code']
    return {r['v'] for r in sql_rows(env, f'select distinct toString({column}) as v from ({sql}) as failures')}


def _status(env, unique_id_part):
    results = json.loads(Path(env['DBT_TARGET_PATH'], 'run_results.json').read_text())['results']
    [status] = [r['status'] for r in results if r['unique_id'].endswith(unique_id_part)]
    return status


def _deliver_span_of_kind(env, kind, span_id):
    """A raw span of an unknown kind, as a collector that does not validate it would insert it."""
    sql_write(env, f"insert into otel.otel_traces select * replace ('{span_id}' as SpanId, '{kind}' as SpanKind) "
                   'from otel.otel_traces order by Timestamp desc, SpanId limit 1')


def test_unique_traces_is_checked_on_the_recomputed_traces_of_a_scheduled_build(warehouse):
    env, tmp = warehouse
    rows = sql_rows(env, 'select trace_id as t, toString(trace_date) as d from llm.fct_traces order by t limit 2')
    untouched, touched = rows[0]['t'], rows[1]['t']
    # A duplicate no run makes: only a check of every trace finds it.
    sql_write(env, f"insert into llm.fct_traces select * from llm.fct_traces where trace_id = '{untouched}'")
    # A late span of the other trace: the next build recomputes that trace alone.
    sql_write(env, "insert into otel.otel_traces select * replace (concat(left(SpanId, 12), 'ffff') as SpanId, "
                   'Timestamp + interval 1 second as Timestamp) '
                   f"from otel.otel_traces where TraceId = '{touched}' order by Timestamp limit 1")
    proc = dbt(*BUILD, '--select', '+fct_traces', env_extra=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _result(env, UNIQUE_TRACES_TEST)['status'] == 'pass'
    # The build's scope holds the recomputed trace: a duplicate of it is found, the other not.
    sql_write(env, f"insert into llm.fct_traces select * from llm.fct_traces where trace_id = '{touched}'")
    assert _flagged(env, UNIQUE_TRACES_TEST, 'unique_field') == {touched}
    proc = dbt('test', '--select', 'fct_traces', env_extra=env)
    assert proc.returncode == 1
    assert _flagged(env, UNIQUE_TRACES_TEST, 'unique_field') == {untouched, touched}
    # Leave one row per trace for the next test's builds.
    dbt(*BUILD, '--full-refresh', '--select', 'fct_traces', env_extra=env, check=True)
    assert sql_rows(env, 'select count() - uniqExact(trace_id) as n from llm.fct_traces') == [{'n': 0}]


def test_staging_tests_check_the_spans_not_yet_extracted(warehouse):
    env, _ = warehouse
    # Cautious: not the tests that also read marts this build leaves as they are.
    select = ('--select', 'stg_otel__spans', 'int_spans_deduplicated', '--indirect-selection', 'cautious')
    # Extracted without its tests (dbt run): a scheduled build no longer reads it.
    _deliver_span_of_kind(env, 'Bogus', 'b0b0b0b0b0b0b0b0')
    dbt('run', '--select', 'int_spans_deduplicated', env_extra=env, check=True)
    proc = dbt(*BUILD, *select, env_extra=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _result(env, KIND_TEST)['status'] == 'pass'

    # Delivered and not yet extracted: the build checks it and stops before extracting it.
    _deliver_span_of_kind(env, 'Weird', 'e1e1e1e1e1e1e1e1')
    for _ in range(2):   # ... and the next build checks it again: nothing slips through
        proc = dbt(*BUILD, *select, env_extra=env)
        assert proc.returncode == 1
        assert _result(env, KIND_TEST)['status'] == 'fail'
        assert _status(env, 'model.llm_otel.int_spans_deduplicated') == 'skipped'
        assert _flagged(env, KIND_TEST, 'value_field') == {'Weird'}
    extracted = sql_rows(env, "select count() as n from llm_intermediate.int_spans_deduplicated "
                              "where span_id = 'e1e1e1e1e1e1e1e1'")
    assert extracted == [{'n': 0}]

    # dbt test and a full rebuild check every span.
    assert dbt('test', '--select', 'stg_otel__spans', '--indirect-selection', 'cautious',
               env_extra=env).returncode == 1
    assert _flagged(env, KIND_TEST, 'value_field') == {'Bogus', 'Weird'}
    assert dbt(*BUILD, '--full-refresh', *select, env_extra=env).returncode == 1
    assert _flagged(env, KIND_TEST, 'value_field') == {'Bogus', 'Weird'}
