"""Grafana dashboards and the analyst cookbook on a generated, built warehouse.

The dashboards are code (dashboards/build.py, grafana-foundation-sdk); the
committed JSON must be what the code generates. Every panel query is expanded
the way the ClickHouse plugin does (dashboards/plugin_macros.py), must read the
marts only, and must return rows for the last 7 days of generated data; every
queries/*.sql must run unchanged, as `llmwh sql` runs it, and return rows.
"""

import json
import math
import re
import sys
from datetime import datetime, timezone

import pytest
import yaml

from conftest import BIN, ROOT, dbt, llmwh, project_var, run, sql_rows, warehouse_env

sys.path.insert(0, str(ROOT))

from dashboards import build, plugin_macros  # noqa: E402
from dashboards.plugin_macros import ALL, Variable  # noqa: E402
from dashboards.run_queries import load_dashboards, panel_queries, variable_models  # noqa: E402

MARTS = {'fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily', 'fct_usage_hourly', 'dim_models'}
QUERIES = ROOT / 'queries'
TABLE_REFERENCE = re.compile(r'\b(?:from|join)\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)', re.IGNORECASE)


def dashboard_sql():
    """(dashboard uid, what, sql) of every panel target and variable query."""
    for d in load_dashboards():
        for panel, target in panel_queries(d):
            yield d['uid'], panel['title'], target['rawSql']
        for v in variable_models(d):
            if v['type'] == 'query':
                yield d['uid'], f'variable {v["name"]}', v['query']


# ------------------------------------------------------------------ generated JSON

def test_committed_dashboards_equal_the_generated_json():
    assert build.stale_files() == [], 'run `make dashboards` and commit dashboards/grafana/json/'


def test_make_dashboards_writes_the_same_json_twice():
    first = build.build()
    assert first == build.build()
    assert sorted(first) == ['llm-cost.json', 'llm-reconciliation.json', 'llm-tools-conversations.json',
                             'llm-usage-latency.json']


# ------------------------------------------------------------------ panels read marts only

def test_panel_and_variable_queries_read_marts_only():
    from llmwh.config import otel_database

    raw_prefix = otel_database() + '.'
    for uid, what, sql in dashboard_sql():
        assert raw_prefix not in sql.lower(), f'{uid} / {what} reads a raw table'
        assert 'llm_staging' not in sql and 'llm_intermediate' not in sql, f'{uid} / {what}'
        tables = TABLE_REFERENCE.findall(sql)
        assert tables, f'{uid} / {what} reads no table'
        for table in tables:
            database, _, name = table.rpartition('.')
            assert database == 'llm' and name in MARTS, f'{uid} / {what} reads {table}'


def test_every_panel_is_bound_to_the_time_range_and_the_filters():
    time_macros = ('$__dateTimeFilter(', '$__dateFilter(', '$__timeFilter(', '$__fromTime')
    for d in load_dashboards():
        names = {v['name']: v for v in variable_models(d)}
        for name in ('provider', 'model', 'service'):
            assert names[name]['multi'] and names[name]['includeAll'], (d['uid'], name)
            assert names[name]['current']['value'] == [ALL]
        assert names['datasource']['query'] == 'grafana-clickhouse-datasource'
        for panel, target in panel_queries(d):
            sql = target['rawSql']
            assert any(m in sql for m in time_macros), (d['uid'], panel['title'])
            assert '$__conditionalAll(' in sql, (d['uid'], panel['title'])
            assert target['datasource'] == {'type': 'grafana-clickhouse-datasource', 'uid': '${datasource}'}
            assert target['editorType'] == 'sql' and target['queryType'] in ('table', 'timeSeries')


def test_the_four_dashboards_have_the_panels_the_issue_asks_for():
    titles = {d['uid']: {p['title'] for p, _ in panel_queries(d)} for d in load_dashboards()}
    assert {'Spend by day and model', 'Spend by service', 'Top users', 'Unpriced share of calls',
            'Calls without usage', 'Cost per conversation and per trace, by day'} <= titles['llm-cost']
    assert {'Calls by model', 'Output tokens per second by model', 'Latency and time to first token by model',
            'Error rate by error type', 'Cache-hit share of input tokens'} <= titles['llm-usage-latency']
    assert {'Status by day and model', 'Span vs app-log vs metric vs billed input tokens, by day',
            'Implied sampling ratio by model', 'Calls of the model-day',
            'Traces of the model-day'} <= titles['llm-reconciliation']
    assert {'Tool calls', 'Slowest tool calls, by trace', 'LLM time vs tool time per trace',
            'Most expensive conversations', 'Traces of the conversation'} <= titles['llm-tools-conversations']


def test_provisioning_files_parse_and_point_at_the_plugin_and_the_json():
    grafana = ROOT / 'dashboards' / 'grafana' / 'provisioning'
    ds = yaml.safe_load((grafana / 'datasources' / 'clickhouse.yaml').read_text())['datasources'][0]
    assert ds['type'] == 'grafana-clickhouse-datasource'
    assert {ds['jsonData'][k] for k in ('host', 'port', 'protocol', 'username')} == {
        '$CLICKHOUSE_HOST', '$CLICKHOUSE_PORT', '$CLICKHOUSE_PROTOCOL', '$CLICKHOUSE_USER'}
    assert ds['secureJsonData']['password'] == '$CLICKHOUSE_PASSWORD'
    provider = yaml.safe_load((grafana / 'dashboards' / 'llm-otel-warehouse.yaml').read_text())['providers'][0]
    assert provider['type'] == 'file' and provider['options']['path'].endswith('llm-otel-warehouse')


# ------------------------------------------------------------------ the plugin's macros

FROM = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
TO = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_conditional_all_is_one_equals_one_for_all_and_the_condition_otherwise():
    sql = "where $__conditionalAll(p IN (${p:singlequote}), $p) and $__conditionalAll(coalesce(m, '') IN ($m), ${m})"
    all_selected = {'p': Variable('p', [ALL], ['a', 'b']), 'm': Variable('m', [ALL], ['x'])}
    assert plugin_macros.apply_conditional_all(sql, all_selected) == 'where 1=1 and 1=1'
    some = {'p': Variable('p', ['a', 'b'], ['a', 'b', 'c']), 'm': Variable('m', '', [])}
    assert plugin_macros.apply_conditional_all(sql, some) == "where p IN (${p:singlequote}) and 1=1"


def test_variables_format_like_grafana():
    variables = {'p': Variable('p', ["o'ai", 'b'], []), 't': Variable('t', ''), 'all': Variable('all', [ALL], ['x', 'y'])}
    assert plugin_macros.replace_variables('(${p:singlequote}) ${t:singlequote} ($all)', variables) == \
        "('o\\'ai','b') '' ('x','y')"
    assert plugin_macros.replace_variables('$__timeFilter(t) $unknown', variables) == '$__timeFilter(t) $unknown'


def test_backend_macros_expand_as_the_plugin_does():
    expand = plugin_macros.expand_backend_macros
    assert expand('$__timeFilter(ts)', FROM, TO, 3600000) == \
        f'ts >= toDateTime({int(FROM.timestamp())}) AND ts <= toDateTime({int(TO.timestamp())})'
    assert expand('$__dateTimeFilter(d, ts)', FROM, TO, 1000) == (
        "(d >= toDate('2026-11-24') AND d <= toDate('2026-12-01')) AND "
        f'(ts >= toDateTime({int(FROM.timestamp())}) AND ts <= toDateTime({int(TO.timestamp())}))')
    assert expand('$__timeInterval(started_at)', FROM, TO, 3600000) == \
        'toStartOfInterval(toDateTime(started_at), INTERVAL 3600 second)'
    assert expand('$__fromTime_ms $__toTime $__interval_s', FROM, TO, 600000) == \
        f'fromUnixTimestamp64Milli({int(FROM.timestamp() * 1000)}) toDateTime({int(TO.timestamp())}) 600'
    with pytest.raises(ValueError):
        expand('$__nope(x)', FROM, TO, 1000)


def test_interval_follows_the_range_and_the_panel_minimum():
    assert plugin_macros.interval_ms(FROM, TO) == 600000               # 7 days / 1000 points -> 10m
    assert plugin_macros.interval_ms(FROM, TO, min_interval='1h') == 3600000


# ------------------------------------------------------------------ the cookbook, statically

def _cte_names(sql):
    return set(re.findall(r'(?:^|,|with)\s*(\w+)\s+as\s*\(', sql, re.IGNORECASE | re.MULTILINE))


def test_cookbook_files_are_one_commented_qualified_statement():
    files = sorted(QUERIES.glob('*.sql'))
    assert {p.stem for p in files} >= {
        'token_verification', 'cost_by_user_team_key', 'most_expensive_conversations', 'slowest_mcp_tools',
        'cache_savings', 'price_change_impact', 'reconciliation_drilldown'}
    for path in files:
        sql = path.read_text()
        assert sql.startswith('-- '), f'{path.name}: starts with a comment saying what it answers'
        body = re.sub(r'--[^\n]*', '', sql).strip()
        assert body.endswith(';') and body.count(';') == 1, f'{path.name}: one statement, ending with ;'
        assert not re.search(r'\{\s*\w+\s*:\s*[A-Z]\w*', body), f'{path.name}: no client-side {{name:Type}} parameters'
        ctes = _cte_names(body)
        for table in TABLE_REFERENCE.findall(body):
            assert '.' in table or table in ctes, f'{path.name}: {table} is neither qualified nor a CTE'


# ------------------------------------------------------------------ on a generated warehouse

@pytest.fixture(scope='module')
def results(tmp_path_factory, profiles_dir):
    """Every panel (three passes) and cookbook query, run once in one child process."""
    tmp = tmp_path_factory.mktemp('dashboards')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(out), '--days', '7', '--seed', '42', check=True)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    for provider, name in (('openai', 'openai_usage_completions.jsonl'), ('anthropic', 'anthropic_usage_messages.jsonl')):
        llmwh('load', 'usage', '--provider', provider, str(out / 'billing' / name), env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    proc = run([str(BIN / 'python'), '-m', 'dashboards.run_queries', '--repeat', '1', '--json',
                '--cookbook', str(QUERIES)], env_extra=env, check=True)
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    return env, records


def _label(r):
    return f"{r['pass']} {r['dashboard']} / {r['panel']}"


def test_no_query_fails(results):
    _, records = results
    assert [(_label(r), r['error']) for r in records if 'error' in r] == []


def test_every_panel_returns_rows_for_the_last_7_days(results):
    _, records = results
    default = [r for r in records if r['pass'] == 'default']
    assert len(default) == sum(1 for d in load_dashboards() for _ in panel_queries(d))
    assert [_label(r) for r in default if r['rows'] == 0 or r['non_null_values'] == 0] == []


def test_a_non_all_selection_runs_the_filtered_branch(results):
    _, records = results
    selected = [r for r in records if r['pass'] == 'selected']
    assert selected and all(r['variables']['provider'] != [ALL] for r in selected)
    assert all(" IN ('" in r['sql'] for r in selected)
    assert sum(r['rows'] > 0 for r in selected) > len(selected) / 2


def test_drill_down_links_lead_to_rows(results):
    _, records = results
    links = [r for r in records if r['pass'].startswith('link:')]
    followed = {r['pass'] for r in links}
    assert {'link:Status by day and model.day', 'link:Most expensive conversations.conversation_id',
            'link:Traces of the conversation.trace_id'} <= followed
    targets = {'Calls of the model-day', 'Traces of the model-day', 'Traces of the conversation', 'Calls of the trace'}
    assert [_label(r) for r in links if r['panel'] in targets and r['rows'] == 0] == []
    drilled = next(r for r in links if r['pass'] == 'link:Status by day and model.day'
                   and r['panel'] == 'Calls of the model-day')
    assert drilled['variables']['drill_day'] and "call_date = toDateOrNull('" in drilled['sql']


def test_every_cookbook_query_returns_rows(results):
    _, records = results
    cookbook = {r['panel']: r for r in records if r['pass'] == 'cookbook'}
    assert set(cookbook) == {p.name for p in QUERIES.glob('*.sql')}
    assert [name for name, r in cookbook.items() if r['rows'] == 0] == []


def test_token_verification_agrees_with_the_marts(results):
    """LibreChat's logged prompt tokens, structured form included, equal what the marts hold."""
    env, _ = results
    text = (QUERIES / 'token_verification.sql').read_text()
    proc = llmwh('sql', '--format', 'json', '--', text, env_extra=env, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows and any(r['structured_records'] for r in rows)
    assert {r['level'] for r in rows} == {'conversation', 'trace'}
    assert all(r['prompt_diff_vs_mart'] == 0 for r in rows if r['mart_app_prompt_tokens'] is not None)


def test_latency_percentiles_from_histograms_bound_the_exact_ones(results):
    """The cookbook's percentiles from fct_latency_buckets' histograms against every call's duration:
    each is a duration bound that reaches the nearest rank, and the bound below it does not."""
    env, _ = results
    growth = float(project_var('latency_histogram_growth'))
    text = (QUERIES / 'latency_percentiles_by_model.sql').read_text()
    proc = llmwh('sql', '--format', 'json', '--', text, env_extra=env, check=True)
    got = {r['model_family']: r for r in map(json.loads, proc.stdout.splitlines())}
    calls = sql_rows(env, 'select model_family, duration_ms from llm.fct_llm_calls '
                          'where call_date >= today() - 6 and model_family is not null')
    durations = {}
    for c in calls:
        durations.setdefault(c['model_family'], []).append(c['duration_ms'])
    assert set(got) == set(durations) and len(got) > 3
    for model, values in durations.items():
        known = [d for d in values if d is not None]
        assert got[model]['calls'] == len(values), model
        for column, level in (('p50_ms', 0.5), ('p95_ms', 0.95), ('p99_ms', 0.99)):
            p = got[model][column]
            if not known:
                assert p is None, (model, column)
                continue
            rank = math.ceil(level * len(known))
            assert sum(d <= p * (1 + 1e-12) for d in known) >= rank, (model, column, p)
            assert sum(d <= p / growth * (1 - 1e-12) for d in known) < rank, (model, column, p)


def test_the_benchmark_reports_a_latency_per_panel(results):
    _, records = results
    assert all(isinstance(r['median_ms'], float) and r['median_ms'] > 0 for r in records if 'error' not in r)


# The two hourly panels as they read fct_llm_calls before the rollup: per-call truth for the buckets.
OVER_CALLS = {
    'Calls by model': """
SELECT $__timeInterval(started_at) AS time, coalesce(model_family, '') AS model, count() AS calls
FROM llm.fct_llm_calls
WHERE $__dateTimeFilter(call_date, started_at)
GROUP BY time, model""",
    'Tokens by kind': """
SELECT
    $__timeInterval(started_at) AS time,
    sum(input_tokens) - sum(coalesce(cache_read_tokens, 0)) - sum(coalesce(cache_write_tokens, 0))
        AS uncached_input,
    sum(cache_read_tokens) AS cache_read,
    sum(cache_write_tokens) AS cache_write,
    sum(output_tokens) AS output
FROM llm.fct_llm_calls
WHERE $__dateTimeFilter(call_date, started_at)
GROUP BY time""",
}


@pytest.mark.parametrize('interval_hours', [1, 3])
@pytest.mark.parametrize('title', list(OVER_CALLS))
def test_hourly_panels_equal_the_same_panels_over_the_calls(results, title, interval_hours):
    """A panel on fct_usage_hourly draws the buckets the calls give, hour by hour or wider."""
    env, _ = results
    dashboard = next(d for d in load_dashboards() if d['uid'] == 'llm-usage-latency')
    sql = next(t['rawSql'] for p, t in panel_queries(dashboard) if p['title'] == title)
    assert 'fct_usage_hourly' in sql
    span = sql_rows(env, 'select toUnixTimestamp(min(started_at)) as first, '
                         'toUnixTimestamp(max(started_at)) as last from llm.fct_llm_calls')[0]
    # Whole hours around all of the data: both sides see every call.
    time_from = datetime.fromtimestamp(span['first'] // 3600 * 3600 - 3600, timezone.utc)
    time_to = datetime.fromtimestamp(span['last'] // 3600 * 3600 + 3600 - 1, timezone.utc)
    variables = {name: Variable(name, [ALL], []) for name in ('provider', 'model', 'service')}

    def buckets(text):
        expanded = plugin_macros.expand(text, variables, time_from, time_to, interval_hours * 3600 * 1000)
        return sql_rows(env, f'select toUnixTimestamp(time) as t, * except time from ({expanded}) order by all')

    hourly = buckets(sql)
    assert len(hourly) > 24 // interval_hours
    assert hourly == buckets(OVER_CALLS[title])


# ------------------------------------------------------------------ unknown call times

# (trace, duration_ms, llm_time_ms, tool_time_ms, tool_calls): NULL where no call of its kind in the
# trace has a duration.
TIMED_TRACES = [('t-known', 1000.0, 400.0, 100.0, 2), ('t-llm-unknown', 3000.0, None, 500.0, 1),
                ('t-tool-unknown', 2000.0, 300.0, None, 1)]


def _sql_value(value):
    return 'NULL' if value is None else repr(value)


def test_time_shares_and_split_leave_unknown_times_out(wh):
    """A trace whose LLM (or tool) time is unknown adds nothing to that time's sum, so its duration
    (or tool calls) stays out of the share's (or the per-call average's) denominator; the time split
    shows its rest as unknown."""
    db = 'dashboard_time_shares'
    wh.command(f'drop database if exists {db}')
    wh.command(f'create database {db}')
    wh.command(f'create table {db}.fct_traces (trace_id String, trace_date Date, started_at DateTime64(9), '
               'duration_ms Float64, llm_time_ms Nullable(Float64), tool_time_ms Nullable(Float64), '
               'tool_calls UInt64) '
               'engine = MergeTree order by trace_id')
    wh.command(f'create table {db}.fct_llm_calls (trace_id String, call_date Date, started_at DateTime64(9), '
               'provider Nullable(String), model_family Nullable(String), service_name String) '
               'engine = MergeTree order by trace_id')
    at = "'2026-11-28 10:00:00'"
    wh.command(f'insert into {db}.fct_traces values ' + ', '.join(
        f"('{t}', toDate({at}), {at}, {d!r}, {_sql_value(llm)}, {_sql_value(tool)}, {n})"
        for t, d, llm, tool, n in TIMED_TRACES))
    wh.command(f'insert into {db}.fct_llm_calls values ' + ', '.join(
        f"('{t}', toDate({at}), {at}, 'openai', 'gpt-4o', 'app')" for t, *_ in TIMED_TRACES))
    variables = {name: Variable(name, [ALL], []) for name in ('provider', 'model', 'service')}
    panels = {p['title']: t['rawSql'] for d in load_dashboards() for p, t in panel_queries(d)}

    def rows(title):
        sql = plugin_macros.expand(panels[title], variables, FROM, TO).replace(f'{build.MARTS}.', f'{db}.')
        # wh.raw, not run_queries.Runner.run: its read-only run_sql would leave this process's shared
        # engine session read-only for the tests after this one.
        return [json.loads(line) for line in wh.raw(sql, fmt='JSONEachRow').decode().splitlines()]

    known_llm = [t for t in TIMED_TRACES if t[2] is not None]
    known_tool = [t for t in TIMED_TRACES if t[3] is not None]
    assert rows('LLM share of trace time')[0]['llm_share'] == pytest.approx(
        sum(t[2] for t in known_llm) / sum(t[1] for t in known_llm))
    assert rows('Tool share of trace time')[0]['tool_share'] == pytest.approx(
        sum(t[3] for t in known_tool) / sum(t[1] for t in known_tool))
    assert rows('Tool time per tool call')[0]['ms_per_tool_call'] == pytest.approx(
        sum(t[3] for t in known_tool) / sum(t[4] for t in known_tool))
    split = rows('LLM time vs tool time')
    assert len(split) == 1
    assert split[0]['llm_ms'] == 700 and split[0]['tool_ms'] == 600
    assert split[0]['other_ms'] == 1000 - 400 - 100                       # the one trace with both known
    assert split[0]['unknown_ms'] == (3000 - 500) + (2000 - 300)
    assert sum(split[0][k] for k in ('llm_ms', 'tool_ms', 'other_ms', 'unknown_ms')) == sum(t[1] for t in TIMED_TRACES)
