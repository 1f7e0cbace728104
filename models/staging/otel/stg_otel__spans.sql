{#- One row per span delivery, with the core LLM attributes coalesced across
    instrumentations. Duplicate deliveries are kept here; deduplication is a
    downstream step. Token counts that are present but not valid counts, a
    duration whose end precedes its start and finish reasons that are not a
    JSON array of strings are NULL, and named in invalid_fields for
    fct_data_quality_issues. -#}
{%- set token_fields = [
    'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens',
    'reasoning_tokens', 'total_tokens',
] -%}
{#- Strings with few distinct values (scopes, providers, operations, models,
    keys, teams, tools, finish reasons, error types) are LowCardinality: the
    tables built from these rows write and read them at a fraction of the
    cost of plain strings. Ids, users, sessions and messages stay String. -#}
with

source as (

    -- _part and _block_number: the raw part a row is in and the insert
    -- (block) that delivered it, how runs find the rows delivered since
    -- the last one (new_deliveries).
    select
        *,
        _part as raw_part,
        _block_number as raw_block
    from {{ source('otel', 'otel_traces') }}

),

renamed as (

    select
        ---------- ids
        SpanId as span_id,
        TraceId as trace_id,
        nullIf(ParentSpanId, '') as parent_span_id,

        ---------- strings
        SpanName as span_name,
        SpanKind as span_kind,
        ServiceName as service_name,
        toLowCardinality(ScopeName) as scope_name,
        toLowCardinality(ScopeVersion) as scope_version,
        StatusCode as status_code,
        nullIf(StatusMessage, '') as status_message,
        toLowCardinality(lower({{ genai_attr('SpanAttributes', 'provider') }})) as provider_raw,
        toLowCardinality({{ genai_attr('SpanAttributes', 'operation') }}) as operation_raw,
        toLowCardinality({{ genai_attr('SpanAttributes', 'request_model') }}) as request_model,
        toLowCardinality({{ genai_attr('SpanAttributes', 'response_model') }}) as response_model,
        {{ genai_attr('SpanAttributes', 'conversation_id') }} as conversation_id,
        {{ genai_attr('SpanAttributes', 'session_id') }} as session_id,
        {{ genai_attr('SpanAttributes', 'user_id') }} as user_id,
        toLowCardinality({{ genai_attr('SpanAttributes', 'api_key') }}) as api_key,
        toLowCardinality({{ genai_attr('SpanAttributes', 'team') }}) as team,
        toLowCardinality({{ genai_attr('SpanAttributes', 'tool_name') }}) as tool_name,
        toLowCardinality(nullIf(SpanAttributes['mcp.method.name'], '')) as mcp_method,
        toLowCardinality(coalesce(
            if(
                {{ is_json_string_array("SpanAttributes['gen_ai.response.finish_reasons']") }},
                nullIf(JSONExtractString(SpanAttributes['gen_ai.response.finish_reasons'], 1), ''),
                null
            ),
            {{ genai_attr('SpanAttributes', 'finish_reason') }}
        )) as finish_reason_raw,
        toLowCardinality({{ genai_attr('SpanAttributes', 'error_type') }}) as error_type,

        ---------- numerics
        {{ genai_attr_int('SpanAttributes', 'input_tokens') }} as input_tokens,
        {{ genai_attr_int('SpanAttributes', 'output_tokens') }} as output_tokens,
        {{ genai_attr_int('SpanAttributes', 'cache_read_tokens') }} as cache_read_tokens,
        {{ genai_attr_int('SpanAttributes', 'cache_write_tokens') }} as cache_write_tokens,
        {{ genai_attr_int('SpanAttributes', 'reasoning_tokens') }} as reasoning_tokens,
        {{ genai_attr_int('SpanAttributes', 'total_tokens') }} as total_tokens,
        arrayConcat(
            {{ genai_invalid_int_fields('SpanAttributes', token_fields) }},
            if({{ span_ends_before_start('Duration') }}, ['duration'], []),
            if(
                SpanAttributes['gen_ai.response.finish_reasons'] != ''
                and not {{ is_json_string_array("SpanAttributes['gen_ai.response.finish_reasons']") }},
                ['finish_reasons'], []
            )
        ) as invalid_fields,
        {{ genai_attr_float('SpanAttributes', 'reported_cost_usd') }} as reported_cost_usd,
        if({{ span_ends_before_start('Duration') }}, null, Duration / 1e6) as duration_ms,
        {{ genai_attr_float('SpanAttributes', 'ttft_seconds') }} * 1000 as ttft_ms,

        ---------- booleans
        cast(StatusCode = 'Error' as Bool) as is_error,
        cast(coalesce({{ genai_attr_bool('SpanAttributes', 'streaming') }}, false) as Bool) as is_streaming,

        ---------- delivery
        raw_part,
        raw_block,

        ---------- timestamps
        Timestamp as started_at,
        toDate(Timestamp) as span_date,

        ---------- maps
        SpanAttributes as span_attributes,
        ResourceAttributes as resource_attributes

    from source

)

select * from renamed
