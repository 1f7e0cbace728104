"""Grafana dashboards over the marts, built with grafana-foundation-sdk.

`python -m dashboards.build` writes one JSON file per dashboard into
dashboards/grafana/json/ (provisioned by dashboards/grafana/provisioning/);
`--check` only compares and exits 1 when the committed files are stale.

Every panel reads the marts in database `llm` (fct_llm_calls, fct_traces,
fct_conversations, fct_model_daily, dim_models) through the official
ClickHouse plugin (grafana-clickhouse-datasource) in SQL mode. Time ranges
and filters use the plugin's macros: `$__dateTimeFilter(date, time)` (or
`$__dateFilter(date) AND $__timeFilter(time)`) on the partitioned marts,
`$__dateFilter` on fct_model_daily, `$__fromTime` /
`$__toTime` for conversations, `$__timeInterval(col)` to bucket time series,
and `$__conditionalAll(cond, $var)` so that "All" costs nothing.
"""

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dash_b
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard

OUT_DIR = Path(__file__).resolve().parent / 'grafana' / 'json'
PLUGIN = 'grafana-clickhouse-datasource'
DATASOURCE = dashboard.DataSourceRef(type_val=PLUGIN, uid='${datasource}')
MARTS = 'llm'   # the profile schema: the marts' database
TAGS = ['llm-otel-warehouse', 'llm']


# ------------------------------------------------------------------ queries

class ClickHouseQuery(cogvariants.Dataquery):
    """A SQL-editor query of the ClickHouse plugin (v4 model: editorType, queryType, rawSql)."""

    def __init__(self, ref_id: str, sql: str, query_type: str):
        self.ref_id, self.sql, self.query_type = ref_id, sql, query_type

    def to_json(self) -> dict:
        return {
            'datasource': DATASOURCE.to_json(),
            'editorType': 'sql',
            # sqlutil's format: 0 = time series, 1 = table (older plugin versions read it).
            'format': 0 if self.query_type == 'timeSeries' else 1,
            'queryType': self.query_type,
            'rawSql': self.sql,
            'refId': self.ref_id,
        }


class Query(cogbuilder.Builder[ClickHouseQuery]):
    def __init__(self, sql: str, query_type: str = 'table', ref_id: str = 'A'):
        self._q = ClickHouseQuery(ref_id, sql.strip(), query_type)

    def build(self) -> ClickHouseQuery:
        return self._q


# Filters shared by the panels. "All" (or nothing) selected turns each into 1=1.
def call_filters(provider='provider', model='model_family', service='service_name'):
    return (f"$__conditionalAll(coalesce({provider}, '') IN (${{provider:singlequote}}), $provider)\n"
            f"  AND $__conditionalAll(coalesce({model}, '') IN (${{model:singlequote}}), $model)\n"
            f"  AND $__conditionalAll({service} IN (${{service:singlequote}}), $service)")


CALLS_WHERE = f"$__dateTimeFilter(call_date, started_at)\n  AND {call_filters()}"
# The hourly rollup: whole hours that overlap the time range (buckets are at least an hour).
HOURLY_WHERE = ("$__dateFilter(call_date) AND call_hour >= toStartOfHour($__fromTime) AND call_hour <= $__toTime\n"
                f"  AND {call_filters()}")
DAILY_WHERE = ("$__dateFilter(call_date)\n"
               "  AND $__conditionalAll(provider IN (${provider:singlequote}), $provider)\n"
               "  AND $__conditionalAll(model_family IN (${model:singlequote}), $model)")
# Traces that have a call matching the filters (the calls mart carries provider and model).
TRACES_WHERE = (f"$__dateFilter(trace_date) AND $__timeFilter(started_at)\n"
                f"  AND trace_id IN (\n"
                f"    SELECT trace_id FROM {MARTS}.fct_llm_calls\n"
                f"    WHERE $__dateTimeFilter(call_date, started_at)\n"
                f"      AND {call_filters()})")


# ------------------------------------------------------------------ variables

def datasource_variable():
    return (dash_b.DatasourceVariable('datasource').label('Data source').type(PLUGIN))


def query_variable(name, label, sql):
    return (dash_b.QueryVariable(name).label(label)
            .datasource(DATASOURCE)
            .query(sql.strip())
            .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dashboard.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True)
            .current(dashboard.VariableOption(selected=True, text=['All'], value=['$__all'])))


def textbox_variable(name, label, description):
    return (dash_b.TextBoxVariable(name).label(label).description(description).default_value(''))


def filter_variables():
    return [
        datasource_variable(),
        query_variable('provider', 'Provider', f"""
SELECT DISTINCT provider FROM {MARTS}.fct_model_daily
WHERE $__dateFilter(call_date)
ORDER BY provider"""),
        query_variable('model', 'Model', f"""
SELECT DISTINCT model_family AS model FROM {MARTS}.fct_model_daily
WHERE $__dateFilter(call_date)
  AND $__conditionalAll(provider IN (${{provider:singlequote}}), $provider)
ORDER BY model"""),
        query_variable('service', 'Service', f"""
SELECT DISTINCT service_name FROM {MARTS}.fct_llm_calls
WHERE $__dateFilter(call_date)
ORDER BY service_name"""),
    ]


# ------------------------------------------------------------------ panels

def _common(panel, title, description, sql, query_type, w, h):
    return (panel.title(title).description(description).datasource(DATASOURCE)
            .with_target(Query(sql, query_type)).span(w).height(h))


def stat_panel(title, description, sql, unit, w=4, h=4, thresholds=None, decimals=None):
    p = _common(stat.Panel(), title, description, sql, 'table', w, h).unit(unit)
    p = p.graph_mode(common.BigValueGraphMode.NONE).color_mode(common.BigValueColorMode.VALUE)
    p = p.reduce_options(common_b.ReduceDataOptions().calcs(['lastNotNull']).values(False))
    if decimals is not None:
        p = p.decimals(decimals)
    if thresholds:
        p = p.thresholds(dash_b.ThresholdsConfig().mode(dashboard.ThresholdsMode.ABSOLUTE).steps(
            [dashboard.Threshold(value=v, color=c) for v, c in thresholds]))
    return p


def series_panel(title, description, sql, unit, w=12, h=8, bars=False, stacked=False):
    p = _common(timeseries.Panel(), title, description, sql, 'timeSeries', w, h).unit(unit)
    p = p.interval('1h')   # a bucket is at least an hour: hourly data, fewer points
    if bars:
        p = p.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80).line_width(1)
    else:
        p = p.line_width(2).fill_opacity(10).show_points(common.VisibilityMode.NEVER)
    if stacked:
        p = p.stacking(common_b.StackingConfig().mode(common.StackingMode.NORMAL))
    p = p.legend(common_b.VizLegendOptions().display_mode(common.LegendDisplayMode.TABLE)
                 .placement(common.LegendPlacement.RIGHT).show_legend(True).calcs(['sum']))
    return p


def link(title, url):
    return {'title': title, 'url': url}


def table_panel(title, description, sql, w=24, h=9, units=None, links=None, colors=None):
    """A table; `units` maps column -> unit, `links` column -> [data links], `colors` column -> value colors."""
    p = _common(table.Panel(), title, description, sql, 'table', w, h)
    for column, unit in (units or {}).items():
        p = p.override_by_name(column, [dashboard.DynamicConfigValue(id_val='unit', value=unit)])
    for column, column_links in (links or {}).items():
        p = p.override_by_name(column, [dashboard.DynamicConfigValue(id_val='links', value=column_links)])
    for column, value_colors in (colors or {}).items():
        mapping = {'type': 'value', 'options': {
            value: {'color': color, 'index': i} for i, (value, color) in enumerate(value_colors.items())}}
        p = p.override_by_name(column, [
            dashboard.DynamicConfigValue(id_val='mappings', value=[mapping]),
            dashboard.DynamicConfigValue(id_val='custom.cellOptions', value={'type': 'color-background'}),
        ])
    return p


def row(title):
    return dash_b.Row(title)


def build_dashboard(uid, title, description, variables, items):
    d = (dash_b.Dashboard(title).uid(uid).description(description).tags(TAGS)
         .editable().timezone('utc').time('now-7d', 'now').refresh('5m')
         .tooltip(dashboard.DashboardCursorSync.CROSSHAIR))
    for v in variables:
        d = d.with_variable(v)
    for link_title, link_uid in DASHBOARDS_NAV:
        if link_uid != uid:
            d = d.link(dash_b.DashboardLink(link_title).type(dashboard.DashboardLinkType.LINK)
                       .url(f'/d/{link_uid}').keep_time(True).include_vars(True).icon('dashboard'))
    panel_id = 0
    for item in items:
        panel_id += 1
        if isinstance(item, dash_b.Row):
            d = d.with_row(item.id(panel_id))
        else:
            d = d.with_panel(item.id(panel_id))
    return d.build()


DASHBOARDS_NAV = [
    ('LLM cost', 'llm-cost'),
    ('LLM usage and latency', 'llm-usage-latency'),
    ('LLM reconciliation', 'llm-reconciliation'),
    ('LLM tools and conversations', 'llm-tools-conversations'),
]

# Query parameters that carry the filters over to another dashboard.
KEEP = '${__url_time_range}&${datasource:queryparam}&${provider:queryparam}&${model:queryparam}&${service:queryparam}'
TRACE_LINK = link('Calls of this trace',
                  '/d/llm-tools-conversations/llm-tools-and-conversations?' + KEEP
                  + '&var-trace_id=${__data.fields.trace_id}')
STATUS_COLORS = {'match': 'green', 'within_tolerance': 'green', 'sampled': 'blue',
                 'mismatch': 'red', 'missing_usage': 'orange', 'no_counterpart': 'yellow'}


# ------------------------------------------------------------------ LLM cost

def cost_dashboard():
    m = MARTS
    items = [
        row('Spend, and how much of it is known'),
        stat_panel('Spend (priced calls)', 'Sum of cost_usd over priced calls. A partial total whenever '
                   'the unpriced share or the calls without usage (next panels) are above zero.', f"""
SELECT sum(cost_usd) AS spend_usd
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'currencyUSD', decimals=2),
        stat_panel('Unpriced share of calls', 'Calls with cost_usd NULL (no matching price or unknown '
                   'usage): their cost is missing from every spend total on this dashboard.', f"""
SELECT countIf(NOT is_priced) / count() AS unpriced_share
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'percentunit', thresholds=[(None, 'green'), (0.000001, 'orange'), (0.05, 'red')]),
        stat_panel('Calls without usage', 'Calls whose token counts are unknown (usage_source none, '
                   'or neither input nor output tokens reported): streams without usage and the like.', f"""
SELECT countIf(usage_source = 'none' OR (input_tokens IS NULL AND output_tokens IS NULL)) AS calls_without_usage
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'short', thresholds=[(None, 'green'), (1, 'orange')]),
        stat_panel('Cost per trace', 'Priced spend over the traces with a matching call.', f"""
SELECT sum(cost_usd) / uniqExact(trace_id) AS cost_per_trace
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'currencyUSD', decimals=4),
        stat_panel('Cost per conversation', 'Priced spend of calls that belong to a conversation, over '
                   'those conversations.', f"""
SELECT sumIf(cost_usd, conversation_id IS NOT NULL) / uniqExact(conversation_id) AS cost_per_conversation
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'currencyUSD', decimals=4),
        stat_panel('Priced calls', 'Calls with a known cost, out of all calls in range.', f"""
SELECT countIf(is_priced) AS priced_calls
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'short'),
        row('Spend over time'),
        series_panel('Spend by day and model', 'Daily spend per model family (priced calls only).', f"""
SELECT toDateTime(call_date) AS time, coalesce(model_family, '') AS model, sum(cost_usd) AS spend
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, model
ORDER BY time""", 'currencyUSD', bars=True, stacked=True),
        series_panel('Spend by provider', 'Spend per provider in Grafana-sized time buckets.', f"""
SELECT $__timeInterval(started_at) AS time, coalesce(provider, '') AS provider, sum(cost_usd) AS spend
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, provider
ORDER BY time""", 'currencyUSD', stacked=True),
        series_panel('Spend by service', 'Daily spend per calling service.', f"""
SELECT toDateTime(call_date) AS time, service_name AS service, sum(cost_usd) AS spend
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, service
ORDER BY time""", 'currencyUSD', bars=True, stacked=True),
        table_panel('Cost per conversation and per trace, by day', 'Traces and conversations with a '
                    'matching call, their priced spend and the averages.', f"""
SELECT
    call_date AS day,
    uniqExact(trace_id) AS traces,
    uniqExact(conversation_id) AS conversations,
    sum(cost_usd) AS spend_usd,
    sum(cost_usd) / uniqExact(trace_id) AS cost_per_trace,
    sumIf(cost_usd, conversation_id IS NOT NULL) / uniqExact(conversation_id) AS cost_per_conversation,
    countIf(NOT is_priced) AS unpriced_calls
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY day
ORDER BY day DESC""", w=12, units={'spend_usd': 'currencyUSD', 'cost_per_trace': 'currencyUSD',
                                    'cost_per_conversation': 'currencyUSD'}),
        row('Who spends'),
        table_panel('Top users', 'End users by priced spend (user.id, LibreChat user, LiteLLM end user).', f"""
SELECT
    coalesce(user_id, '(none)') AS user,
    count() AS calls,
    uniqExact(conversation_id) AS conversations,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS spend_usd,
    countIf(NOT is_priced) AS unpriced_calls
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY user
ORDER BY spend_usd DESC
LIMIT 20""", w=12, units={'spend_usd': 'currencyUSD'}),
        table_panel('Top API keys and teams', 'Priced spend per API key (by alias) and its team, as a '
                    'gateway such as LiteLLM reports them; calls without a key are left out.', f"""
SELECT
    api_key,
    coalesce(team, '(none)') AS team,
    count() AS calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS spend_usd,
    countIf(NOT is_priced) AS unpriced_calls
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
  AND api_key IS NOT NULL
GROUP BY api_key, team
ORDER BY spend_usd DESC
LIMIT 20""", w=12, units={'spend_usd': 'currencyUSD'}),
        table_panel('Spend by model, with what is missing', 'Per provider and model: priced spend next to '
                    'the calls it leaves out. Unpriced calls have no matching price (fine-tuned, '
                    'self-hosted) or no usage; calls without usage have unknown tokens.', f"""
SELECT
    coalesce(provider, '') AS provider,
    coalesce(model_family, '') AS model,
    count() AS calls,
    sum(cost_usd) AS spend_usd,
    countIf(NOT is_priced) AS unpriced_calls,
    countIf(usage_source = 'none' OR (input_tokens IS NULL AND output_tokens IS NULL)) AS calls_without_usage,
    countIf(NOT is_priced) / count() AS unpriced_share
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY provider, model
ORDER BY spend_usd DESC NULLS LAST""", w=12, units={'spend_usd': 'currencyUSD', 'unpriced_share': 'percentunit'}),
    ]
    return build_dashboard('llm-cost', 'LLM cost', 'Spend from the marts, and the share of it that is unknown.',
                           filter_variables(), items)


# ------------------------------------------------------------------ usage and latency

def usage_dashboard():
    m = MARTS
    items = [
        row('Overview'),
        stat_panel('Calls', 'Leaf LLM calls (deduplicated, umbrella spans excluded).', f"""
SELECT count() AS calls
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'short'),
        stat_panel('Error rate', 'Failed calls over all calls.', f"""
SELECT countIf(is_error) / count() AS error_rate
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'percentunit', thresholds=[(None, 'green'), (0.02, 'orange'), (0.1, 'red')]),
        stat_panel('Output tokens/s', 'Output tokens over call time, successful calls with usage.', f"""
SELECT sumIf(output_tokens, output_tokens IS NOT NULL AND NOT is_error)
       / nullIf(sumIf(duration_ms, output_tokens IS NOT NULL AND NOT is_error) / 1000, 0) AS tokens_per_second
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'short', decimals=1),
        stat_panel('p95 latency', '95th percentile call duration.', f"""
SELECT quantile(0.95)(duration_ms) AS p95_ms
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'ms'),
        stat_panel('p95 time to first token', '95th percentile TTFT of streamed calls that report it.', f"""
SELECT quantile(0.95)(ttft_ms) AS p95_ttft_ms
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'ms'),
        stat_panel('Cache-hit share of input tokens', 'Cache-read tokens over input tokens (input is '
                   'inclusive of cache), calls that report cache reads.', f"""
SELECT sumIf(cache_read_tokens, cache_read_tokens IS NOT NULL)
       / nullIf(sumIf(input_tokens, cache_read_tokens IS NOT NULL), 0) AS cache_hit_share
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'percentunit'),
        row('Traffic'),
        series_panel('Calls by model', 'Calls per time bucket and model family.', f"""
SELECT $__timeInterval(call_hour) AS time, model_family AS model, sum(calls) AS calls
FROM {m}.fct_usage_hourly
WHERE {HOURLY_WHERE}
GROUP BY time, model
ORDER BY time""", 'short', bars=True, stacked=True),
        series_panel('Output tokens per second by model', 'Throughput of successful calls with usage.', f"""
SELECT
    $__timeInterval(started_at) AS time,
    coalesce(model_family, '') AS model,
    sumIf(output_tokens, output_tokens IS NOT NULL AND NOT is_error)
    / nullIf(sumIf(duration_ms, output_tokens IS NOT NULL AND NOT is_error) / 1000, 0) AS tokens_per_second
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, model
ORDER BY time""", 'short'),
        series_panel('Tokens by kind', 'Uncached input, cache reads, cache writes and output tokens.', f"""
SELECT
    $__timeInterval(call_hour) AS time,
    sum(input_tokens) - sum(coalesce(cache_read_tokens, 0)) - sum(coalesce(cache_write_tokens, 0))
        AS uncached_input,
    sum(cache_read_tokens) AS cache_read,
    sum(cache_write_tokens) AS cache_write,
    sum(output_tokens) AS output
FROM {m}.fct_usage_hourly
WHERE {HOURLY_WHERE}
GROUP BY time
ORDER BY time""", 'short', bars=True, stacked=True),
        series_panel('Cache-hit share of input tokens by model', 'Cache-read over input tokens, calls that '
                     'report cache reads.', f"""
SELECT
    $__timeInterval(started_at) AS time,
    coalesce(model_family, '') AS model,
    sumIf(cache_read_tokens, cache_read_tokens IS NOT NULL)
    / nullIf(sumIf(input_tokens, cache_read_tokens IS NOT NULL), 0) AS cache_hit_share
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, model
ORDER BY time""", 'percentunit'),
        row('Latency'),
        table_panel('Latency and time to first token by model', 'Percentiles over the calls in range '
                    '(not averages of daily percentiles).', f"""
SELECT
    coalesce(provider, '') AS provider,
    coalesce(model_family, '') AS model,
    count() AS calls,
    quantile(0.5)(duration_ms) AS p50_ms,
    quantile(0.95)(duration_ms) AS p95_ms,
    quantile(0.99)(duration_ms) AS p99_ms,
    quantile(0.5)(ttft_ms) AS ttft_p50_ms,
    quantile(0.95)(ttft_ms) AS ttft_p95_ms,
    quantile(0.99)(ttft_ms) AS ttft_p99_ms,
    sumIf(output_tokens, output_tokens IS NOT NULL AND NOT is_error)
    / nullIf(sumIf(duration_ms, output_tokens IS NOT NULL AND NOT is_error) / 1000, 0) AS tokens_per_second
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY provider, model
ORDER BY calls DESC""", units={c: 'ms' for c in ('p50_ms', 'p95_ms', 'p99_ms', 'ttft_p50_ms', 'ttft_p95_ms',
                                                  'ttft_p99_ms')}),
        series_panel('p95 latency by model', '95th percentile call duration per bucket.', f"""
SELECT $__timeInterval(started_at) AS time, coalesce(model_family, '') AS model, quantile(0.95)(duration_ms) AS p95_ms
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
GROUP BY time, model
ORDER BY time""", 'ms'),
        series_panel('p95 time to first token by model', 'Streamed calls that report TTFT.', f"""
SELECT $__timeInterval(started_at) AS time, coalesce(model_family, '') AS model, quantile(0.95)(ttft_ms) AS p95_ttft_ms
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE} AND ttft_ms IS NOT NULL
GROUP BY time, model
ORDER BY time""", 'ms'),
        row('Errors'),
        series_panel('Error rate by error type', 'Calls failing with each error type over all calls of the '
                     'bucket.', f"""
SELECT time, error_type, errors / calls AS error_rate
FROM (
    SELECT
        $__timeInterval(started_at) AS time,
        coalesce(error_type, '') AS error_type,
        count() AS errors,
        sum(count()) OVER (PARTITION BY time) AS calls
    FROM {m}.fct_llm_calls
    WHERE {CALLS_WHERE}
    GROUP BY time, error_type
)
WHERE error_type != ''
ORDER BY time""", 'percentunit', bars=True, stacked=True),
        table_panel('Errors by type and model', 'Failed calls per error type, provider and model.', f"""
SELECT
    coalesce(error_type, '') AS error_type,
    coalesce(provider, '') AS provider,
    coalesce(model_family, '') AS model,
    count() AS errors,
    uniqExact(service_name) AS services,
    max(started_at) AS last_seen
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE} AND is_error
GROUP BY error_type, provider, model
ORDER BY errors DESC""", w=12),
    ]
    return build_dashboard('llm-usage-latency', 'LLM usage and latency',
                           'Calls, throughput, latency, time to first token, errors and cache hits.',
                           filter_variables(), items)


# ------------------------------------------------------------------ reconciliation

def reconciliation_dashboard():
    m = MARTS
    drill = KEEP + ('&var-drill_day=${__data.fields.day}&var-drill_provider=${__data.fields.provider}'
                    '&var-drill_model=${__data.fields.model}')
    day_link = link('Calls and traces of this model-day',
                    '/d/llm-reconciliation/llm-reconciliation?' + drill)
    drill_where = ("(${drill_day:singlequote} = '' OR call_date = toDateOrNull(${drill_day:singlequote}))\n"
                   "  AND (${drill_provider:singlequote} = '' OR coalesce(provider, '') = ${drill_provider:singlequote})\n"
                   "  AND (${drill_model:singlequote} = '' OR coalesce(model_family, '') = ${drill_model:singlequote})")
    items = [
        row('Status'),
        series_panel('Model-days by reconciliation status', 'Span tokens vs gen_ai.client.token.usage '
                     'metrics, one verdict per (day, provider, model).', f"""
SELECT toDateTime(call_date) AS time, reconciliation_status AS status, count() AS model_days
FROM {m}.fct_model_daily
WHERE {DAILY_WHERE}
GROUP BY time, status
ORDER BY time""", 'short', bars=True, stacked=True),
        series_panel('Model-days by billing status', 'Span tokens vs the provider usage export.', f"""
SELECT toDateTime(call_date) AS time, billing_reconciliation_status AS status, count() AS model_days
FROM {m}.fct_model_daily
WHERE {DAILY_WHERE}
GROUP BY time, status
ORDER BY time""", 'short', bars=True, stacked=True),
        table_panel('Status by day and model', 'Span vs metric vs billed tokens per model-day. Click a day '
                    'to list its calls and traces below. The service filter does not apply '
                    '(fct_model_daily has no service).', f"""
SELECT
    toString(call_date) AS day,
    provider,
    model_family AS model,
    calls,
    reconciliation_status,
    billing_reconciliation_status,
    input_tokens AS span_input,
    metric_input_tokens AS metric_input,
    billed_input_tokens AS billed_input,
    output_tokens AS span_output,
    metric_output_tokens AS metric_output,
    billed_output_tokens AS billed_output,
    metric_calls,
    billed_requests,
    implied_sampling_ratio
FROM {m}.fct_model_daily
WHERE {DAILY_WHERE}
ORDER BY day DESC, calls DESC""", h=12, links={'day': [day_link], 'model': [day_link]},
                    colors={'reconciliation_status': STATUS_COLORS, 'billing_reconciliation_status': STATUS_COLORS},
                    units={'implied_sampling_ratio': 'percentunit'}),
        row('Token sources side by side'),
        table_panel('Span vs app-log vs metric vs billed input tokens, by day', 'Input tokens of the day '
                    'as each source saw them. App logs (LibreChat spendTokens) cover only the traces that '
                    'log them, so they sit next to the span tokens of those same traces.', f"""
SELECT
    toString(daily.day) AS day,
    daily.span_input,
    traces.span_input_with_app_logs,
    traces.app_log_prompt,
    daily.metric_input,
    daily.billed_input,
    daily.metric_input / nullIf(daily.span_input, 0) AS metric_over_span,
    daily.billed_input / nullIf(daily.span_input, 0) AS billed_over_span
FROM (
    SELECT
        call_date AS day,
        sum(input_tokens) AS span_input,
        sum(metric_input_tokens) AS metric_input,
        sum(billed_input_tokens) AS billed_input
    FROM {m}.fct_model_daily
    WHERE {DAILY_WHERE}
    GROUP BY day
) AS daily
LEFT JOIN (
    SELECT
        trace_date AS day,
        sumIf(input_tokens, app_prompt_tokens IS NOT NULL) AS span_input_with_app_logs,
        sum(app_prompt_tokens) AS app_log_prompt
    FROM {m}.fct_traces
    WHERE {TRACES_WHERE}
    GROUP BY day
) AS traces ON daily.day = traces.day
ORDER BY day DESC""", w=12, h=9),
        series_panel('Implied sampling ratio by model', 'Span calls / metric calls where the metrics saw '
                     'more calls than the spans (head sampling).', f"""
SELECT toDateTime(call_date) AS time, model_family AS model, implied_sampling_ratio
FROM {m}.fct_model_daily
WHERE {DAILY_WHERE} AND implied_sampling_ratio IS NOT NULL
ORDER BY time""", 'percentunit', w=12, h=9),
        row('Drill-down: the selected model-day (all model-days when none is selected)'),
        table_panel('Calls of the model-day', 'Calls of the model-day picked in the status table '
                    '(variables drill_day, drill_provider, drill_model); the latest calls in range '
                    'when none is picked.', f"""
SELECT
    started_at,
    trace_id,
    call_id,
    service_name,
    coalesce(provider, '') AS provider,
    coalesce(model_family, '') AS model,
    usage_source,
    input_tokens,
    output_tokens,
    cost_usd,
    is_error,
    error_type
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
  AND {drill_where}
ORDER BY started_at DESC
LIMIT 200""", h=10, links={'trace_id': [TRACE_LINK]}, units={'cost_usd': 'currencyUSD'}),
        table_panel('Traces of the model-day', 'Traces with a call of the picked model-day, with their '
                    'span vs app-log reconciliation.', f"""
SELECT
    started_at,
    trace_id,
    root_service_name,
    root_span_name,
    llm_calls,
    input_tokens,
    app_prompt_tokens,
    output_tokens,
    app_completion_tokens,
    reconciliation_status,
    cost_usd
FROM {m}.fct_traces
WHERE $__dateTimeFilter(trace_date, started_at)
  AND trace_id IN (
    SELECT trace_id FROM {m}.fct_llm_calls
    WHERE {CALLS_WHERE}
      AND {drill_where})
ORDER BY started_at DESC
LIMIT 200""", h=10, links={'trace_id': [TRACE_LINK]}, units={'cost_usd': 'currencyUSD'},
                    colors={'reconciliation_status': STATUS_COLORS}),
    ]
    variables = filter_variables() + [
        textbox_variable('drill_day', 'Drill day', 'YYYY-MM-DD of the model-day to drill into (set by the status table).'),
        textbox_variable('drill_provider', 'Drill provider', 'Provider of the model-day.'),
        textbox_variable('drill_model', 'Drill model', 'Model family of the model-day.'),
    ]
    return build_dashboard('llm-reconciliation', 'LLM reconciliation',
                           'Span tokens against app logs, token metrics and provider billing; drill from '
                           'a model-day to its calls and traces.', variables, items)


# ------------------------------------------------------------------ tools and conversations

def tools_dashboard():
    m = MARTS
    conversation_link = link('Traces of this conversation',
                             '/d/llm-tools-conversations/llm-tools-and-conversations?' + KEEP
                             + '&var-conversation_id=${__data.fields.conversation_id}')
    items = [
        row('Tools'),
        stat_panel('Tool calls', 'Tool calls (MCP tools/call, execute_tool; outermost span of each call).', f"""
SELECT sum(tool_calls) AS tool_calls
FROM {m}.fct_traces
WHERE {TRACES_WHERE}""", 'short'),
        stat_panel('Traces using tools', 'Traces with at least one tool call.', f"""
SELECT countIf(tool_calls > 0) AS traces_with_tools
FROM {m}.fct_traces
WHERE {TRACES_WHERE}""", 'short'),
        stat_panel('Tool time per tool call', 'Average duration of a tool call, over the traces whose tool '
                   'time is known.', f"""
SELECT sum(tool_time_ms) / nullIf(sumIf(tool_calls, tool_time_ms IS NOT NULL), 0) AS ms_per_tool_call
FROM {m}.fct_traces
WHERE {TRACES_WHERE}""", 'ms'),
        stat_panel('LLM share of trace time', 'Summed LLM call time over summed trace duration, over the '
                   'traces whose LLM time is known.', f"""
SELECT sum(llm_time_ms) / nullIf(sumIf(duration_ms, llm_time_ms IS NOT NULL), 0) AS llm_share
FROM {m}.fct_traces
WHERE {TRACES_WHERE}""", 'percentunit'),
        stat_panel('Tool share of trace time', 'Summed tool call time over summed trace duration, over the '
                   'traces whose tool time is known.', f"""
SELECT sum(tool_time_ms) / nullIf(sumIf(duration_ms, tool_time_ms IS NOT NULL), 0) AS tool_share
FROM {m}.fct_traces
WHERE {TRACES_WHERE}""", 'percentunit'),
        stat_panel('Conversations', 'Conversations with a call in range.', f"""
SELECT uniqExact(conversation_id) AS conversations
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}""", 'short'),
        series_panel('Tool calls by service', 'Tool calls per bucket and root service of the trace.', f"""
SELECT $__timeInterval(started_at) AS time, root_service_name AS service, sum(tool_calls) AS tool_calls
FROM {m}.fct_traces
WHERE {TRACES_WHERE}
GROUP BY time, service
ORDER BY time""", 'short', bars=True, stacked=True),
        series_panel('LLM time vs tool time', 'Summed LLM call time, tool call time and the rest of the '
                     'traces\' duration per bucket; "unknown" is the rest of the traces whose LLM or tool '
                     'time is unknown (a call without a duration).', f"""
SELECT
    $__timeInterval(started_at) AS time,
    sum(llm_time_ms) AS llm_ms,
    sum(tool_time_ms) AS tool_ms,
    sum(greatest(duration_ms - llm_time_ms - tool_time_ms, 0)) AS other_ms,
    sumIf(greatest(duration_ms - coalesce(llm_time_ms, 0) - coalesce(tool_time_ms, 0), 0),
          llm_time_ms IS NULL OR tool_time_ms IS NULL) AS unknown_ms
FROM {m}.fct_traces
WHERE {TRACES_WHERE}
GROUP BY time
ORDER BY time""", 'ms', bars=True, stacked=True),
        table_panel('Slowest tool calls, by trace', 'Traces ranked by the average duration of their tool '
                    'calls (the marts keep tool time per trace; per-tool latency is in '
                    'queries/slowest_mcp_tools.sql).', f"""
SELECT
    trace_id,
    root_service_name,
    root_span_name,
    tool_calls,
    tool_time_ms / tool_calls AS ms_per_tool_call,
    tool_time_ms,
    llm_time_ms,
    duration_ms,
    started_at
FROM {m}.fct_traces
WHERE {TRACES_WHERE} AND tool_calls > 0
ORDER BY ms_per_tool_call DESC
LIMIT 20""", w=12, links={'trace_id': [TRACE_LINK]},
                    units={c: 'ms' for c in ('ms_per_tool_call', 'tool_time_ms', 'llm_time_ms', 'duration_ms')}),
        table_panel('LLM time vs tool time per trace', 'The longest traces, split into LLM time, tool time '
                    'and the rest.', f"""
SELECT
    trace_id,
    root_service_name,
    duration_ms,
    llm_time_ms,
    tool_time_ms,
    greatest(duration_ms - llm_time_ms - tool_time_ms, 0) AS other_ms,
    llm_time_ms / nullIf(duration_ms, 0) AS llm_share,
    tool_time_ms / nullIf(duration_ms, 0) AS tool_share,
    llm_calls,
    tool_calls
FROM {m}.fct_traces
WHERE {TRACES_WHERE}
ORDER BY duration_ms DESC
LIMIT 20""", w=12, links={'trace_id': [TRACE_LINK]},
                    units={'duration_ms': 'ms', 'llm_time_ms': 'ms', 'tool_time_ms': 'ms', 'other_ms': 'ms',
                           'llm_share': 'percentunit', 'tool_share': 'percentunit'}),
        row('Conversations'),
        table_panel('Most expensive conversations', 'Conversations with a matching call in range, by '
                    'priced cost (over the whole conversation). Click one to list its traces.', f"""
SELECT
    conversation_id,
    user_id,
    turns,
    llm_calls,
    tool_calls,
    input_tokens,
    output_tokens,
    cost_usd,
    reconciliation_status,
    arrayStringConcat(model_ids, ', ') AS models,
    first_seen_at,
    last_seen_at
FROM {m}.fct_conversations
WHERE last_seen_at >= $__fromTime AND first_seen_at <= $__toTime
  AND conversation_id IN (
    SELECT conversation_id FROM {m}.fct_llm_calls
    WHERE {CALLS_WHERE} AND conversation_id IS NOT NULL)
ORDER BY cost_usd DESC NULLS LAST
LIMIT 25""", h=10, links={'conversation_id': [conversation_link]}, units={'cost_usd': 'currencyUSD'},
                    colors={'reconciliation_status': STATUS_COLORS}),
        table_panel('Traces of the conversation', 'Traces of the conversation picked above (variable '
                    'conversation_id); the most expensive traces in range when none is picked.', f"""
SELECT
    trace_id,
    conversation_id,
    started_at,
    root_service_name,
    root_span_name,
    llm_calls,
    tool_calls,
    total_tokens,
    cost_usd,
    unpriced_calls,
    duration_ms,
    reconciliation_status
FROM {m}.fct_traces
WHERE {TRACES_WHERE}
  AND (${{conversation_id:singlequote}} = '' OR conversation_id = ${{conversation_id:singlequote}})
ORDER BY cost_usd DESC NULLS LAST, started_at
LIMIT 50""", h=10, links={'trace_id': [TRACE_LINK]}, units={'cost_usd': 'currencyUSD', 'duration_ms': 'ms'},
                    colors={'reconciliation_status': STATUS_COLORS}),
        table_panel('Calls of the trace', 'LLM calls of the trace picked in any trace table (variable '
                    'trace_id); the slowest calls in range when none is picked.', f"""
SELECT
    started_at,
    trace_id,
    call_id,
    service_name,
    coalesce(provider, '') AS provider,
    coalesce(response_model, request_model, '') AS model,
    usage_source,
    input_tokens,
    output_tokens,
    cost_usd,
    duration_ms,
    ttft_ms,
    finish_reason,
    error_type
FROM {m}.fct_llm_calls
WHERE {CALLS_WHERE}
  AND (${{trace_id:singlequote}} = '' OR trace_id = ${{trace_id:singlequote}})
ORDER BY if(${{trace_id:singlequote}} = '', -duration_ms, 0), started_at
LIMIT 100""", h=10, units={'cost_usd': 'currencyUSD', 'duration_ms': 'ms', 'ttft_ms': 'ms'}),
    ]
    variables = filter_variables() + [
        textbox_variable('conversation_id', 'Conversation', 'Conversation to list the traces of.'),
        textbox_variable('trace_id', 'Trace', 'Trace to list the LLM calls of.'),
    ]
    return build_dashboard('llm-tools-conversations', 'LLM tools and conversations',
                           'MCP tool calls, LLM time vs tool time, and the most expensive conversations '
                           'with their traces and calls.', variables, items)


# ------------------------------------------------------------------ output

def build() -> dict:
    """File name -> dashboard JSON text, for every dashboard."""
    out = {}
    for make in (cost_dashboard, usage_dashboard, reconciliation_dashboard, tools_dashboard):
        model = make()
        text = json.dumps(model, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + '\n'
        out[f'{model.uid}.json'] = text
    return out


def stale_files(out_dir: Path = OUT_DIR) -> list:
    """Committed dashboards that differ from (or are missing next to) what build() makes, and strays."""
    built = build()
    stale = [name for name, text in built.items()
             if not (out_dir / name).exists() or (out_dir / name).read_text() != text]
    strays = [p.name for p in out_dir.glob('*.json') if p.name not in built]
    return sorted(stale + strays)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='only compare with the committed JSON')
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f'stale: {OUT_DIR / name} (run `make dashboards`)', file=sys.stderr)
        return 1 if stale else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    built = build()
    for stray in OUT_DIR.glob('*.json'):
        if stray.name not in built:
            stray.unlink()
    for name, text in built.items():
        (OUT_DIR / name).write_text(text)
        print(f'wrote {OUT_DIR / name}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
