{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='conversation_id',
        order_by='(conversation_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per conversation (LibreChat conversationId, gen_ai.conversation.id,
    session ids). Its tokens take the best evidence per turn (trace): the
    spans' usage where every successful call reported it, else the app's
    logged usage for that turn, else the spans' partial usage; usage_evidence
    says which were used. A conversation can span many days: an incremental run
    recomputes the conversations its touched traces and token logs belong to,
    each from all of its calls, traces and logs. Those lie on the days the
    conversation was active when last computed (active_days), on the days
    of the touched traces (a recomputed call or trace is dated by one of its
    trace's spans) or on the days new logs arrived (a token log names its
    conversation itself): only those day partitions are read. -#}
{%- set conversation_days -%}
    (
        select groupUniqArray(day)
        from (
            select arrayJoin(active_days) as day
            from {{ this }}
            where conversation_id in (select touched.conversation_id from touched)
            union all
            select call_date as day from ({{ touched_trace_days() }})
            union all
            select day from ({{ changed_days('stg_otel__logs') }})
        )
    )
{%- endset %}
with

-- depends_on: {{ touched_traces_depends_on() }}
-- depends_on: {{ ref('int_traces_linked_to_conversations') }}
{% if is_incremental() %}
    -- Read six times below; a CTE is run again at each reference, a scalar
    -- subquery once per query, so the ids are computed once as an array.
    touched as (

        select arrayJoin((
            select groupUniqArray(touched_ids.conversation_id)
            from (
                select conversation_id
                from {{ ref('int_traces_linked_to_conversations') }}
                where
                    trace_id in ({{ touched_traces() }})
                    and conversation_id is not null
                union distinct
                -- Logs without a trace id name their conversation only.
                select conversation_id
                from {{ ref('stg_otel__logs') }}
                where
                    {{ new_deliveries('stg_otel__logs', 'log_date') }}
                    and conversation_id is not null
            ) as touched_ids
        )) as conversation_id

    ),
{% endif %}

calls as (

    select * from {{ ref('fct_llm_calls') }}
    where
        conversation_id is not null
        {% if is_incremental() %}
            and has({{ conversation_days }}, call_date)
            and conversation_id in (select conversation_id from touched)
        {% endif %}

),

traces as (

    select * from {{ ref('fct_traces') }}
    where
        conversation_id is not null
        {% if is_incremental() %}
            and has({{ conversation_days }}, trace_date)
            and conversation_id in (select conversation_id from touched)
        {% endif %}

),

token_logs as (

    select * from {{ ref('int_app_token_logs_deduplicated') }}
    where
        conversation_id is not null
        {% if is_incremental() %}
            and has({{ conversation_days }}, log_date)
            and conversation_id in (select conversation_id from touched)
        {% endif %}

),

calls_per_turn as (

    select
        conversation_id,
        trace_id as turn_id,
        sum(input_tokens) as call_input_tokens,
        sum(output_tokens) as call_output_tokens,
        {{ span_usage_rollup() }}
    from calls
    group by conversation_id, turn_id

),

logs_per_turn as (

    select
        conversation_id,
        -- A token log without a trace is one turn of its own.
        coalesce(trace_id, toString(log_record_id)) as turn_id,
        sum(prompt_tokens) as log_prompt_tokens,
        sum(completion_tokens) as log_completion_tokens
    from token_logs
    group by conversation_id, turn_id

),

turns_with_evidence as (

    select
        coalesce(calls_per_turn.conversation_id, logs_per_turn.conversation_id) as conversation_id,
        multiIf(
            calls_per_turn.turn_id is not null and calls_per_turn.calls_missing_span_usage = 0, 'spans',
            logs_per_turn.turn_id is not null, 'app_logs',
            'incomplete_spans'
        ) as evidence,
        if(evidence = 'app_logs', logs_per_turn.log_prompt_tokens, calls_per_turn.call_input_tokens)
            as turn_input_tokens,
        if(evidence = 'app_logs', logs_per_turn.log_completion_tokens, calls_per_turn.call_output_tokens)
            as turn_output_tokens
    from calls_per_turn
    full outer join logs_per_turn
        on
            calls_per_turn.conversation_id = logs_per_turn.conversation_id
            and calls_per_turn.turn_id = logs_per_turn.turn_id
    settings join_use_nulls = 1

),

evidence_rollup as (

    select
        conversation_id,
        sum(turn_input_tokens) as input_tokens,
        sum(turn_output_tokens) as output_tokens,
        countIf(evidence = 'app_logs') as turns_from_app_logs,
        multiIf(
            countIf(evidence = 'incomplete_spans') > 0, 'incomplete_spans',
            countIf(evidence = 'app_logs') = 0, 'spans',
            countIf(evidence = 'spans') = 0, 'app_logs',
            'spans_and_app_logs'
        ) as usage_evidence
    from turns_with_evidence
    group by conversation_id

),

call_rollup as (

    select
        conversation_id,
        count() as llm_calls,
        sum(cost_usd) as cost_usd,
        countIf(not is_priced) as unpriced_calls,
        {{ completeness_rollup() }},
        arraySort(groupUniqArray(model_id)) as model_ids,
        min(calls.user_id) as user_id,
        min(started_at) as first_call_at,
        max(started_at) as last_call_at,
        -- Tokens the spans themselves reported, for reconciliation.
        {{ span_usage_rollup() }},
        groupUniqArray(trace_id) as call_traces,
        groupUniqArray(call_date) as call_days
    from calls
    group by conversation_id

),

trace_rollup as (

    select
        conversation_id,
        sum(tool_calls) as tool_calls,
        groupUniqArray(trace_id) as conversation_traces,
        groupUniqArray(trace_date) as trace_days
    from traces
    group by conversation_id

),

log_rollup as (

    select
        conversation_id,
        sum(prompt_tokens) as app_prompt_tokens,
        sum(completion_tokens) as app_completion_tokens,
        min(user_id) as user_id,
        min(logged_at) as first_log_at,
        max(logged_at) as last_log_at,
        -- A token log without a trace is one turn of its own.
        groupUniqArray(coalesce(trace_id, toString(log_record_id))) as log_turns,
        groupUniqArray(log_date) as log_days
    from token_logs
    group by conversation_id

),

joined as (

    select
        coalesce(call_rollup.conversation_id, log_rollup.conversation_id) as conversation_id,
        least(
            coalesce(call_rollup.first_call_at, log_rollup.first_log_at),
            coalesce(log_rollup.first_log_at, call_rollup.first_call_at)
        ) as first_seen_at,
        greatest(
            coalesce(call_rollup.last_call_at, log_rollup.last_log_at),
            coalesce(log_rollup.last_log_at, call_rollup.last_call_at)
        ) as last_seen_at,
        length(arrayDistinct(arrayConcat(
            coalesce(trace_rollup.conversation_traces, []),
            coalesce(call_rollup.call_traces, []),
            coalesce(log_rollup.log_turns, [])
        ))) as turns,
        coalesce(call_rollup.llm_calls, 0) as llm_calls,
        coalesce(trace_rollup.tool_calls, 0) as tool_calls,
        evidence_rollup.input_tokens as input_tokens,
        evidence_rollup.output_tokens as output_tokens,
        if(
            evidence_rollup.input_tokens is null and evidence_rollup.output_tokens is null,
            null,
            coalesce(evidence_rollup.input_tokens, 0) + coalesce(evidence_rollup.output_tokens, 0)
        ) as total_tokens,
        coalesce(evidence_rollup.usage_evidence, 'spans') as usage_evidence,
        coalesce(evidence_rollup.turns_from_app_logs, 0) as turns_from_app_logs,
        call_rollup.cost_usd as cost_usd,
        coalesce(call_rollup.unpriced_calls, 0) as unpriced_calls,
        coalesce(call_rollup.calls_without_usage, 0) as calls_without_usage,
        coalesce(call_rollup.cost_complete, true) as cost_complete,
        log_rollup.app_prompt_tokens as app_prompt_tokens,
        log_rollup.app_completion_tokens as app_completion_tokens,
        coalesce(call_rollup.user_id, log_rollup.user_id) as user_id,
        coalesce(call_rollup.model_ids, []) as model_ids,
        {{ complete_span_usage('call_rollup', 'span_input_tokens') }} as span_input_tokens,
        {{ complete_span_usage('call_rollup', 'span_output_tokens') }} as span_output_tokens,
        log_rollup.conversation_id is not null as has_app_logs,
        arraySort(arrayDistinct(arrayConcat(
            coalesce(call_rollup.call_days, []),
            coalesce(trace_rollup.trace_days, []),
            coalesce(log_rollup.log_days, [])
        ))) as active_days
    from call_rollup
    full outer join log_rollup on call_rollup.conversation_id = log_rollup.conversation_id
    left join trace_rollup
        on coalesce(call_rollup.conversation_id, log_rollup.conversation_id) = trace_rollup.conversation_id
    left join evidence_rollup
        on coalesce(call_rollup.conversation_id, log_rollup.conversation_id) = evidence_rollup.conversation_id
    settings join_use_nulls = 1

),

final as (

    select
        ---------- ids
        cast(conversation_id as String) as conversation_id,
        cast(user_id as Nullable(String)) as user_id,

        ---------- strings
        cast(model_ids as Array(String)) as model_ids,
        cast(usage_evidence as LowCardinality(String)) as usage_evidence,
        cast(
            {{ combined_reconciliation_status(
                'span_input_tokens', 'app_prompt_tokens',
                'span_output_tokens', 'app_completion_tokens', 'has_app_logs'
            ) }} as LowCardinality(String)
        ) as reconciliation_status,

        ---------- numerics
        cast(turns as UInt64) as turns,
        cast(llm_calls as UInt64) as llm_calls,
        cast(tool_calls as UInt64) as tool_calls,
        cast(input_tokens as Nullable(Int64)) as input_tokens,
        cast(output_tokens as Nullable(Int64)) as output_tokens,
        cast(total_tokens as Nullable(Int64)) as total_tokens,
        cast(turns_from_app_logs as UInt64) as turns_from_app_logs,
        cast(cost_usd as Nullable(Float64)) as cost_usd,
        cast(unpriced_calls as UInt64) as unpriced_calls,
        cast(calls_without_usage as UInt64) as calls_without_usage,
        cast(span_input_tokens as Nullable(Int64)) as span_input_tokens,
        cast(span_output_tokens as Nullable(Int64)) as span_output_tokens,
        cast(app_prompt_tokens as Nullable(Int64)) as app_prompt_tokens,
        cast(app_completion_tokens as Nullable(Int64)) as app_completion_tokens,

        ---------- booleans
        cast(cost_complete as Bool) as cost_complete,

        ---------- timestamps
        cast(first_seen_at as DateTime64(9)) as first_seen_at,
        cast(last_seen_at as DateTime64(9)) as last_seen_at,

        ---------- dates
        cast(active_days as Array(Date)) as active_days

    from joined

)

select * from final
