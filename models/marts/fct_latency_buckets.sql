{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='bucket_date',
        order_by='(bucket_date, granularity, dimension, dimension_value, bucket_start)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook=["{{ drop_days_left_without_calls() }}", "{{ commit_watermarks() }}"],
    )
}}

{#- One row per UTC day or hour, dimension (model family or service) and
    value: the calls, their exact median latency and a latency histogram. A
    median does not add up over hours or services, so fct_usage_anomalies
    reads it here instead of from the calls (its summable series come from
    fct_usage_hourly). The histogram does add up: its bucket bounds are
    powers of latency_histogram_growth, the same in every row, so any
    percentile over any set of rows is one sumMap away (see
    queries/latency_percentiles_by_model.sql). An incremental run
    rebuilds every day a touched trace has a span on, as fct_usage_hourly
    does. -#}
{%- set growth = var('latency_histogram_growth') | float %}

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

calls_by_series as (

    -- Every call once per granularity and once per dimension.
    select
        call_date,
        duration_ms,
        -- The smallest power of the growth factor at or above the duration:
        -- bound / growth < duration_ms <= bound.
        if(
            duration_ms > 0,
            pow({{ growth }}, ceil(log(assumeNotNull(duration_ms)) / log({{ growth }}))),
            0
        ) as duration_bound_ms,
        arrayJoin([('day', toStartOfDay(started_at)), ('hour', toStartOfHour(started_at))]) as bucket,
        arrayJoin([('model', coalesce(model_family, '')), ('service', toString(service_name))]) as dimension_key
    from calls

),

latencies as (

    select
        call_date,
        tupleElement(bucket, 1) as granularity,
        tupleElement(dimension_key, 1) as dimension,
        tupleElement(dimension_key, 2) as dimension_value,
        tupleElement(bucket, 2) as bucket_start,
        count() as call_count,
        quantileExactInclusive(0.5)(duration_ms) as duration_ms_p50,  -- noqa: LT01
        -- The array form: sumMap over Map columns takes no Float64 keys.
        sumMapIf(
            [duration_bound_ms], [toUInt64(1)], duration_ms is not null
        ) as bounds_and_calls
    from calls_by_series
    where tupleElement(dimension_key, 2) != ''
    group by call_date, granularity, dimension, dimension_value, bucket_start

),

final as (

    select
        ---------- ids
        cast(call_date as Date) as bucket_date,
        cast(granularity as LowCardinality(String)) as granularity,
        cast(dimension as LowCardinality(String)) as dimension,
        cast(dimension_value as String) as dimension_value,
        cast(bucket_start as DateTime) as bucket_start,

        ---------- numerics
        cast(call_count as UInt64) as calls,
        cast(duration_ms_p50 as Nullable(Float64)) as duration_ms_p50,
        cast(
            mapFromArrays(bounds_and_calls.1, bounds_and_calls.2) as Map(Float64, UInt64)
        ) as duration_ms_histogram

    from latencies

)

select * from final
