-- Token verification: LibreChat's own token logs next to the warehouse, per
-- conversation and per trace, over the last 7 whole UTC days (and today).
--
-- LibreChat logs each billed LLM call as
--   [spendTokens] conversationId: <id> | Context: <ctx> | Token usage:
-- with promptTokens and completionTokens, and cache-aware providers as
--   [spendStructuredTokens] ... with promptTokens = {input, write, read}
-- (uncached, cache-write and cache-read prompt tokens: the prompt is their
-- sum). tokenCount is summed as logged ([BaseClient] userMessage records carry
-- it for the user message alone). With the collector's JSON parser
-- (dashboards/clickstack/otel-collector.yaml) these fields are LogAttributes;
-- from raw text lines they are parsed out of Body here. The conversationId
-- exists only inside the message text, so it is extracted from Body as well.
-- A record the collector delivered twice counts once.
--
-- Columns log_* come from otel.otel_logs; span_* and mart_* from fct_traces
-- (level = trace) or fct_conversations (level = conversation). log_prompt_tokens
-- should equal mart_app_prompt_tokens, and span_input_tokens where the spans
-- report usage; reconciliation_status says how the warehouse judged it.
--
-- clickhouse-client --queries-file queries/token_verification.sql
-- llmwh sql - < queries/token_verification.sql
with

token_logs as (

    select
        TraceId as trace_id,
        coalesce(
            nullIf(LogAttributes['conversationId'], ''),
            nullIf(extract(Body, 'conversationId[\\s:="\']+([0-9A-Za-z_-]{8,})'), '')
        ) as conversation_id,
        coalesce(
            nullIf(LogAttributes['promptTokens'], ''),
            nullIf(extract(Body, '"promptTokens"\\s*:\\s*(\\{[^}]*\\}|\\d+)'), '')
        ) as prompt_text,
        JSONType(coalesce(prompt_text, '')) = 'Object' as is_structured,
        if(
            is_structured,
            JSONExtractInt(prompt_text, 'input') + JSONExtractInt(prompt_text, 'write')
            + JSONExtractInt(prompt_text, 'read'),
            toInt64OrNull(prompt_text)
        ) as prompt_tokens,
        if(is_structured, JSONExtractInt(prompt_text, 'read'), null) as cache_read_tokens,
        if(is_structured, JSONExtractInt(prompt_text, 'write'), null) as cache_write_tokens,
        coalesce(
            toInt64OrNull(nullIf(LogAttributes['completionTokens'], '')),
            toInt64OrNull(extract(Body, '"completionTokens"\\s*:\\s*(\\d+)'))
        ) as completion_tokens,
        coalesce(
            toInt64OrNull(nullIf(LogAttributes['tokenCount'], '')),
            toInt64OrNull(extract(Body, '"tokenCount"\\s*:\\s*(\\d+)'))
        ) as token_count
    from otel.otel_logs
    where
        -- Whole UTC days, as the marts count them: a conversation is not cut mid-day.
        Timestamp >= toDateTime(today() - 7)
        and (
            mapContains(LogAttributes, 'promptTokens')
            or mapContains(LogAttributes, 'tokenCount')
            or Body like '%promptTokens%'
            or Body like '%tokenCount%'
        )
    -- collector retries deliver identical records: keep one of each
    limit 1 by cityHash64(Timestamp, TraceId, SpanId, ServiceName, Body, LogAttributes)  -- noqa: PRS, AM09

),

per_trace as (

    select
        conversation_id,
        trace_id,
        count() as log_records,
        countIf(is_structured) as structured_records,
        sum(prompt_tokens) as log_prompt_tokens,
        sum(cache_read_tokens) as log_cache_read_tokens,
        sum(cache_write_tokens) as log_cache_write_tokens,
        sum(completion_tokens) as log_completion_tokens,
        sum(token_count) as log_token_count
    from token_logs
    where conversation_id is not null
    group by conversation_id, trace_id

),

per_conversation as (

    select
        conversation_id,
        sum(log_records) as log_records,
        sum(structured_records) as structured_records,
        sum(log_prompt_tokens) as log_prompt_tokens,
        sum(log_cache_read_tokens) as log_cache_read_tokens,
        sum(log_cache_write_tokens) as log_cache_write_tokens,
        sum(log_completion_tokens) as log_completion_tokens,
        sum(log_token_count) as log_token_count
    from per_trace
    group by conversation_id

),

side_by_side as (

    select
        'conversation' as level,
        per_conversation.conversation_id as conversation_id,
        '' as trace_id,
        per_conversation.log_records as log_records,
        per_conversation.structured_records as structured_records,
        per_conversation.log_prompt_tokens as log_prompt_tokens,
        per_conversation.log_cache_read_tokens as log_cache_read_tokens,
        per_conversation.log_cache_write_tokens as log_cache_write_tokens,
        per_conversation.log_completion_tokens as log_completion_tokens,
        per_conversation.log_token_count as log_token_count,
        conversations.app_prompt_tokens as mart_app_prompt_tokens,
        conversations.app_completion_tokens as mart_app_completion_tokens,
        conversations.input_tokens as span_input_tokens,
        conversations.output_tokens as span_output_tokens,
        conversations.reconciliation_status as reconciliation_status
    from per_conversation
    left join llm.fct_conversations as conversations
        on per_conversation.conversation_id = conversations.conversation_id

    union all

    select
        'trace' as level,
        per_trace.conversation_id as conversation_id,
        per_trace.trace_id as trace_id,
        per_trace.log_records as log_records,
        per_trace.structured_records as structured_records,
        per_trace.log_prompt_tokens as log_prompt_tokens,
        per_trace.log_cache_read_tokens as log_cache_read_tokens,
        per_trace.log_cache_write_tokens as log_cache_write_tokens,
        per_trace.log_completion_tokens as log_completion_tokens,
        per_trace.log_token_count as log_token_count,
        traces.app_prompt_tokens as mart_app_prompt_tokens,
        traces.app_completion_tokens as mart_app_completion_tokens,
        traces.input_tokens as span_input_tokens,
        traces.output_tokens as span_output_tokens,
        traces.reconciliation_status as reconciliation_status
    from per_trace
    left join llm.fct_traces as traces on per_trace.trace_id = traces.trace_id

)

select
    *,
    log_prompt_tokens - mart_app_prompt_tokens as prompt_diff_vs_mart,
    log_prompt_tokens - span_input_tokens as prompt_diff_vs_spans
from side_by_side
order by conversation_id, level = 'trace', trace_id
limit 500
settings join_use_nulls = 1;
