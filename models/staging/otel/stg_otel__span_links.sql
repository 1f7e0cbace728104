{#- One row per span link (a span pointing at another span, possibly in
    another trace): evaluator and judge spans link the span they evaluate.
    Spans without links have no row here. -#}
with

source as (

    select * from {{ source('otel', 'otel_traces') }}

),

renamed as (

    select
        ---------- ids
        TraceId as trace_id,
        SpanId as span_id,
        linked_trace_id,
        linked_span_id,

        ---------- numerics
        link_index,

        ---------- timestamps
        Timestamp as started_at,
        toDate(Timestamp) as span_date,

        ---------- maps
        link_attributes

    from source
    array join
        `Links.TraceId` as linked_trace_id,
        `Links.SpanId` as linked_span_id,
        `Links.Attributes` as link_attributes,
        arrayEnumerate(`Links.TraceId`) as link_index

)

select * from renamed
