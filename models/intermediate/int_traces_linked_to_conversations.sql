{#- The conversation each trace belongs to: the id carried by its spans,
    else by its application logs (LibreChat puts conversationId in logs). -#}
with

spans as (

    select * from {{ ref('int_spans_deduplicated') }}

),

logs as (

    select * from {{ ref('stg_otel__logs') }}

),

ids_from_spans as (

    select
        trace_id,
        min(conversation_id) as conversation_id,
        min(user_id) as user_id
    from spans
    group by trace_id

),

ids_from_logs as (

    select
        trace_id,
        min(conversation_id) as conversation_id,
        min(user_id) as user_id
    from logs
    where trace_id is not null
    group by trace_id

),

linked as (

    select
        coalesce(ids_from_spans.trace_id, ids_from_logs.trace_id) as trace_id,
        coalesce(ids_from_spans.conversation_id, ids_from_logs.conversation_id) as conversation_id,
        coalesce(ids_from_spans.user_id, ids_from_logs.user_id) as user_id
    from ids_from_spans
    full outer join ids_from_logs on ids_from_spans.trace_id = ids_from_logs.trace_id
    settings join_use_nulls = 1

)

select * from linked
