{#- One row per anomalous point: a day or an hour of one model family or
    service whose cost, tokens, error rate or median latency stands out from
    its trailing baseline (median and MAD of the same series over the
    previous anomaly_baseline_days days; hourly points are compared with the
    same hour of those days). Rebuilt every run (a table of small
    aggregates) from rollups, never from the calls: the summable series
    from fct_usage_hourly, the median latencies from fct_latency_buckets. -#}
{%- set point_key = 'granularity, dimension, dimension_value, bucket_start' %}
with

hourly as (

    select * from {{ ref('fct_usage_hourly') }}

),

latencies as (

    select * from {{ ref('fct_latency_buckets') }}

),

hours_by_series as (

    -- Every rollup row once per granularity and once per dimension.
    select
        calls,
        error_calls,
        cost_usd,
        total_tokens,
        -- Typed as the calls' started_at (DateTime of the session's zone, UTC), not DateTime('UTC').
        toDateTime(toUnixTimestamp(call_hour)) as hour_start,
        arrayJoin([('day', toStartOfDay(hour_start)), ('hour', hour_start)]) as bucket,
        arrayJoin([('model', model_family), ('service', toString(service_name))]) as dimension_key
    from hourly

),

sums as (

    select
        tupleElement(bucket, 1) as granularity,
        tupleElement(dimension_key, 1) as dimension,
        tupleElement(dimension_key, 2) as dimension_value,
        tupleElement(bucket, 2) as bucket_start,
        sum(calls) as calls,
        sum(error_calls) as error_calls,
        -- A sum over only NULLs is NULL: no priced call means 0 cost, as before the rollup.
        coalesce(sum(cost_usd), 0) as cost_usd,
        coalesce(sum(total_tokens), 0) as total_tokens
    from hours_by_series
    where tupleElement(dimension_key, 2) != ''
    group by {{ point_key }}

),

buckets as (

    select
        sums.*,
        latencies.duration_ms_p50 as duration_ms_p50
    from sums
    left join latencies using ({{ point_key }})
    settings join_use_nulls = 1

),

series as (

    -- The series and the first and last bucket of their granularity.
    select
        granularity,
        dimension,
        dimension_value,
        min(min(bucket_start)) over (partition by granularity) as first_bucket,
        max(max(bucket_start)) over (partition by granularity) as last_bucket
    from buckets
    group by granularity, dimension, dimension_value

),

calendar as (

    -- Every bucket of every series: no calls in a bucket means zero cost and tokens.
    select
        granularity,
        dimension,
        dimension_value,
        first_bucket + toIntervalSecond(
            arrayJoin(range(toUInt32(dateDiff('second', first_bucket, last_bucket) / step_seconds) + 1))
            * step_seconds
        ) as bucket_start
    from (
        select
            *,
            if(granularity = 'day', 86400, 3600) as step_seconds
        from series
    ) as series_steps

),

dense as (

    select
        {{ point_key }},
        coalesce(buckets.calls, 0) as calls,
        coalesce(buckets.error_calls, 0) as error_calls,
        coalesce(buckets.cost_usd, 0) as cost_usd,
        coalesce(buckets.total_tokens, 0) as total_tokens,
        buckets.duration_ms_p50 as duration_ms_p50
    from calendar
    left join buckets using ({{ point_key }})
    settings join_use_nulls = 1

),

points as (

    -- One value per metric; rates and latencies only where enough calls were made.
    select
        granularity,
        dimension,
        dimension_value,
        bucket_start,
        calls,
        tupleElement(metric_pair, 1) as metric,
        tupleElement(metric_pair, 2) as metric_value
    from (
        select
            *,
            arrayJoin([
                ('cost_usd', toNullable(toFloat64(cost_usd))),
                ('total_tokens', toNullable(toFloat64(total_tokens))),
                ('error_rate', if(calls >= {{ var('anomaly_min_calls') }}, error_calls / calls, null)),
                ('duration_ms_p50', if(calls >= {{ var('anomaly_min_calls') }}, duration_ms_p50, null))
            ]) as metric_pair
        from dense
    ) as dense_metrics

),

baselines as (

    -- The same series' values over the previous anomaly_baseline_days days
    -- (for hours: the same hour of day), the current point excluded; NULLs
    -- (too few calls) are left out.
    select
        *,
        groupArray(metric_value) over (
            partition by granularity, dimension, dimension_value, metric, toHour(bucket_start)
            order by toRelativeDayNum(bucket_start)
            range between {{ var('anomaly_baseline_days') }} preceding and 1 preceding
        ) as baseline_values
    from points

),

scored as (

    select
        *,
        arrayReduce('quantileExactInclusive(0.5)', baseline_values) as baseline_median,
        arrayReduce(
            'quantileExactInclusive(0.5)', arrayMap(v -> abs(v - baseline_median), baseline_values)
        ) as baseline_mad,
        metric_value - baseline_median as deviation,
        -- Robust z: deviation over the MAD scaled to a normal sigma; NULL when the MAD is 0.
        deviation / nullIf(1.4826 * baseline_mad, 0) as robust_z
    from baselines
    where
        metric_value is not null
        and length(baseline_values) >= {{ var('anomaly_min_baseline_points') }}

),

flagged as (

    select *
    from scored
    where
        deviation >= multiIf(
            metric = 'cost_usd', {{ var('anomaly_min_deviation_cost_usd') }},
            metric = 'total_tokens', {{ var('anomaly_min_deviation_total_tokens') }},
            metric = 'error_rate', {{ var('anomaly_min_deviation_error_rate') }},
            {{ var('anomaly_min_deviation_duration_ms_p50') }}
        )
        and deviation >= {{ var('anomaly_min_relative_deviation') }} * abs(baseline_median)
        and (robust_z is null or robust_z >= {{ var('anomaly_z_threshold') }})

),

final as (

    select
        ---------- ids
        cast(cityHash64(granularity, dimension, dimension_value, metric, bucket_start) as UInt64) as anomaly_id,

        ---------- strings
        cast(granularity as LowCardinality(String)) as granularity,
        cast(dimension as LowCardinality(String)) as dimension,
        cast(dimension_value as String) as dimension_value,
        cast(metric as LowCardinality(String)) as metric,

        ---------- numerics
        cast(metric_value as Float64) as metric_value,
        cast(baseline_median as Float64) as baseline_median,
        cast(baseline_mad as Float64) as baseline_mad,
        cast(robust_z as Nullable(Float64)) as robust_z,
        cast(deviation as Float64) as deviation,
        cast(deviation / nullIf(abs(baseline_median), 0) as Nullable(Float64)) as relative_deviation,
        cast(length(baseline_values) as UInt16) as baseline_points,
        cast(calls as UInt64) as calls,

        ---------- dates and timestamps
        cast(toDate(bucket_start) as Date) as bucket_date,
        cast(bucket_start as DateTime) as bucket_start

    from flagged

)

select * from final
