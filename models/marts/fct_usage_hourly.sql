{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='call_date',
        order_by='(call_date, call_hour, service_name, provider, model_family)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook=["{{ drop_days_left_without_calls() }}", "{{ commit_watermarks() }}"],
    )
}}

{#- One row per UTC hour, service, provider and model family: the summable
    usage a per-hour dashboard charts (calls, errors, tokens, cost and how
    complete they are), so it never scans fct_llm_calls. Ordered by what
    dashboards filter on: the time range, then the service. An incremental
    run rebuilds every day a touched trace has a span on, as fct_model_daily
    does (a late child can move a call off a day). -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
{% if is_incremental() %}
    rebuilt_days as (

        {{ touched_trace_days() }}

    ),
{% endif %}

calls as (

    select * from {{ ref('fct_llm_calls') }}
    {% if is_incremental() %}
        where call_date in (select call_date from rebuilt_days)
    {% endif %}

),

hourly as (

    select
        call_date,
        toStartOfHour(started_at, 'UTC') as call_hour,
        service_name,
        coalesce(provider, '') as provider,
        coalesce(model_family, '') as model_family,
        count() as call_count,
        countIf(calls.is_error) as error_calls,
        -- sum() over only NULLs is NULL: unknown usage stays unknown.
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_tokens) as cache_write_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        countIf(not is_priced) as unpriced_calls,
        countIf(not calls.is_priced and not calls.is_error) as unpriced_successful_calls,
        {{ completeness_rollup() }}
    from calls
    group by call_date, call_hour, service_name, provider, model_family

),

final as (

    select
        ---------- ids
        cast(call_date as Date) as call_date,
        cast(call_hour as DateTime('UTC')) as call_hour,
        cast(service_name as LowCardinality(String)) as service_name,
        cast(provider as LowCardinality(String)) as provider,
        cast(model_family as String) as model_family,

        ---------- numerics
        cast(call_count as UInt64) as calls,
        cast(error_calls as UInt64) as error_calls,
        cast(input_tokens as Nullable(Int64)) as input_tokens,
        cast(output_tokens as Nullable(Int64)) as output_tokens,
        cast(cache_read_tokens as Nullable(Int64)) as cache_read_tokens,
        cast(cache_write_tokens as Nullable(Int64)) as cache_write_tokens,
        cast(reasoning_tokens as Nullable(Int64)) as reasoning_tokens,
        cast(total_tokens as Nullable(Int64)) as total_tokens,
        cast(cost_usd as Nullable(Float64)) as cost_usd,
        cast(unpriced_calls as UInt64) as unpriced_calls,
        cast(unpriced_successful_calls as UInt64) as unpriced_successful_calls,
        cast(calls_without_usage as UInt64) as calls_without_usage,

        ---------- booleans
        cast(cost_complete as Bool) as cost_complete

    from hourly

)

select * from final
