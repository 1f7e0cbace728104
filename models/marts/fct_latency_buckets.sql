{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='bucket_date',
        order_by='(bucket_date, granularity, dimension, dimension_value, bucket_start)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
        ],
        post_hook=["{{ drop_days_left_without_calls() }}", "{{ commit_watermarks() }}"],
    )
}}

{#- One row per UTC day or hour, dimension (model family or service) and
    value: the calls and their exact median latency. A median does not add
    up over hours or services, so fct_usage_anomalies reads it here instead
    of from the calls (its summable series come from fct_usage_hourly). An
    incremental run rebuilds every day a touched trace has a span on, as
    fct_usage_hourly does. -#}
with

-- depends_on: {{ ref('int_spans_deduplicated') }}, {{ ref('stg_otel__logs') }}
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
        arrayJoin([('day', toStartOfDay(started_at)), ('hour', toStartOfHour(started_at))]) as bucket,
        arrayJoin([('model', coalesce(model_family, '')), ('service', toString(service_name))]) as dimension_key
    from calls

),

medians as (

    select
        call_date,
        tupleElement(bucket, 1) as granularity,
        tupleElement(dimension_key, 1) as dimension,
        tupleElement(dimension_key, 2) as dimension_value,
        tupleElement(bucket, 2) as bucket_start,
        count() as call_count,
        quantileExactInclusive(0.5)(duration_ms) as duration_ms_p50  -- noqa: LT01
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
        cast(duration_ms_p50 as Nullable(Float64)) as duration_ms_p50

    from medians

)

select * from final
