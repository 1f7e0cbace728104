"""fct_budget_status and fct_usage_anomalies on generated data with planted spikes.

A clean base (`llmwh generate --faults none`) is built once. On it: no usage
anomaly is reported, and budgets whose amounts are set from the generated
spend land in the expected threshold states, with spend and both forecasts
recomputed in Python from fct_llm_calls. Then spikes are planted in the raw
spans (copies of one service's calls squeezed into one hour, 5x latency for
another service for a day, errors for a third for a day), the warehouse is
rebuilt, and every planted anomaly must be found, and nothing else.
"""

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from conftest import dbt, llmwh, project_var, warehouse_env, sql_rows as q, sql_write as execute

START = date(2026, 3, 2)          # a Monday; 10 days, so the as-of day below has a full trailing week
DAYS = 10
AS_OF = datetime(2026, 3, 9, 15, 30, tzinfo=timezone.utc)
# Error rate and latency need anomaly_min_calls calls in a day, and at least
# anomaly_min_baseline_points such days in the week before: these services have them.
SPIKE_SERVICE, SPIKE_DAY, SPIKE_HOUR = 'research-agent', START + timedelta(days=8), 10
SLOW_SERVICE, SLOW_DAY = 'docs-agent', START + timedelta(days=7)
ERROR_SERVICE, ERROR_DAY = 'librechat', START + timedelta(days=9)


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('budgets')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(out), '--days', str(DAYS), '--conversations', '150', '--seed', '5',
          '--faults', 'none', '--start', START.isoformat(), check=True)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return env


# ------------------------------------------------------------------ clean base

def test_no_anomaly_on_clean_data(warehouse):
    rows = q(warehouse, 'select * from llm.fct_usage_anomalies')
    assert rows == [], rows


def _spend(env, where, as_of=AS_OF):
    return q(env, f"select toFloat64(coalesce(sum(cost_usd), 0)) as spend from llm.fct_llm_calls "
                  f"where started_at <= toDateTime64('{as_of:%Y-%m-%d %H:%M:%S}', 9, 'UTC') and {where}")[0]['spend']


def _daily_spend(env, where, first, last):
    rows = q(env, f"select toString(call_date) as d, toFloat64(sum(cost_usd)) as spend from llm.fct_llm_calls "
                  f"where call_date between '{first}' and '{last}' and {where} group by d")
    return {date.fromisoformat(r['d']): r['spend'] or 0.0 for r in rows}


def _expected_forecasts(env, where, spend, period_start, period_end, as_of=AS_OF):
    elapsed = (as_of - datetime.combine(period_start, datetime.min.time(), timezone.utc)).total_seconds() / 86400
    period_days = (period_end - period_start).days
    linear = spend / elapsed * period_days
    # Weekday averages over the full days before the as-of day, from the first generated day.
    first_trailing = max(as_of.date() - timedelta(days=28), START)
    last_trailing = as_of.date() - timedelta(days=1)
    daily = _daily_spend(env, where, first_trailing, last_trailing)
    per_weekday, days_per_weekday = {}, {}
    day = first_trailing
    while day <= last_trailing:
        per_weekday[day.weekday()] = per_weekday.get(day.weekday(), 0.0) + daily.get(day, 0.0)
        days_per_weekday[day.weekday()] = days_per_weekday.get(day.weekday(), 0) + 1
        day += timedelta(days=1)
    rest_of_today = 1 - (as_of.hour * 3600 + as_of.minute * 60 + as_of.second) / 86400
    weekday = spend
    day = as_of.date()
    while day < period_end:
        weight = rest_of_today if day == as_of.date() else 1.0
        if day.weekday() in per_weekday:
            weekday += weight * per_weekday[day.weekday()] / days_per_weekday[day.weekday()]
        else:
            # A weekday the trailing days have not seen: the linear daily rate.
            weekday += weight * spend / elapsed
        day += timedelta(days=1)
    return linear, weekday


def test_budget_states_and_forecasts(warehouse):
    env = warehouse
    month_start, month_end = date(2026, 3, 1), date(2026, 4, 1)
    service = "service_name = 'librechat' and call_date >= '2026-03-01'"
    model_family = q(env, "select model_family from llm.fct_llm_calls where model_family is not null "
                          "group by model_family order by sum(cost_usd) desc limit 1")[0]['model_family']
    model = f"model_family = '{model_family}' and call_date >= '2026-03-01'"
    everything = "call_date >= '2026-03-01'"
    today = f"call_date = '{AS_OF.date()}'"
    spends = {'service': _spend(env, service), 'model': _spend(env, model), 'all': _spend(env, everything),
              'today': _spend(env, today)}
    assert all(s > 0 for s in spends.values()), spends
    budgets = [
        # budget_id, scope, scope_value, period, amount, expected state, where, period bounds
        ('svc-warning', 'service', 'librechat', 'month', spends['service'] / 0.9, 'warning', service),
        ('model-exceeded', 'model', model_family, 'month', spends['model'] / 1.2, 'exceeded', model),
        # Half spent after 8.6 of 31 days: both forecasts run over.
        ('all-forecast', 'all', '', 'month', spends['all'] / 0.5, 'forecast_over', everything),
        ('all-ok', 'all', '', 'month', spends['all'] * 100, 'ok', everything),
        ('day-ok', 'all', '', 'day', spends['today'] * 100, 'ok', today),
    ]
    execute(env, 'truncate table llm.budgets')
    values = ', '.join(f"('{b[0]}', '{b[1]}', '{b[2]}', '{b[3]}', {b[4]!r}, 0.8, 1.0, 'test')" for b in budgets)
    execute(env, f'insert into llm.budgets select * from values({values})')
    dbt('run', '-s', 'fct_budget_status', '--vars', json.dumps({'budget_as_of': f'{AS_OF:%Y-%m-%d %H:%M:%S}'}),
        env_extra=env, check=True)
    rows = {r['budget_id']: r for r in q(env, 'select * from llm.fct_budget_status')}
    assert set(rows) == {b[0] for b in budgets}
    for budget_id, _, _, period, amount, state, where in budgets:
        row = rows[budget_id]
        assert row['threshold_state'] == state, row
        period_start, period_end = ((month_start, month_end) if period == 'month'
                                    else (AS_OF.date(), AS_OF.date() + timedelta(days=1)))
        assert (row['period_start'], row['period_end']) == (str(period_start), str(period_end))
        spend = _spend(env, where)
        assert row['spend_usd'] == pytest.approx(spend, rel=1e-9)
        assert row['utilisation'] == pytest.approx(spend / amount, rel=1e-9)
        linear, weekday = _expected_forecasts(env, where.split(' and call_date')[0] if period == 'month' else '1',
                                              spend, period_start, period_end)
        assert row['forecast_linear_usd'] == pytest.approx(linear, rel=1e-9), budget_id
        assert row['forecast_weekday_usd'] == pytest.approx(weekday, rel=1e-9), budget_id


@pytest.mark.parametrize('as_of', [
    date(2026, 3, 9),                                      # a minute after the day's first call
    datetime(2026, 3, 6, 14, 0, tzinfo=timezone.utc),      # on an hour boundary
    datetime(2026, 3, 10, 23, 59, 59, tzinfo=timezone.utc),
], ids=['day-start', 'hour-boundary', 'day-end'])
def test_budget_spend_around_period_and_hour_boundaries(warehouse, as_of):
    """Spend, calls and forecasts of day and month budgets of every kind of
    scope (the rollup's and a user's, which only the calls have) as of times
    around the boundaries of hours, days and the forecast window."""
    env = warehouse
    if not isinstance(as_of, datetime):
        first = q(env, f"select toString(min(started_at)) as t from llm.fct_llm_calls where call_date = '{as_of}'")
        as_of = datetime.fromisoformat(first[0]['t'][:19]).replace(tzinfo=timezone.utc) + timedelta(minutes=1)
    user = q(env, "select user_id from llm.fct_llm_calls where user_id is not null and call_date <= "
                  f"'{as_of.date()}' group by user_id order by count() desc, user_id limit 1")[0]['user_id']
    model_family = q(env, "select model_family from llm.fct_llm_calls where model_family is not null "
                          "group by model_family order by count() desc limit 1")[0]['model_family']
    scopes = [('all', '', '1'), ('service', 'librechat', "service_name = 'librechat'"),
              ('model', model_family, f"model_family = '{model_family}'"), ('user', user, f"user_id = '{user}'")]
    budgets = [(f'{scope}-{period}', scope, value, period, where)
               for scope, value, where in scopes for period in ('month', 'day')]
    execute(env, 'truncate table llm.budgets')
    values = ', '.join(f"('{b[0]}', '{b[1]}', '{b[2]}', '{b[3]}', 1000.0, 0.8, 1.0, 'test')" for b in budgets)
    execute(env, f'insert into llm.budgets select * from values({values})')
    dbt('run', '-s', 'fct_budget_status', '--vars', json.dumps({'budget_as_of': f'{as_of:%Y-%m-%d %H:%M:%S}'}),
        env_extra=env, check=True)
    rows = {r['budget_id']: r for r in q(env, 'select * from llm.fct_budget_status')}
    assert set(rows) == {b[0] for b in budgets}
    for budget_id, _, _, period, where in budgets:
        row = rows[budget_id]
        period_start, period_end = ((date(2026, 3, 1), date(2026, 4, 1)) if period == 'month'
                                    else (as_of.date(), as_of.date() + timedelta(days=1)))
        in_period = f"{where} and call_date >= '{period_start}'"
        spend = _spend(env, in_period, as_of)
        counts = q(env, f"select count() as calls, countIf(not is_priced and not is_error) as unpriced "
                        f"from llm.fct_llm_calls where started_at <= toDateTime64('{as_of:%Y-%m-%d %H:%M:%S}', 9, "
                        f"'UTC') and {in_period}")[0]
        assert (row['calls'], row['unpriced_calls']) == (counts['calls'], counts['unpriced']), budget_id
        assert row['spend_usd'] == pytest.approx(spend, rel=1e-9, abs=1e-12), budget_id
        linear, weekday = _expected_forecasts(env, where, spend, period_start, period_end, as_of)
        assert row['forecast_linear_usd'] == pytest.approx(linear, rel=1e-9, abs=1e-12), budget_id
        assert row['forecast_weekday_usd'] == pytest.approx(weekday, rel=1e-9, abs=1e-12), budget_id
    assert any(rows[f'{scope}-day']['calls'] > 0 for scope, _, _ in scopes)


def _durations_by_bucket(env):
    """(granularity, dimension, value, bucket start) -> the duration_ms of its calls, from fct_llm_calls."""
    calls = q(env, 'select toString(started_at) as started, duration_ms, model_family, '
                   'toString(service_name) as service from llm.fct_llm_calls')
    groups = {}
    for c in calls:
        day, hour = c['started'][:10] + ' 00:00:00', c['started'][:13] + ':00:00'
        for dimension, value in (('model', c['model_family']), ('service', c['service'])):
            if value:
                for granularity, bucket in (('day', day), ('hour', hour)):
                    groups.setdefault((granularity, dimension, value, bucket), []).append(c['duration_ms'])
    return groups


def test_latency_buckets_are_the_exact_medians_of_the_calls(warehouse):
    """fct_latency_buckets (the latency series of the anomalies) against medians computed here from the calls."""
    from statistics import median
    groups = _durations_by_bucket(warehouse)
    rows = q(warehouse, 'select granularity, dimension, dimension_value, toString(bucket_start) as bucket, calls, '
                        'duration_ms_p50 from llm.fct_latency_buckets')
    got = {(r['granularity'], r['dimension'], r['dimension_value'], r['bucket']): r for r in rows}
    assert sorted(got) == sorted(groups)
    for key, durations in groups.items():
        known = [d for d in durations if d is not None]
        assert got[key]['calls'] == len(durations), key
        assert got[key]['duration_ms_p50'] == (pytest.approx(median(known), rel=1e-12) if known else None), key


def test_latency_histograms_count_each_call_under_its_bucket_bound(warehouse):
    """Each bucket's histogram holds every call with a duration once, under the one bound with bound / growth < d <= bound."""
    from bisect import bisect_left
    from collections import Counter
    growth = float(project_var('latency_histogram_growth'))
    rows = q(warehouse, 'select granularity, dimension, dimension_value, toString(bucket_start) as bucket, '
                        'mapKeys(duration_ms_histogram) as bounds, mapValues(duration_ms_histogram) as counts '
                        'from llm.fct_latency_buckets')
    got = {(r['granularity'], r['dimension'], r['dimension_value'], r['bucket']):
           dict(zip(map(float, r['bounds']), map(int, r['counts']))) for r in rows}
    expected = {key: Counter() for key in got}
    for key, durations in _durations_by_bucket(warehouse).items():
        bounds = sorted(got[key])
        for d in durations:
            if d is None:
                continue
            # The smallest bound at or above d (a relative 1e-12 for float rounding at the edges).
            bound = bounds[bisect_left(bounds, d * (1 - 1e-12))]
            assert (bound == 0) == (d == 0), (key, d, bound)
            assert d == 0 or bound / growth < d * (1 + 1e-12), (key, d, bound)
            expected[key][bound] += 1
    assert sum(map(len, expected.values())) > 100
    assert got == {key: dict(counts) for key, counts in expected.items()}


# ------------------------------------------------------------------ planted anomalies

def _new_id(column, length):
    return f"if({column} = '', '', lower(substring(hex(MD5(concat('planted', {column}))), 1, {length})))"


@pytest.fixture(scope='module')
def planted(warehouse):
    env = warehouse
    hour_start = f"toDateTime64('{SPIKE_DAY} {SPIKE_HOUR:02d}:00:00', 9, 'UTC')"
    # Every call the service ever made again, with new ids, squeezed into one hour.
    execute(env, f"""
        insert into otel.otel_traces
        select * replace (
            {hour_start} + toIntervalNanosecond(
                intDiv(dateDiff('microsecond', toStartOfDay(Timestamp), Timestamp), 24) * 1000
            ) as Timestamp,
            {_new_id('TraceId', 32)} as TraceId,
            {_new_id('SpanId', 16)} as SpanId,
            {_new_id('ParentSpanId', 16)} as ParentSpanId
        )
        from otel.otel_traces
        where ServiceName = '{SPIKE_SERVICE}'
    """)
    execute(env, f"alter table otel.otel_traces update Duration = Duration * 5 "
                 f"where ServiceName = '{SLOW_SERVICE}' and toDate(Timestamp) = '{SLOW_DAY}' "
                 f"settings mutations_sync = 2")
    execute(env, f"alter table otel.otel_traces update StatusCode = 'Error', StatusMessage = 'planted' "
                 f"where ServiceName = '{ERROR_SERVICE}' and toDate(Timestamp) = '{ERROR_DAY}' "
                 f"settings mutations_sync = 2")
    dbt('build', '--full-refresh', env_extra=env, check=True)
    return env


def test_every_planted_anomaly_is_found(planted):
    rows = q(planted, "select granularity, dimension, dimension_value, metric, toString(bucket_start) as bucket, "
                      "metric_value, baseline_median, baseline_mad, robust_z, deviation "
                      "from llm.fct_usage_anomalies")
    found = {(r['granularity'], r['dimension'], r['dimension_value'], r['metric'], r['bucket']) for r in rows}
    expected = {
        ('hour', 'service', SPIKE_SERVICE, 'cost_usd', f'{SPIKE_DAY} {SPIKE_HOUR:02d}:00:00'),
        ('hour', 'service', SPIKE_SERVICE, 'total_tokens', f'{SPIKE_DAY} {SPIKE_HOUR:02d}:00:00'),
        ('day', 'service', SPIKE_SERVICE, 'cost_usd', f'{SPIKE_DAY} 00:00:00'),
        ('day', 'service', SPIKE_SERVICE, 'total_tokens', f'{SPIKE_DAY} 00:00:00'),
        ('day', 'service', SLOW_SERVICE, 'duration_ms_p50', f'{SLOW_DAY} 00:00:00'),
        ('day', 'service', ERROR_SERVICE, 'error_rate', f'{ERROR_DAY} 00:00:00'),
    }
    assert expected <= found, (expected - found, rows)
    for r in rows:
        assert r['deviation'] == pytest.approx(r['metric_value'] - r['baseline_median'])
        if r['baseline_mad'] > 0:
            assert r['robust_z'] == pytest.approx(r['deviation'] / (1.4826 * r['baseline_mad']))


def test_no_anomaly_is_invented_beside_the_planted_ones(planted):
    """Every anomaly is on a planted day, of a planted service or a model those services call."""
    planted_days = {SPIKE_DAY: SPIKE_SERVICE, SLOW_DAY: SLOW_SERVICE, ERROR_DAY: ERROR_SERVICE}
    models = {r['service_name']: set(r['models']) for r in q(
        planted, 'select service_name, groupUniqArray(model_family) as models from llm.fct_llm_calls '
                 'group by service_name')}
    for r in q(planted, 'select dimension, dimension_value, toString(bucket_date) as day from llm.fct_usage_anomalies'):
        service = planted_days.get(date.fromisoformat(r['day']))
        assert service is not None, r
        allowed = {service} if r['dimension'] == 'service' else models[service]
        assert r['dimension_value'] in allowed, r


# ------------------------------------------------------------------ alert rules

def test_every_alert_rule_query_runs_on_the_warehouse(planted):
    """Each rule's SQL, macros expanded for an evaluation at the end of the data, runs and gives
    rows of string labels and one numeric value (what Grafana turns into alert instances)."""
    from test_alert_rules import clickhouse_queries, expanded

    now = datetime.combine(START + timedelta(days=DAYS), datetime.min.time(), timezone.utc)
    rows_by_rule = {}
    for uid, _, time_range, sql in clickhouse_queries():
        rows = q(planted, expanded(sql, time_range, now))
        for row in rows:
            numeric = [k for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
            assert len(numeric) == 1, (uid, row)
            assert all(isinstance(v, str) for k, v in row.items() if k not in numeric), (uid, row)
        rows_by_rule[uid] = rows
    # The planted spikes of the last day fire the anomaly rule; the seeded budgets are all there.
    assert any(r['dimension_value'] == ERROR_SERVICE for r in rows_by_rule['llm-usage-anomaly'])
    assert len(rows_by_rule['llm-budget-threshold']) == len(q(planted, 'select budget_id from llm.budgets'))
    assert {r['source_table'] for r in rows_by_rule['llm-ingestion-stopped']} == {
        'otel_traces', 'otel_logs', 'otel_metrics_histogram'}
