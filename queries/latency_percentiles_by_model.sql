-- Latency percentiles per model family over the last 7 days, from the
-- histograms of llm.fct_latency_buckets: a few hundred rows instead of every
-- call, so it stays fast on any history. Each percentile is the bound of the
-- histogram bucket holding it, at most (latency_histogram_growth - 1) above
-- the exact value, 1% with the default. Exact percentiles: quantileExact over
-- llm.fct_llm_calls.duration_ms. The same works per service (dimension =
-- 'service') and per hour (granularity = 'hour').
--
-- clickhouse-client --queries-file queries/latency_percentiles_by_model.sql
-- llmwh sql - < queries/latency_percentiles_by_model.sql
with

histograms as (

    select
        dimension_value as model_family,
        sum(calls) as calls,
        -- (bounds, calls) summed over the days; sumMap takes no Map with
        -- Float64 keys, so the histograms go in as two arrays.
        sumMap(
            mapKeys(duration_ms_histogram), mapValues(duration_ms_histogram)
        ) as histogram
    from llm.fct_latency_buckets
    where
        granularity = 'day'
        and dimension = 'model'
        and bucket_date >= today() - 6
    group by model_family

),

percentiles as (

    select
        model_family,
        calls,
        -- NULL, not 0, for a model none of whose calls has a duration.
        if(
            empty(histogram.1),
            null,
            arrayReduce(
                'quantilesExactWeighted(0.5, 0.95, 0.99)',
                histogram.1,
                histogram.2
            )
        ) as duration_ms_quantiles
    from histograms

)

select
    model_family,
    calls,
    duration_ms_quantiles[1] as p50_ms,
    duration_ms_quantiles[2] as p95_ms,
    duration_ms_quantiles[3] as p99_ms
from percentiles
order by p95_ms desc, model_family asc;
