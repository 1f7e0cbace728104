"""Issue 10, retention: raw data expiring never changes the history in the marts,
and the marts' own retention (var mart_retention_days) drops only days beyond
its horizon.

One warehouse, six generated days up to yesterday: built once; then the raw
partitions of the two oldest days are dropped, as the raw TTL
(ttl_only_drop_parts, daily partitions) would; the normal incremental build
follows, then one with a mart retention of four days.
"""

import json
from datetime import date, timedelta

import pytest

from conftest import dbt, llmwh, warehouse_env, sql_rows as q

DAYS = 6
EXPIRED_RAW_DAYS = 2
MART_RETENTION_DAYS = 4
MARTS = ('fct_llm_calls', 'fct_model_daily', 'fct_traces', 'fct_usage_hourly')
# Per mart: its day column and what is summed per day (floats rounded).
DAILY = {
    'fct_llm_calls': ('call_date', 'count() as calls, sum(input_tokens) as input, sum(output_tokens) as output, '
                                   'round(sum(cost_usd), 6) as cost'),
    'fct_model_daily': ('call_date', 'sum(calls) as calls, sum(input_tokens) as input, '
                                     'sum(output_tokens) as output, round(sum(cost_usd), 6) as cost'),
    'fct_traces': ('trace_date', 'count() as traces, round(sum(cost_usd), 6) as cost'),
    'fct_usage_hourly': ('call_date', 'sum(calls) as calls, sum(input_tokens) as input, '
                                      'sum(output_tokens) as output, round(sum(cost_usd), 6) as cost'),
}


def build(env, *args):
    dbt('build', '--select', *(f'+{m}' for m in MARTS), '--exclude-resource-type', 'test', *args,
        env_extra=env, check=True)


def daily(env) -> dict:
    """mart -> {day: totals}, in one query."""
    union = ' union all '.join(
        f"select '{m}' as mart, toString({day}) as day, toJSONString(tuple({sums})) as totals "
        f'from llm.{m} group by {day}' for m, (day, sums) in DAILY.items())
    state = {m: {} for m in MARTS}
    for r in q(env, union):
        state[r['mart']][date.fromisoformat(r['day'])] = r['totals']
    return state


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('retention')
    env = warehouse_env(tmp, profiles_dir)
    data = tmp / 'data'
    llmwh('generate', '--out', str(data), '--days', str(DAYS), '--conversations', '12', '--seed', '3', check=True)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *(str(data / f) for f in ('traces.jsonl', 'logs.jsonl', 'metrics.jsonl')),
          env_extra=env, check=True)
    build(env)
    before = daily(env)
    today = date.fromisoformat(q(env, 'select toString(today()) as d')[0]['d'])
    first = min(before['fct_llm_calls'])
    expired = [first + timedelta(days=i) for i in range(EXPIRED_RAW_DAYS)]
    raw_tables = [r['name'] for r in q(env, "select name from system.tables where database = 'otel' "
                                            "and engine like '%MergeTree' and name like 'otel%'")]
    drops = ', '.join(f"drop partition '{d}'" for d in expired)
    for table in raw_tables:
        llmwh('sql', '--write', f'alter table otel.{table} {drops}', env_extra=env, check=True)
    left = q(env, 'select count() as n from otel.otel_traces where toDate(Timestamp) <= '
                  f"'{expired[-1]}'")[0]['n']
    build(env)
    after_raw_expiry = daily(env)
    build(env, '--vars', json.dumps({'mart_retention_days': MART_RETENTION_DAYS}))
    return dict(before=before, today=today, expired=expired, raw_tables=raw_tables, left=left,
                after_raw_expiry=after_raw_expiry, after_mart_retention=daily(env))


def test_the_data_covers_the_days_before_and_after_the_horizons(warehouse):
    days = set(warehouse['before']['fct_llm_calls'])
    horizon = warehouse['today'] - timedelta(days=MART_RETENTION_DAYS)
    assert min(days) >= warehouse['today'] - timedelta(days=DAYS) and max(days) < warehouse['today']
    assert {d for d in days if d <= horizon} and {d for d in days if d > horizon}
    assert 'otel_traces' in warehouse['raw_tables'] and 'otel_metrics_histogram' in warehouse['raw_tables']


def test_raw_partitions_of_the_expired_days_are_gone(warehouse):
    assert warehouse['left'] == 0


@pytest.mark.parametrize('mart', MARTS)
def test_expired_raw_data_leaves_the_marts_history_unchanged(warehouse, mart):
    before, after = warehouse['before'][mart], warehouse['after_raw_expiry'][mart]
    assert set(warehouse['expired']) <= set(before)
    assert after == before


@pytest.mark.parametrize('mart', MARTS)
def test_mart_retention_drops_only_days_beyond_its_horizon(warehouse, mart):
    horizon = warehouse['today'] - timedelta(days=MART_RETENTION_DAYS)
    before = warehouse['before'][mart]
    assert warehouse['after_mart_retention'][mart] == {d: v for d, v in before.items() if d > horizon}
