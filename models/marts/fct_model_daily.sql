{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='call_date',
        order_by='(call_date, provider, model_family)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources() + ['int_token_usage_metrics_summed_to_days']) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook=["{{ drop_days_left_without_calls() }}", "{{ commit_watermarks() }}"],
    )
}}

{#- One row per UTC day, provider and model family: calls, tokens, cost,
    latency percentiles, and span tokens reconciled against the
    gen_ai.client.token.usage metrics (which are not sampled). An
    incremental run rebuilds every day a touched trace has a span on (a call
    may have moved off a day: a late child makes its parent an umbrella), the
    days whose metric sums changed, and the last lookback_days days (for late
    billing exports). -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
{% if is_incremental() %}
    rebuilt_days as (

        {{ touched_trace_days() }}
        union distinct
        select day as call_date
        from ({{ changed_days('int_token_usage_metrics_summed_to_days') }})

    ),
{% endif %}

calls as (

    select * from {{ ref('fct_llm_calls') }}
    {% if is_incremental() %}
        where
            call_date in (select call_date from rebuilt_days)
            or call_date >= {{ incremental_window_start('call_date') }}
    {% endif %}

),

metrics as (

    select * from {{ ref('int_token_usage_metrics_summed_to_days') }}

),

billing as (

    select * from {{ ref('int_provider_usage_summed_to_days') }}

),

call_rollup as (

    select
        call_date,
        coalesce(provider, '') as provider,
        coalesce(model_family, '') as model_family,
        count() as call_count,
        countIf(calls.is_error) as error_calls,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(cost_usd) as cost_usd,
        countIf(not is_priced) as unpriced_calls,
        {{ completeness_rollup() }},
        quantile(0.5)(duration_ms) as duration_ms_p50,  -- noqa: LT01
        quantile(0.95)(duration_ms) as duration_ms_p95,  -- noqa: LT01
        quantile(0.99)(duration_ms) as duration_ms_p99,  -- noqa: LT01
        quantile(0.5)(ttft_ms) as ttft_ms_p50,  -- noqa: LT01
        quantile(0.95)(ttft_ms) as ttft_ms_p95,  -- noqa: LT01
        -- Qualified names: an alias shadows its column inside the same select.
        sumIf(calls.output_tokens, calls.output_tokens is not null and not calls.is_error)
        / nullIf(sumIf(calls.duration_ms, calls.output_tokens is not null and not calls.is_error) / 1000, 0)
            as output_tokens_per_second,
        -- Tokens the spans themselves reported, for reconciliation.
        {{ span_usage_rollup() }}
    from calls
    group by call_date, provider, model_family

),

calls_by_service as (

    select
        call_date,
        service_name,
        coalesce(provider, '') as provider,
        coalesce(model_family, '') as model_family,
        count() as service_calls,
        sumIf(calls.input_tokens, usage_source = 'span') as service_input_tokens,
        sumIf(calls.output_tokens, usage_source = 'span') as service_output_tokens,
        countIf(usage_source != 'span' and not calls.is_error) as service_calls_missing_usage
    from calls
    group by call_date, service_name, provider, model_family

),

metered as (

    -- Only some services emit the token metric: compare their spans alone,
    -- service by service, then add up per day, provider and model.
    select
        coalesce(calls_by_service.call_date, metrics.metric_date) as metered_date,
        coalesce(calls_by_service.provider, coalesce(metrics.provider, '')) as provider,
        coalesce(calls_by_service.model_family, coalesce(metrics.model, '')) as model_family,
        sum(coalesce(calls_by_service.service_calls, 0)) as metered_calls,
        sum(coalesce(calls_by_service.service_input_tokens, 0)) as metered_input_tokens,
        sum(coalesce(calls_by_service.service_output_tokens, 0)) as metered_output_tokens,
        sum(coalesce(calls_by_service.service_calls_missing_usage, 0)) as metered_calls_missing_usage,
        sum(metrics.metric_input_tokens) as metric_input_tokens,
        sum(metrics.metric_output_tokens) as metric_output_tokens,
        sum(metrics.metric_calls) as metric_calls
    from calls_by_service
    full outer join metrics
        on
            calls_by_service.call_date = metrics.metric_date
            and calls_by_service.service_name = metrics.service_name
            and calls_by_service.provider = coalesce(metrics.provider, '')
            and calls_by_service.model_family = coalesce(metrics.model, '')
    where metrics.metric_date is not null
    group by metered_date, provider, model_family
    settings join_use_nulls = 1

),

joined as (

    select
        call_rollup.* except (provider, model_family),
        call_rollup.provider as provider,
        call_rollup.model_family as model_family,
        metered.metric_input_tokens as metric_input_tokens,
        metered.metric_output_tokens as metric_output_tokens,
        metered.metric_calls as metric_calls,
        metered.metered_calls as metered_calls,
        metered.metered_input_tokens as metered_input_tokens,
        metered.metered_output_tokens as metered_output_tokens,
        metered.metered_calls_missing_usage as metered_calls_missing_usage,
        metered.metered_date is not null as has_metrics,
        billing.billed_input_tokens as billed_input_tokens,
        billing.billed_output_tokens as billed_output_tokens,
        billing.billed_requests as billed_requests,
        billing.billed_date is not null as has_billing
    from call_rollup
    left join metered
        on
            call_rollup.call_date = metered.metered_date
            and call_rollup.provider = metered.provider
            and call_rollup.model_family = metered.model_family
    left join billing
        on
            call_rollup.call_date = billing.billed_date
            and call_rollup.provider = coalesce(billing.provider, '')
            and call_rollup.model_family = coalesce(billing.model, '')
    settings join_use_nulls = 1

),

reconciled as (

    select
        *,
        {{ complete_span_usage('joined', 'span_input_tokens') }} as observed_input_tokens,
        {{ complete_span_usage('joined', 'span_output_tokens') }} as observed_output_tokens,
        -- Something to compare: the metric counted calls, or metered spans exist.
        has_metrics and (coalesce(metric_calls, 0) > 0 or coalesce(metered_calls, 0) > 0) as has_metric_counterpart,
        -- Spans sampled while metrics are not: the token shortfall follows
        -- the call shortfall. Report the ratio (always strictly between 0
        -- and 1) instead of a mismatch.
        if(
            has_metrics and metered_calls > 0 and metric_calls > metered_calls and metric_input_tokens > 0,
            metered_calls / metric_calls,
            null
        ) as implied_sampling_ratio,
        if(metered_calls_missing_usage > 0, null, metered_input_tokens) as metered_observed_input,
        if(metered_calls_missing_usage > 0, null, metered_output_tokens) as metered_observed_output,
        {{ combined_reconciliation_status(
            'metered_observed_input', 'metric_input_tokens',
            'metered_observed_output', 'metric_output_tokens', 'has_metric_counterpart'
        ) }} as metric_status,
        -- Billing also counts failed calls that were billed and traffic whose
        -- traces were sampled away, so a gap here is expected to be positive.
        {{ combined_reconciliation_status(
            'observed_input_tokens', 'billed_input_tokens',
            'observed_output_tokens', 'billed_output_tokens', 'has_billing'
        ) }} as billing_status
    from joined

),

final as (

    select
        ---------- ids
        cast(call_date as Date) as call_date,
        cast(provider as LowCardinality(String)) as provider,
        cast(model_family as String) as model_family,

        ---------- numerics
        cast(call_count as UInt64) as calls,
        cast(error_calls as UInt64) as error_calls,
        cast(input_tokens as Nullable(Int64)) as input_tokens,
        cast(output_tokens as Nullable(Int64)) as output_tokens,
        cast(cache_read_tokens as Nullable(Int64)) as cache_read_tokens,
        cast(reasoning_tokens as Nullable(Int64)) as reasoning_tokens,
        cast(cost_usd as Nullable(Float64)) as cost_usd,
        cast(unpriced_calls as UInt64) as unpriced_calls,
        cast(calls_without_usage as UInt64) as calls_without_usage,
        cast(duration_ms_p50 as Nullable(Float64)) as duration_ms_p50,
        cast(duration_ms_p95 as Nullable(Float64)) as duration_ms_p95,
        cast(duration_ms_p99 as Nullable(Float64)) as duration_ms_p99,
        cast(ttft_ms_p50 as Nullable(Float64)) as ttft_ms_p50,
        cast(ttft_ms_p95 as Nullable(Float64)) as ttft_ms_p95,
        cast(output_tokens_per_second as Nullable(Float64)) as output_tokens_per_second,
        cast(metric_input_tokens as Nullable(Float64)) as metric_input_tokens,
        cast(metric_output_tokens as Nullable(Float64)) as metric_output_tokens,
        cast(metric_calls as Nullable(Int64)) as metric_calls,
        cast(metered_calls as Nullable(Int64)) as metered_calls,
        cast(metered_input_tokens as Nullable(Int64)) as metered_input_tokens,
        cast(metered_output_tokens as Nullable(Int64)) as metered_output_tokens,
        cast(metered_calls_missing_usage as Nullable(Int64)) as metered_calls_without_usage,
        cast(implied_sampling_ratio as Nullable(Float64)) as implied_sampling_ratio,
        cast(billed_input_tokens as Nullable(Int64)) as billed_input_tokens,
        cast(billed_output_tokens as Nullable(Int64)) as billed_output_tokens,
        cast(billed_requests as Nullable(Int64)) as billed_requests,

        ---------- booleans
        cast(cost_complete as Bool) as cost_complete,

        ---------- strings
        cast(
            multiIf(
                metric_status = 'mismatch'
                and implied_sampling_ratio is not null
                and abs(metered_observed_input / metric_input_tokens - implied_sampling_ratio)
                <= {{ var('reconciliation_tolerance') }}
                + {{ var('sampling_ratio_tolerance') }} * implied_sampling_ratio,
                'sampled',
                metric_status
            ) as LowCardinality(String)
        ) as reconciliation_status,
        cast(billing_status as LowCardinality(String)) as billing_reconciliation_status

    from reconciled

)

select * from final
