{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        order_by='(trace_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- The conversation each trace belongs to: the id carried by its spans,
    else by its application logs (LibreChat puts conversationId in logs).
    An incremental run re-links the traces with spans or logs on the days
    that received data. -#}
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

logs as (

    select * from {{ ref('stg_otel__logs') }}
    where
        trace_id is not null
        {% if is_incremental() %}
            and trace_id in (select trace_id from touched)
        {% endif %}

),

ids_from_spans as (

    select
        trace_id,
        min(conversation_id) as conversation_id,
        min(user_id) as user_id,
        min(span_date) as first_seen_date
    from spans
    group by trace_id

),

ids_from_logs as (

    select
        trace_id,
        min(conversation_id) as conversation_id,
        min(user_id) as user_id,
        min(log_date) as first_seen_date
    from logs
    group by trace_id

),

linked as (

    select
        cast(coalesce(ids_from_spans.trace_id, ids_from_logs.trace_id) as String) as trace_id,
        coalesce(ids_from_spans.conversation_id, ids_from_logs.conversation_id) as conversation_id,
        coalesce(ids_from_spans.user_id, ids_from_logs.user_id) as user_id,
        least(
            coalesce(ids_from_spans.first_seen_date, ids_from_logs.first_seen_date),
            coalesce(ids_from_logs.first_seen_date, ids_from_spans.first_seen_date)
        ) as first_seen_date
    from ids_from_spans
    full outer join ids_from_logs on ids_from_spans.trace_id = ids_from_logs.trace_id
    settings join_use_nulls = 1

)

select * from linked
