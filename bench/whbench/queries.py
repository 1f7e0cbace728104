"""The queries a dashboard sends, against the marts and against the raw tables.

The raw versions are this benchmark's own reference SQL, not the project's
models: what a dashboard would have to run without marts. They read a handful
of common attribute names, deduplicate collector retries, drop umbrella spans
whose direct child also reports tokens, and price input and output tokens at
the current list price of the first matching seed pattern. So they answer
the same questions with the same shape, close to but not exactly the marts'
numbers (no cache/reasoning buckets, no price history, no deeper umbrella
chains, no token logs for calls without span usage).
"""

from dataclasses import dataclass


@dataclass
class Window:
    """The dashboard's time range: the last 7 days of data, as inclusive dates."""
    first_day: str
    last_day: str


def _attr(map_col: str, *keys: str) -> str:
    return 'coalesce(' + ', '.join(f"nullIf({map_col}['{k}'], '')" for k in keys) + ')'


MODEL = _attr('SpanAttributes', 'gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name')
INPUT = _attr('SpanAttributes', 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt')
OUTPUT = _attr('SpanAttributes', 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens',
               'llm.token_count.completion')
CONVERSATION = _attr('SpanAttributes', 'gen_ai.conversation.id', 'session.id')
# Model family: without a gateway prefix (openai/...) and a date suffix (-2024-08-06, -20250929).
FAMILY = ("replaceRegexpOne(replaceRegexpOne(lower(model_raw), '^[a-z0-9_.-]+/', ''), "
          "'-(\\\\d{4}-\\\\d{2}-\\\\d{2}|\\\\d{8})$', '')")


def raw_pass() -> str:
    """One extraction pass over otel_traces: model, tokens, conversations per day and model."""
    return f"""
select toDate(Timestamp) as day, {MODEL} as model, count() as spans,
    sum(toInt64OrZero({INPUT})) as input_tokens, sum(toInt64OrZero({OUTPUT})) as output_tokens,
    uniq({CONVERSATION}) as conversations
from otel.otel_traces
where model is not null
group by day, model
order by day, model"""


def _raw_calls(w: Window) -> str:
    """CTEs: leaf LLM calls of the window (deduplicated), priced; the raw queries start here."""
    return f"""
with
spans as (
    select TraceId as trace_id, SpanId as span_id, ParentSpanId as parent_span_id, Timestamp as started_at,
        ServiceName as service_name, {MODEL} as model_raw, toInt64OrNull({INPUT}) as input_tokens,
        toInt64OrNull({OUTPUT}) as output_tokens, Duration / 1e6 as duration_ms,
        {CONVERSATION} as span_conversation_id
    from otel.otel_traces
    where Timestamp >= toDateTime64('{w.first_day}', 9) and Timestamp < toDateTime64('{w.last_day}', 9) + interval 1 day
        and model_raw is not null and (input_tokens is not null or output_tokens is not null)
    limit 1 by trace_id, span_id
),
leaves as (
    select * from spans where (trace_id, span_id) not in (select trace_id, parent_span_id from spans)
),
prices as (
    select model_raw, argMax(p.input_usd_per_mtok, p.pattern_priority) as input_price,
        argMax(p.output_usd_per_mtok, p.pattern_priority) as output_price
    from (select distinct model_raw from leaves) as m
    cross join (select * from llm.model_prices where valid_to is null) as p
    where match(lower(m.model_raw), p.model_pattern)
    group by model_raw
),
calls as (
    select leaves.*, {FAMILY} as model,
        (coalesce(input_tokens, 0) * input_price + coalesce(output_tokens, 0) * output_price) / 1e6 as cost_usd
    from leaves left join prices using (model_raw)
    settings join_use_nulls = 1
)"""


def _daily_cost(w: Window) -> tuple:
    mart = f"""
select call_date, model_family as model, sum(cost_usd) as cost_usd
from llm.fct_model_daily
where call_date between '{w.first_day}' and '{w.last_day}'
group by call_date, model order by call_date, model"""
    raw = _raw_calls(w) + """
select toDate(started_at) as call_date, model, sum(cost_usd) as cost_usd
from calls group by call_date, model order by call_date, model"""
    return mart, raw


def _p95_latency(w: Window) -> tuple:
    # The day histograms of fct_latency_buckets merged over the window
    # (queries/latency_percentiles_by_model.sql): the bucket bound holding
    # the p95, at most latency_histogram_growth - 1 above the exact value.
    mart = f"""
select model, arrayReduce('quantileExactWeighted(0.95)', histogram.1, histogram.2) as p95_ms
from (
    select dimension_value as model,
        sumMap(mapKeys(duration_ms_histogram), mapValues(duration_ms_histogram)) as histogram
    from llm.fct_latency_buckets
    where granularity = 'day' and dimension = 'model'
        and bucket_date between '{w.first_day}' and '{w.last_day}'
    group by model
)
order by model"""
    raw = _raw_calls(w) + """
select model, quantile(0.95)(duration_ms) as p95_ms from calls group by model order by model"""
    return mart, raw


def _top_conversations(w: Window) -> tuple:
    mart = f"""
select conversation_id, cost_usd, llm_calls, total_tokens
from llm.fct_conversations
where last_seen_at >= toDateTime64('{w.first_day}', 9)
order by cost_usd desc limit 20"""
    log_conversation = _attr('LogAttributes', 'conversationId', 'gen_ai.conversation.id')
    raw = _raw_calls(w) + f""",
trace_conversations as (
    select trace_id, any(conversation_id) as trace_conversation_id from (
        select trace_id, span_conversation_id as conversation_id from spans where conversation_id is not null
        union all
        select TraceId, coalesce({log_conversation}, nullIf(extract(Body, 'conversationId: ([0-9A-Za-z_-]+)'), ''))
        from otel.otel_logs where Timestamp >= toDateTime64('{w.first_day}', 9) and TraceId != ''
    ) where conversation_id is not null group by trace_id
)
select coalesce(span_conversation_id, trace_conversation_id) as conversation_id, sum(cost_usd) as cost_usd,
    count() as llm_calls, sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as total_tokens
from calls left join trace_conversations using (trace_id)
where conversation_id is not null
group by conversation_id order by cost_usd desc limit 20
settings join_use_nulls = 1"""
    return mart, raw


def _reconciliation(w: Window) -> tuple:
    mart = f"""
select call_date, reconciliation_status, count() as models, sum(calls) as calls
from llm.fct_model_daily
where call_date between '{w.first_day}' and '{w.last_day}'
group by call_date, reconciliation_status order by call_date, reconciliation_status"""
    metric_model = _attr('Attributes', 'gen_ai.response.model', 'gen_ai.request.model')
    raw = _raw_calls(w) + f""",
points as (
    select toDate(TimeUnix) as day, {metric_model} as model_raw, Attributes['gen_ai.token.type'] as token_type,
        if(AggregationTemporality = 2,
           Sum - lagInFrame(Sum, 1, 0) over (partition by ServiceName, Attributes, ResourceAttributes, StartTimeUnix
                                              order by TimeUnix rows between 1 preceding and current row),
           Sum) as tokens
    from otel.otel_metrics_histogram
    where MetricName = 'gen_ai.client.token.usage'
),
metric_days as (
    select day, {FAMILY} as model, sumIf(tokens, token_type = 'input') as metric_input
    from points where day between '{w.first_day}' and '{w.last_day}' group by day, model
),
span_days as (
    select toDate(started_at) as day, model, count() as calls, sum(input_tokens) as span_input
    from calls group by day, model
)
select day as call_date,
    multiIf(metric_input is null, 'no_counterpart', span_input = metric_input, 'match',
            abs(span_input - metric_input) <= 0.02 * metric_input, 'within_tolerance', 'mismatch')
        as reconciliation_status,
    count() as models, sum(calls) as calls
from span_days left join metric_days using (day, model)
group by call_date, reconciliation_status order by call_date, reconciliation_status
settings join_use_nulls = 1"""
    return mart, raw


def _tokens_per_service_hour(w: Window) -> tuple:
    # The hourly rollup: a few rows per service and hour instead of every call row.
    mart = f"""
select call_hour as hour, service_name, sum(total_tokens) as tokens
from llm.fct_usage_hourly
where call_date between '{w.first_day}' and '{w.last_day}'
group by hour, service_name order by hour, service_name"""
    raw = _raw_calls(w) + """
select toStartOfHour(started_at) as hour, service_name,
    sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) as tokens
from calls group by hour, service_name order by hour, service_name"""
    return mart, raw


DASHBOARD = {
    'daily cost by model': _daily_cost,
    'p95 latency by model': _p95_latency,
    'top conversations by cost': _top_conversations,
    'reconciliation by day': _reconciliation,
    'tokens per service per hour': _tokens_per_service_hour,
}


def dashboard_queries(w: Window) -> dict:
    """Name -> (mart SQL, raw SQL) for the window."""
    return {name: build(w) for name, build in DASHBOARD.items()}
