{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        meta={'delete_scope': 'trace_delete_scope'},
        partition_by='trace_date',
        order_by='(trace_date, root_service_name, trace_id)',
        query_settings={
            'min_insert_block_size_rows': 262144,
            'min_insert_block_size_bytes': 67108864,
        },
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per trace: its shape, its LLM and tool work, and its span token
    usage reconciled against the application's own token logs. An
    incremental run rebuilds the traces touched in its window from all their
    spans, so a trace crossing midnight or arriving over two runs keeps one
    row.
    Its insert gathers quarter-size blocks: at 10M spans it is the build's
    largest statement, and with the default 1M-row blocks held next to its
    join tables the build peaked at 4.0 GB instead of 3.4 GB
    (bench/README.md). -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
{% if is_incremental() %}
    touched as (

        {{ touched_traces() }}

    ),
{% endif %}

spans as (

    select * from {{ ref('int_spans_deduplicated') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

calls as (

    select * from {{ ref('fct_llm_calls') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('call_date') }}
    {% endif %}

),

tool_calls as (

    select * from {{ ref('int_tool_calls_classified') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

token_logs as (

    select * from {{ ref('int_app_token_logs_deduplicated') }}
    {% if is_incremental() %}
        where trace_id in (select trace_id from touched)
    {% endif %}

),

trace_conversations as (

    select * from {{ ref('int_traces_linked_to_conversations') }}
    {% if is_incremental() %}
        where trace_id in (select trace_id from touched)
    {% endif %}

),

span_rollup as (

    select
        trace_id,
        -- Qualified names: an alias shadows its column inside the same select.
        min(spans.started_at) as started_at,
        -- A span whose duration is unknown (NULL) ends, as far as is known, at its start.
        max(spans.started_at + toIntervalNanosecond(toInt64(coalesce(spans.duration_ms, 0) * 1e6))) as ended_at,
        argMinIf(spans.service_name, spans.started_at, spans.parent_span_id is null) as root_service_name,
        argMinIf(spans.span_name, spans.started_at, spans.parent_span_id is null) as root_span_name,
        countIf(is_error) as error_spans
    from spans
    group by trace_id

),

call_rollup as (

    select
        trace_id,
        count() as llm_calls,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        countIf(not is_priced) as unpriced_calls,
        {{ completeness_rollup() }},
        arraySort(groupUniqArray(model_id)) as model_ids,
        sum(duration_ms) as llm_time_ms,
        -- Tokens the spans themselves reported, for reconciliation.
        {{ span_usage_rollup() }}
    from calls
    group by trace_id

),

tool_rollup as (

    select
        trace_id,
        count() as tool_calls,
        sum(duration_ms) as tool_time_ms
    from tool_calls
    group by trace_id

),

log_rollup as (

    select
        trace_id,
        sum(prompt_tokens) as app_prompt_tokens,
        sum(completion_tokens) as app_completion_tokens
    from token_logs
    where trace_id is not null
    group by trace_id

),

joined as (

    select
        span_rollup.* except (trace_id),
        span_rollup.trace_id as trace_id,
        trace_conversations.conversation_id as conversation_id,
        trace_conversations.user_id as user_id,
        coalesce(call_rollup.llm_calls, 0) as llm_calls,
        coalesce(tool_rollup.tool_calls, 0) as tool_calls,
        call_rollup.input_tokens as input_tokens,
        call_rollup.output_tokens as output_tokens,
        call_rollup.total_tokens as total_tokens,
        call_rollup.cost_usd as cost_usd,
        coalesce(call_rollup.unpriced_calls, 0) as unpriced_calls,
        coalesce(call_rollup.calls_without_usage, 0) as calls_without_usage,
        coalesce(call_rollup.cost_complete, true) as cost_complete,
        coalesce(call_rollup.model_ids, []) as model_ids,
        -- 0 without calls; NULL when the trace has calls but none of known duration.
        if(coalesce(call_rollup.llm_calls, 0) = 0, 0, call_rollup.llm_time_ms) as llm_time_ms,
        if(coalesce(tool_rollup.tool_calls, 0) = 0, 0, tool_rollup.tool_time_ms) as tool_time_ms,
        log_rollup.app_prompt_tokens as app_prompt_tokens,
        log_rollup.app_completion_tokens as app_completion_tokens,
        {{ complete_span_usage('call_rollup', 'span_input_tokens') }} as span_input_tokens,
        {{ complete_span_usage('call_rollup', 'span_output_tokens') }} as span_output_tokens,
        log_rollup.app_prompt_tokens is not null
        or log_rollup.app_completion_tokens is not null as has_app_logs
    from span_rollup
    left join call_rollup using (trace_id)
    left join tool_rollup using (trace_id)
    left join log_rollup using (trace_id)
    left join trace_conversations using (trace_id)
    settings join_use_nulls = 1

),

reconciled as (

    select
        *,
        {{ combined_reconciliation_status(
            'span_input_tokens', 'app_prompt_tokens',
            'span_output_tokens', 'app_completion_tokens', 'has_app_logs'
        ) }} as reconciliation_status
    from joined

),

final as (

    select
        ---------- ids
        cast(trace_id as String) as trace_id,
        cast(conversation_id as Nullable(String)) as conversation_id,
        cast(user_id as Nullable(String)) as user_id,

        ---------- strings
        cast(coalesce(root_service_name, '') as LowCardinality(String)) as root_service_name,
        cast(coalesce(root_span_name, '') as String) as root_span_name,
        cast(model_ids as Array(String)) as model_ids,
        cast(reconciliation_status as LowCardinality(String)) as reconciliation_status,

        ---------- numerics
        cast(llm_calls as UInt64) as llm_calls,
        cast(tool_calls as UInt64) as tool_calls,
        cast(error_spans as UInt64) as error_spans,
        cast(input_tokens as Nullable(Int64)) as input_tokens,
        cast(output_tokens as Nullable(Int64)) as output_tokens,
        cast(total_tokens as Nullable(Int64)) as total_tokens,
        cast(cost_usd as Nullable(Float64)) as cost_usd,
        cast(unpriced_calls as UInt64) as unpriced_calls,
        cast(calls_without_usage as UInt64) as calls_without_usage,
        cast(dateDiff('nanosecond', started_at, ended_at) / 1e6 as Float64) as duration_ms,
        cast(llm_time_ms as Nullable(Float64)) as llm_time_ms,
        cast(tool_time_ms as Nullable(Float64)) as tool_time_ms,
        cast(span_input_tokens as Nullable(Int64)) as span_input_tokens,
        cast(span_output_tokens as Nullable(Int64)) as span_output_tokens,
        cast(app_prompt_tokens as Nullable(Int64)) as app_prompt_tokens,
        cast(app_completion_tokens as Nullable(Int64)) as app_completion_tokens,

        ---------- booleans
        cast(cost_complete as Bool) as cost_complete,

        ---------- dates and timestamps
        cast(toDate(started_at) as Date) as trace_date,
        cast(started_at as DateTime64(9)) as started_at,
        cast(ended_at as DateTime64(9)) as ended_at

    from reconciled

)

select * from final
