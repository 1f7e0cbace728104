{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        meta={'delete_scope': 'trace_delete_scope'},
        partition_by='call_date',
        order_by='(call_date, service_name, trace_id, call_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per leaf LLM call (deduplicated, umbrella spans excluded). An
    incremental run replaces the calls of the traces touched in its window. -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
calls as (

    select * from {{ ref('int_llm_calls_priced') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

trace_conversations as (

    select * from {{ ref('int_traces_linked_to_conversations') }}
    {% if is_incremental() %}
        where trace_id in ({{ touched_traces() }})
    {% endif %}

),

calls_with_conversation as (

    select
        calls.* except (trace_id),
        calls.trace_id as trace_id,
        coalesce(calls.conversation_id, trace_conversations.conversation_id) as call_conversation_id,
        coalesce(calls.user_id, trace_conversations.user_id) as call_user_id
    from calls
    left join trace_conversations using (trace_id)
    settings join_use_nulls = 1

),

final as (

    select
        ---------- ids
        cast(span_id as String) as call_id,
        cast(trace_id as String) as trace_id,
        cast(call_conversation_id as Nullable(String)) as conversation_id,
        cast(session_id as Nullable(String)) as session_id,
        cast(call_user_id as Nullable(String)) as user_id,
        cast(api_key as Nullable(String)) as api_key,
        cast(team as Nullable(String)) as team,

        ---------- strings
        cast(service_name as LowCardinality(String)) as service_name,
        cast(provider as Nullable(String)) as provider,
        cast(operation as LowCardinality(String)) as operation,
        cast(request_model as Nullable(String)) as request_model,
        cast(response_model as Nullable(String)) as response_model,
        -- The id as reported (case kept), and its normalised family in a column of its own.
        cast(coalesce(response_model, request_model) as Nullable(String)) as model_id,
        cast({{ canonical_model('coalesce(response_model, request_model)') }} as Nullable(String)) as model_family,
        cast(if(cost_usd is null, null, priced_model) as Nullable(String)) as priced_model,
        cast(
            multiIf(cost_usd is not null, null, usage_source = 'none', 'no_usage', 'no_price') as Nullable(String)
        ) as unpriced_reason,
        cast(usage_source as LowCardinality(String)) as usage_source,
        cast(
            if(finish_reason_raw is null, null, {{ normalise_finish_reason('finish_reason_raw') }})
            as Nullable(String)
        ) as finish_reason,
        cast(
            coalesce(error_type, if(is_error, coalesce(status_message, 'error'), null)) as Nullable(String)
        ) as error_type,
        cast(instrumentation as Nullable(String)) as instrumentation,

        ---------- numerics
        cast(call_input_tokens as Nullable(Int64)) as input_tokens,
        cast(call_output_tokens as Nullable(Int64)) as output_tokens,
        cast(cache_read_tokens as Nullable(Int64)) as cache_read_tokens,
        cast(cache_write_tokens as Nullable(Int64)) as cache_write_tokens,
        cast(reasoning_tokens as Nullable(Int64)) as reasoning_tokens,
        cast(
            multiIf(
                usage_source = 'span' and total_tokens is not null, total_tokens,
                call_input_tokens is null and call_output_tokens is null, null,
                coalesce(call_input_tokens, 0) + coalesce(call_output_tokens, 0)
            ) as Nullable(Int64)
        ) as total_tokens,
        cast(cost_usd as Nullable(Float64)) as cost_usd,
        cast(reported_cost_usd as Nullable(Float64)) as reported_cost_usd,
        cast(duration_ms as Nullable(Float64)) as duration_ms,
        cast(ttft_ms as Nullable(Float64)) as ttft_ms,

        ---------- booleans
        cast(cost_usd is not null as Bool) as is_priced,
        cast(is_streaming as Bool) as is_streaming,
        cast(is_error as Bool) as is_error,

        ---------- dates and timestamps
        cast(span_date as Date) as call_date,
        cast(started_at as DateTime64(9)) as started_at

    from calls_with_conversation

)

select * from final
