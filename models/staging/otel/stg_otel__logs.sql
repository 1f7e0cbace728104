{#- One row per log record. LibreChat token logs carry their fields in
    LogAttributes when the collector's json_parser ran; the raw form only has
    the conversation id inside the message text. -#}
with

source as (

    -- _part and _block_number: the raw part a row is in and the insert
    -- (block) that delivered it, how runs find the rows delivered since
    -- the last one (new_deliveries).
    select
        *,
        _part as raw_part,
        _block_number as raw_block
    from {{ source('otel', 'otel_logs') }}

),

with_prompt_text as (

    -- LibreChat's promptTokens as text: the parsed attribute, else the JSON
    -- tail of the unparsed log line. The structured form is an object
    -- {input, write, read} whose sum is the prompt.
    select
        *,
        coalesce(
            nullIf(LogAttributes['promptTokens'], ''),
            nullIf(extract(Body, '"promptTokens"\\s*:\\s*(\\{[^}]*\\}|\\d+)'), '')
        ) as prompt_tokens_text,
        nullIf(extract(Body, '"completionTokens"\\s*:\\s*(\\d+)'), '') as completion_tokens_text,
        JSONType(coalesce(prompt_tokens_text, '')) = 'Object' as is_structured_prompt,
        -- The parts of the structured form; an absent write/read part is 0.
        {{ parse_token_count("JSONExtractRaw(prompt_tokens_text, 'input')") }} as prompt_input_part,
        if(
            JSONHas(prompt_tokens_text, 'write'),
            {{ parse_token_count("JSONExtractRaw(prompt_tokens_text, 'write')") }},
            0
        ) as prompt_write_part,
        if(
            JSONHas(prompt_tokens_text, 'read'),
            {{ parse_token_count("JSONExtractRaw(prompt_tokens_text, 'read')") }},
            0
        ) as prompt_read_part
    from source

),

renamed as (

    select
        ---------- ids
        -- Collector retries deliver identical records; this key spots them.
        cityHash64(Timestamp, TraceId, SpanId, ServiceName, Body, LogAttributes) as log_record_id,
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
        coalesce(
            {{ genai_attr_int('LogAttributes', 'input_tokens') }},
            {{ parse_token_count('prompt_tokens_text') }},
            if(
                is_structured_prompt,
                prompt_input_part + prompt_write_part + prompt_read_part,
                null
            )
        ) as prompt_tokens,
        if(is_structured_prompt, prompt_read_part, null) as prompt_cache_read_tokens,
        if(is_structured_prompt, prompt_write_part, null) as prompt_cache_write_tokens,
        coalesce(
            {{ genai_attr_int('LogAttributes', 'output_tokens') }},
            {{ parse_token_count('completion_tokens_text') }}
        ) as completion_tokens,
        {{ genai_attr_int('LogAttributes', 'total_tokens') }} as token_count,
        arrayConcat(
            {{ genai_invalid_int_fields('LogAttributes', ['input_tokens', 'output_tokens', 'total_tokens']) }},
            if(
                prompt_tokens_text is not null
                and if(
                    is_structured_prompt,
                    prompt_input_part is null or prompt_write_part is null or prompt_read_part is null,
                    {{ parse_token_count('prompt_tokens_text') }} is null
                ),
                ['prompt_tokens'], []
            )
        ) as invalid_token_fields,

        ---------- delivery
        raw_part,
        raw_block,

        ---------- timestamps
        Timestamp as logged_at,
        toDate(Timestamp) as log_date,

        ---------- maps
        LogAttributes as log_attributes,
        ResourceAttributes as resource_attributes

    from with_prompt_text

)

select * from renamed
