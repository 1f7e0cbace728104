{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='metric_date',
        order_by='(metric_date, service_name)',
        pre_hook=["{{ reset_watermarks() }}", "{{ snapshot_watermarks(['stg_otel__metrics_histogram']) }}"],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- gen_ai.client.token.usage histograms summed per UTC day, service,
    provider and model family. Delta points are increments already;
    cumulative points become increments against the previous point of the
    same series (a new start time means the series restarted); a cumulative
    point without a known increment (see is_known_increment) counts nothing,
    never its whole running total. A point the
    collector delivered twice (same series, time and start time) counts
    once: deduplicated here, the one place metric points are, before delta
    points are summed or cumulative ones differenced. An incremental run
    rebuilds the days that received points and the day after each (a late
    point is the predecessor of the next day's first point), reading one day
    more so each rebuilt day's first cumulative points find theirs. -#}
with

points as (

    select * from {{ ref('stg_otel__metrics_histogram') }}
    where
        metric_name = 'gen_ai.client.token.usage'
        {% if is_incremental() %}
            and point_date in ({{ changed_days('stg_otel__metrics_histogram', before=1, after=1) }})
        {% endif %}

),

deduplicated as (

    select *
    from points
    order by series_id, point_time, start_time
    limit 1 by series_id, point_time, start_time

),

increments as (

    select
        point_date,
        service_name,
        {{ normalise_provider('provider_raw') }} as provider,
        {{ canonical_model('coalesce(response_model, request_model)') }} as model,
        token_type,
        multiIf(
            aggregation_temporality != 2, point_sum,
            lagInFrame(start_time) over series = start_time
            and lagInFrame(point_time) over series > toDateTime(0),
            point_sum - lagInFrame(point_sum) over series,
            point_sum
        ) as tokens,
        multiIf(
            aggregation_temporality != 2, toInt64(point_count),
            lagInFrame(start_time) over series = start_time
            and lagInFrame(point_time) over series > toDateTime(0),
            toInt64(point_count) - toInt64(lagInFrame(point_count) over series),
            toInt64(point_count)
        ) as calls,
        -- A cumulative point's increment is known against the series' previous
        -- point on its day or the day before (what an incremental run reads),
        -- or, without one, when the series (re)started no earlier than the day
        -- before. Otherwise its running total holds tokens from before what
        -- the warehouse has (a service up before its telemetry arrived, raw
        -- days expired, a gap of days) and it is a baseline, not an increment.
        multiIf(
            aggregation_temporality != 2, true,
            lagInFrame(start_time) over series = start_time
            and lagInFrame(point_date) over series >= point_date - 1, true,
            start_time >= toDateTime(point_date - 1, 'UTC')
        ) as is_known_increment
    from deduplicated
    window series as (
        partition by series_id order by point_time
        rows between unbounded preceding and current row
    )

),

daily as (

    select
        point_date as metric_date,
        service_name,
        provider,
        model,
        sumIf(tokens, token_type = 'input') as metric_input_tokens,
        sumIf(tokens, token_type = 'output') as metric_output_tokens,
        sumIf(calls, token_type = 'input') as metric_calls
    from increments
    where
        is_known_increment
        {% if is_incremental() %}
            and point_date in ({{ changed_days('stg_otel__metrics_histogram', after=1) }})
        {% endif %}
    group by metric_date, service_name, provider, model

)

select * from daily
