{#- One row per histogram data point, with the GenAI metric attributes
    (gen_ai.client.token.usage, gen_ai.client.operation.duration, TTFT). -#}
with

source as (

    select * from {{ source('otel', 'otel_metrics_histogram') }}

),

renamed as (

    select
        ---------- ids
        ServiceName as service_name,
        MetricName as metric_name,
        cityHash64(ServiceName, MetricName, Attributes, ResourceAttributes) as series_id,

        ---------- strings
        MetricUnit as metric_unit,
        lower({{ genai_attr('Attributes', 'provider') }}) as provider_raw,
        {{ genai_attr('Attributes', 'operation') }} as operation_raw,
        {{ genai_attr('Attributes', 'request_model') }} as request_model,
        {{ genai_attr('Attributes', 'response_model') }} as response_model,
        nullIf(Attributes['gen_ai.token.type'], '') as token_type,
        {{ genai_attr('Attributes', 'error_type') }} as error_type,

        ---------- numerics
        Count as point_count,
        Sum as point_sum,
        AggregationTemporality as aggregation_temporality,

        ---------- timestamps
        StartTimeUnix as start_time,
        TimeUnix as point_time,
        toDate(TimeUnix) as point_date,

        ---------- maps
        Attributes as attributes

    from source

)

select * from renamed
