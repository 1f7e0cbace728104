{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='span_date',
        order_by='(trace_id, span_id)',
        pre_hook=["{{ reset_watermarks() }}", "{{ snapshot_watermarks(['stg_otel__spans']) }}"],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- Every span once, narrow: the canonical fields extracted in staging and the
    instrumentation read off the attributes, without the attribute maps, so
    downstream models never parse SpanAttributes again. Collector retries
    deliver the same span (TraceId + SpanId) more than once; a retry carries
    the same timestamp, so it lands in the same day partition and one delivery
    per day is kept, with the number of deliveries. An incremental run rebuilds
    only the days that received spans, and of those parses only the spans
    whose ids were delivered since its last run (every delivery of those ids):
    the day's other rows are copied as they are. Only repeated deliveries are
    sorted, without maps. invalid_fields (of every delivery) and deliveries
    are kept for fct_data_quality_issues, so it does not parse the attributes
    again. -#}
with

{% if is_incremental() %}
    -- Ids as a 64-bit hash (as repeated_keys below): a row of another id
    -- sharing a hash is only parsed again from its raw deliveries.
    delivered_keys as (

        select distinct cityHash64(trace_id, span_id) as span_key
        from {{ ref('stg_otel__spans') }}
        where {{ new_deliveries('stg_otel__spans', 'span_date') }}

    ),

    -- The rebuilt days' rows of ids with no new delivery stay as they are.
    kept as (

        select * from {{ this }}
        where
            span_date in ({{ changed_days('stg_otel__spans') }})
            and cityHash64(trace_id, span_id) not in (select delivered_keys.span_key from delivered_keys)

    ),
{% endif %}

spans as (

    select * from {{ ref('stg_otel__spans') }}
    {% if is_incremental() %}
        where
            span_date in ({{ changed_days('stg_otel__spans') }})
            and cityHash64(trace_id, span_id) in (select delivered_keys.span_key from delivered_keys)
    {% endif %}

),

narrowed as (

    select
        * except (span_attributes, resource_attributes, invalid_fields, raw_part, raw_block),
        toLowCardinality({{ instrumentation_of('scope_name', 'span_attributes') }}) as instrumentation,
        invalid_fields as delivery_invalid_fields
    from spans

),

-- Retries are rare: only the spans delivered more than once go through the
-- sort that picks one delivery; the rest pass unsorted (a sort of every span
-- of the window was most of this model's time and memory).
repeated_keys as (

    -- Keys as a 64-bit hash: grouping 10M spans by one integer takes a
    -- third of the time of grouping by two strings. Two spans sharing a
    -- hash only both take the sort below, which keeps one delivery per
    -- (trace_id, span_id) itself.
    select cityHash64(trace_id, span_id) as span_key
    from narrowed
    group by span_key
    having count() > 1

),

delivered_once as (

    select
        * except (delivery_invalid_fields),
        delivery_invalid_fields as invalid_fields,
        toUInt64(1) as deliveries
    from narrowed
    where cityHash64(trace_id, span_id) not in (select repeated_keys.span_key from repeated_keys)

),

-- A key delivered more than once keeps the invalid fields of every delivery
-- (two different spans may share ids in bad data; each row counts).
first_of_repeated as (

    select
        * except (delivery_invalid_fields),
        groupArrayArray(delivery_invalid_fields) over (partition by trace_id, span_id) as invalid_fields,
        toUInt64(count() over (partition by trace_id, span_id)) as deliveries
    from narrowed
    where cityHash64(trace_id, span_id) in (select repeated_keys.span_key from repeated_keys)
    -- The row hash breaks ties, so a key parsed again (its part merged with
    -- new rows, or a hash shared with a new id) keeps the same delivery.
    order by trace_id, span_id, started_at, cityHash64(*)
    limit 1 by trace_id, span_id

),

deduplicated as (

    select * from delivered_once
    union all
    select * from first_of_repeated
    {% if is_incremental() %}
        union all
        select * from kept
    {% endif %}

)

select * from deduplicated
