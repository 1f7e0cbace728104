{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='log_date',
        order_by='(log_record_id)',
        pre_hook=["{{ reset_watermarks() }}", "{{ snapshot_watermarks(['stg_otel__logs']) }}"],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- Application token logs (LibreChat spendTokens and the like): records
    that carry prompt or completion token counts, once each. A retried record
    is identical, so it lands in the same day partition; an incremental run
    rebuilds the days that received logs only, from the logs delivered since
    its last run and the day's rows it already holds. -#}
with

logs as (

    select * from {{ ref('stg_otel__logs') }}
    {% if is_incremental() %}
        where {{ new_deliveries('stg_otel__logs', 'log_date') }}
    {% endif %}

),

token_logs as (

    select
        log_record_id,
        trace_id,
        span_id,
        conversation_id,
        user_id,
        service_name,
        request_model,
        prompt_tokens,
        completion_tokens,
        token_count,
        logged_at,
        log_date
    from logs
    where
        (prompt_tokens is not null or completion_tokens is not null)
        -- GenAI semconv events repeat their span's usage; they are not app logs.
        and not startsWith(coalesce(event_name, ''), 'gen_ai.')

),

{% if is_incremental() %}
    -- The rebuilt days' records not delivered again stay as they are.
    kept as (

        select * from {{ this }}
        where
            log_date in ({{ changed_days('stg_otel__logs') }})
            and log_record_id not in (select token_logs.log_record_id from token_logs)

    ),
{% endif %}

first_deliveries as (

    select *
    from token_logs
    order by log_record_id, logged_at
    limit 1 by log_record_id

),

deduplicated as (

    select * from first_deliveries
    {% if is_incremental() %}
        union all
        select * from kept
    {% endif %}

)

select * from deduplicated
