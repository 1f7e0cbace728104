{#- Collector retries deliver the same span (TraceId + SpanId) more than
    once; keep one delivery so nothing downstream counts it twice. -#}
with

spans as (

    select * from {{ ref('stg_otel__spans') }}

),

deduplicated as (

    select *
    from spans
    order by trace_id, span_id, started_at
    limit 1 by trace_id, span_id

)

select * from deduplicated
