"""Marts end to end on the built-in sample: numbers, idempotent reruns, late data."""

import pytest

from conftest import MART_KEYS, dbt, llmwh, warehouse_env, sql_rows as q
from usage_oracle import assert_hourly_equals_calls

MARTS = {m: MART_KEYS[m] for m in (
    'fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily', 'fct_evaluations', 'fct_usage_hourly')}
WORKED_EXAMPLE = '5c7b0e2a-1f4e-4c71-9a51-0d6f1e9b3a10'


@pytest.fixture(scope='module')
def env(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('marts')
    env = warehouse_env(tmp, profiles_dir)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'sample', env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return env


def snapshot(env):
    return {name: q(env, f'select * from llm.{name} order by {keys}') for name, keys in MARTS.items()}


def test_worked_example_conversation_matches(env):
    rows = q(env, f"select * from llm.fct_conversations where conversation_id = '{WORKED_EXAMPLE}'")
    assert len(rows) == 1
    row = rows[0]
    assert (row['app_prompt_tokens'], row['app_completion_tokens']) == (790, 218)
    assert (row['input_tokens'], row['output_tokens']) == (790, 218)
    assert row['reconciliation_status'] == 'match'
    assert (row['turns'], row['llm_calls'], row['tool_calls']) == (2, 2, 1)


def test_umbrella_span_tokens_are_not_counted(env):
    """The OpenLLMetry workflow span repeats its child's 5120/730 tokens."""
    rows = q(env, "select count() as calls, sum(input_tokens) as input from llm.fct_llm_calls "
                  "where service_name = 'research-agent'")
    assert rows == [{'calls': 1, 'input': 5120}]
    trace = q(env, "select llm_calls, input_tokens from llm.fct_traces where root_span_name = 'summarize.workflow'")
    assert trace == [{'llm_calls': 1, 'input_tokens': 5120}]


def test_costs_from_disjoint_buckets(env):
    rows = q(env, "select input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, is_priced "
                  "from llm.fct_llm_calls where service_name = 'research-agent'")
    # claude-sonnet-4-5 list price: 3 in, 0.30 cache read, 3.75 cache write, 15 out per 1M tokens.
    expected = ((5120 - 4096 - 512) * 3 + 4096 * 0.30 + 512 * 3.75 + 730 * 15) / 1e6
    assert rows[0]['cost_usd'] == pytest.approx(expected, rel=1e-9)
    assert rows[0]['is_priced'] is True
    gpt4o = q(env, f"select sum(cost_usd) as cost from llm.fct_llm_calls where conversation_id = '{WORKED_EXAMPLE}'")
    assert gpt4o[0]['cost'] == pytest.approx((790 * 2.5 + 218 * 10) / 1e6, rel=1e-9)


def test_unknown_usage_and_failed_calls_are_null_not_zero(env):
    rows = q(env, "select usage_source, input_tokens, total_tokens, cost_usd, is_priced, is_error, error_type "
                  "from llm.fct_llm_calls where is_error")
    assert rows == [{'usage_source': 'none', 'input_tokens': None, 'total_tokens': None, 'cost_usd': None,
                     'is_priced': False, 'is_error': True, 'error_type': 'RateLimitError'}]


def test_reported_cost_kept_beside_computed(env):
    rows = q(env, "select reported_cost_usd from llm.fct_llm_calls where instrumentation = 'openinference'")
    assert rows == [{'reported_cost_usd': 0.0012288}]


def test_usage_hourly_equals_the_calls_summed_per_hour(env):
    assert_hourly_equals_calls(env)
    # The sample's research-agent call (5120 in, 730 out) is its service's only call.
    rows = q(env, "select calls, input_tokens, output_tokens, total_tokens from llm.fct_usage_hourly "
                  "where service_name = 'research-agent'")
    assert rows == [{'calls': 1, 'input_tokens': 5120, 'output_tokens': 730, 'total_tokens': 5850}]


def test_model_daily_reconciles_with_token_metrics(env):
    rows = q(env, "select provider, model_family, calls, input_tokens, metric_input_tokens, reconciliation_status "
                  "from llm.fct_model_daily order by call_date, provider, model_family")
    assert rows, 'fct_model_daily is empty'
    for row in rows:
        assert row['metric_input_tokens'] == row['input_tokens'], row
        assert row['reconciliation_status'] == 'match', row


def test_rerun_is_idempotent(env):
    before = snapshot(env)
    assert all(before.values())
    dbt('run', env_extra=env, check=True)
    assert snapshot(env) == before


def test_duplicate_deliveries_are_counted_once(env):
    before = snapshot(env)
    llmwh('sql', '--write', "insert into otel.otel_traces select * from otel.otel_traces "
                 "where ServiceName in ('support-bot', 'research-agent', 'rag-api')", env_extra=env, check=True)
    llmwh('sql', '--write', "insert into otel.otel_logs select * from otel.otel_logs "
                 "where LogAttributes['promptTokens'] != '' or EventName = 'gen_ai.evaluation.result'",
          env_extra=env, check=True)
    dbt('run', env_extra=env, check=True)
    assert snapshot(env) == before


def test_late_data_inside_the_lookback_window_is_picked_up(env):
    calls_before = q(env, 'select count() as n from llm.fct_llm_calls')[0]['n']
    min_date = q(env, 'select toString(min(call_date)) as d from llm.fct_llm_calls')[0]['d']
    # A copy of the support-bot call (newest day) with new ids, moved to the day
    # before the oldest data: the 2-day lookback from the newest day covers it.
    llmwh('sql', '--write', "insert into otel.otel_traces select * replace ("
                 "concat('1a7e', substring(TraceId, 5)) as TraceId, "
                 "Timestamp - interval 2 day as Timestamp) from otel.otel_traces "
                 "where ServiceName = 'support-bot' limit 1", env_extra=env, check=True)
    dbt('run', env_extra=env, check=True)
    assert q(env, 'select count() as n from llm.fct_llm_calls')[0]['n'] == calls_before + 1
    late = q(env, f"select calls, input_tokens from llm.fct_model_daily "
                  f"where call_date = toDate('{min_date}') - 1 and model_family = 'gpt-4o-mini'")
    assert late == [{'calls': 1, 'input_tokens': 812}]
    assert q(env, "select count() as n from llm.fct_traces where startsWith(trace_id, '1a7e')")[0]['n'] == 1


def test_usage_hourly_keeps_unknown_usage_null_through_a_late_call(env):
    # A late copy of the failed litellm-proxy call (RateLimitError, no usage), three
    # hours earlier: alone in its hour, whose tokens and cost are unknown, not 0.
    llmwh('sql', '--write', "insert into otel.otel_traces select * replace ("
                 "concat('0e55', substring(TraceId, 5)) as TraceId, "
                 "Timestamp - interval 3 hour as Timestamp) from otel.otel_traces "
                 "where ServiceName = 'litellm-proxy' and StatusCode = 'Error'", env_extra=env, check=True)
    dbt('run', env_extra=env, check=True)
    late = q(env, "select calls, error_calls, input_tokens, output_tokens, "
                  "total_tokens, cost_usd, unpriced_calls, calls_without_usage, cost_complete "
                  "from llm.fct_usage_hourly where service_name = 'litellm-proxy' and call_hour = ("
                  "select toStartOfHour(started_at) from llm.fct_llm_calls where startsWith(trace_id, '0e55'))")
    assert late == [{'calls': 1, 'error_calls': 1, 'input_tokens': None,
                     'output_tokens': None, 'total_tokens': None, 'cost_usd': None, 'unpriced_calls': 1,
                     'calls_without_usage': 0, 'cost_complete': True}]
    # Every hour still equals its calls after the incremental runs of the late tests.
    assert_hourly_equals_calls(env)


def test_data_arriving_for_a_day_long_past_is_picked_up_by_a_normal_run(env):
    # Runs follow the day partitions that received data, however old the day:
    # no lookback window to widen, no full refresh needed.
    late_id = "startsWith(trace_id, '01d0')"
    llmwh('sql', '--write', "insert into otel.otel_traces select * replace ("
                 "concat('01d0', substring(TraceId, 5)) as TraceId, "
                 "Timestamp - interval 10 day as Timestamp) from otel.otel_traces "
                 "where ServiceName = 'support-bot' limit 1", env_extra=env, check=True)
    dbt('run', env_extra=env, check=True)
    assert q(env, f'select count() as n from llm.fct_llm_calls where {late_id}')[0]['n'] == 1
    assert q(env, f'select count() as n from llm.fct_traces where {late_id}')[0]['n'] == 1
    incremental = q(env, 'select trace_id, call_id, cost_usd, input_tokens from llm.fct_llm_calls '
                         'order by trace_id, call_id')
    dbt('run', '--full-refresh', env_extra=env, check=True)
    assert q(env, 'select trace_id, call_id, cost_usd, input_tokens from llm.fct_llm_calls '
                  'order by trace_id, call_id') == incremental
