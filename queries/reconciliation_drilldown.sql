-- Reconciliation drill-down: from one model-day of fct_model_daily to its
-- calls, each with its trace's own reconciliation against the app's token logs.
--
-- The model-day picked is, over the last 7 days, the one whose span input
-- tokens stray furthest from the token-usage metrics (or, without metrics, from
-- the provider's billed tokens). To look at another one, replace the body of
-- the `picked` CTE with e.g.
--     select toDate('2026-11-30') as day, 'openai' as provider, 'gpt-4o' as model
-- The model-day's own figures repeat on every row (day_*), next to the call's.
-- usage_source tells where a call's tokens come from (span, log or none): calls
-- without usage and sampled-out traffic are the usual reasons for a gap.
--
-- clickhouse-client --queries-file queries/reconciliation_drilldown.sql
-- llmwh sql - < queries/reconciliation_drilldown.sql
with

picked as (

    select
        call_date as day,
        provider,
        model_family as model
    from llm.fct_model_daily
    where call_date >= today() - 7
    order by
        abs(coalesce(input_tokens, 0) - coalesce(metric_input_tokens, toFloat64(billed_input_tokens), 0)) desc,
        day desc,
        provider asc,
        model asc
    limit 1

),

model_day as (

    select
        daily.call_date as day,
        daily.provider as provider,
        daily.model_family as model,
        daily.calls as day_calls,
        daily.reconciliation_status as day_status,
        daily.billing_reconciliation_status as day_billing_status,
        daily.input_tokens as day_span_input,
        daily.metric_input_tokens as day_metric_input,
        daily.billed_input_tokens as day_billed_input,
        daily.implied_sampling_ratio as day_implied_sampling_ratio
    from llm.fct_model_daily as daily
    inner join picked
        on
            daily.call_date = picked.day
            and daily.provider = picked.provider
            and daily.model_family = picked.model

)

select
    model_day.day as day,
    model_day.provider as provider,
    model_day.model as model,
    model_day.day_calls as day_calls,
    model_day.day_status as day_status,
    model_day.day_billing_status as day_billing_status,
    model_day.day_span_input as day_span_input,
    model_day.day_metric_input as day_metric_input,
    model_day.day_billed_input as day_billed_input,
    model_day.day_implied_sampling_ratio as day_implied_sampling_ratio,
    calls.started_at as started_at,
    calls.service_name as service_name,
    calls.trace_id as trace_id,
    calls.call_id as call_id,
    calls.usage_source as usage_source,
    calls.input_tokens as input_tokens,
    calls.output_tokens as output_tokens,
    calls.cost_usd as cost_usd,
    calls.is_error as is_error,
    calls.error_type as error_type,
    traces.reconciliation_status as trace_status,
    traces.app_prompt_tokens as trace_app_prompt_tokens
from llm.fct_llm_calls as calls
inner join model_day
    on
        calls.call_date = model_day.day
        and coalesce(calls.provider, '') = model_day.provider
        and coalesce(calls.model_family, '') = model_day.model
left join llm.fct_traces as traces on calls.trace_id = traces.trace_id
order by calls.started_at
settings join_use_nulls = 1;
