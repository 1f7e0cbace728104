"""A plain-Python oracle for fct_usage_hourly: the call rows of fct_llm_calls summed per hour.

Written from the mart's documentation, not from its SQL: a row per UTC hour of
the call's start, service, provider and model family (unknown provider or
family as ''), token and cost sums NULL when no call of the row has one,
failed calls left out of calls_without_usage, unpriced_successful_calls and
cost_complete.
"""

from datetime import datetime, timezone

import pytest

from conftest import sql_rows as q

HOUR_NS = 3600 * 10**9
SUMMED = ('input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens',
          'total_tokens', 'cost_usd')
COLUMNS = ('call_date', 'calls', 'error_calls', *SUMMED, 'unpriced_calls', 'unpriced_successful_calls',
           'calls_without_usage', 'cost_complete')


def _sum(values):
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def expected_hourly(calls: list) -> dict:
    """(call_hour as unix seconds, service, provider, family) -> the row the mart should hold."""
    groups = {}
    for c in calls:
        hour = c['started_ns'] // HOUR_NS * 3600
        key = (hour, c['service_name'], c['provider'] or '', c['model_family'] or '')
        groups.setdefault(key, []).append(c)
    rows = {}
    for key, group in groups.items():
        ok = [c for c in group if not c['is_error']]
        rows[key] = {
            'call_date': datetime.fromtimestamp(key[0], timezone.utc).date().isoformat(),
            'calls': len(group),
            'error_calls': len(group) - len(ok),
            **{column: _sum(c[column] for c in group) for column in SUMMED},
            'unpriced_calls': sum(1 for c in group if not c['is_priced']),
            'unpriced_successful_calls': sum(1 for c in ok if not c['is_priced']),
            'calls_without_usage': sum(1 for c in ok if c['usage_source'] == 'none'),
            'cost_complete': all(c['is_priced'] for c in ok),
        }
    return rows


def assert_hourly_equals_calls(env) -> dict:
    """Every fct_usage_hourly row equals the oracle over fct_llm_calls, and no row is missing or extra."""
    calls = q(env, 'select toUnixTimestamp64Nano(started_at) as started_ns, service_name, provider, model_family, '
                   'is_error, is_priced, usage_source, ' + ', '.join(SUMMED) + ' from llm.fct_llm_calls')
    expected = expected_hourly(calls)
    got = {}
    for r in q(env, 'select *, toUnixTimestamp(call_hour) as hour from llm.fct_usage_hourly'):
        key = (r['hour'], r['service_name'], r['provider'], r['model_family'])
        assert key not in got, ('duplicate key', r)
        got[key] = {k: r[k] for k in COLUMNS}
    assert set(got) == set(expected)
    for key, row in expected.items():
        want = {k: pytest.approx(v, rel=1e-9) if k == 'cost_usd' and v is not None else v for k, v in row.items()}
        got[key]['cost_complete'] = bool(got[key]['cost_complete'])
        assert got[key] == want, key
    return expected
