{#- One row per log record. LibreChat token logs carry their fields in
    LogAttributes when the collector's json_parser ran; the raw form only has
    the conversation id inside the message text. -#}
with

source as (

    select * from {{ source('otel', 'otel_logs') }}

),

renamed as (

    select
        ---------- ids
        nullIf(TraceId, '') as trace_id,
        nullIf(SpanId, '') as span_id,
        coalesce(
            {{ genai_attr('LogAttributes', 'conversation_id') }},
            nullIf(extract(Body, 'conversationId[\\s:="\']+([0-9A-Za-z_-]{8,})'), '')
        ) as conversation_id,
        {{ genai_attr('LogAttributes', 'user_id') }} as user_id,

        ---------- strings
        ServiceName as service_name,
        SeverityText as severity_text,
        coalesce(nullIf(EventName, ''), nullIf(LogAttributes['event.name'], '')) as event_name,
        {{ genai_attr('LogAttributes', 'request_model') }} as request_model,
        Body as body,

        ---------- numerics
        SeverityNumber as severity_number,
        {{ genai_attr_int('LogAttributes', 'input_tokens') }} as prompt_tokens,
        {{ genai_attr_int('LogAttributes', 'output_tokens') }} as completion_tokens,
        {{ genai_attr_int('LogAttributes', 'total_tokens') }} as token_count,

        ---------- timestamps
        Timestamp as logged_at,
        toDate(Timestamp) as log_date,

        ---------- maps
        LogAttributes as log_attributes,
        ResourceAttributes as resource_attributes

    from source

)

select * from renamed
