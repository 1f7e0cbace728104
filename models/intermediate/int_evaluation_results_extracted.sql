{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='evaluation_date',
        order_by='(evaluation_date, evaluation_id)',
        pre_hook=["{{ reset_watermarks() }}", "{{ snapshot_watermarks(['stg_otel__spans', 'stg_otel__logs']) }}"],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- Every evaluation result once, in the shapes instrumentations emit:
    `event` (a gen_ai.evaluation.result log record in the context of the
    evaluated span), `evaluator_span` (an OpenInference EVALUATOR span) and
    `judge_span` (any other span carrying the result, normally the judge's own
    LLM call). A result span evaluates the span it links to (its first link),
    else its parent. An evaluator span without a score or a label (its judge
    failed) is not a result. Incremental like int_spans_deduplicated: a run
    rebuilds the days that received spans or logs, each from both (a day
    partition is replaced whole); a retried record lands in the same day and
    is kept once. -#}
{%- set changed -%}
    {{ changed_days('stg_otel__spans') }} union distinct {{ changed_days('stg_otel__logs') }}
{%- endset %}
with

spans as (

    select * from {{ ref('stg_otel__spans') }}
    where
        {{ genai_attr('span_attributes', 'evaluation_name') }} is not null
        {% if is_incremental() %}
            and span_date in ({{ changed }})
        {% endif %}

),

first_links as (

    select * from {{ ref('stg_otel__span_links') }}
    where
        link_index = 1
        {% if is_incremental() %}
            and span_date in ({{ changed }})
        {% endif %}

),

logs as (

    select * from {{ ref('stg_otel__logs') }}
    where
        event_name = 'gen_ai.evaluation.result'
        {% if is_incremental() %}
            and log_date in ({{ changed }})
        {% endif %}

),

span_results as (

    select
        concat(spans.trace_id, '/', spans.span_id) as evaluation_id,
        if(
            spans.span_attributes['openinference.span.kind'] = 'EVALUATOR', 'evaluator_span', 'judge_span'
        ) as evaluation_source,
        'otel_traces' as source_table,
        coalesce(nullIf(first_links.linked_trace_id, ''), spans.trace_id) as trace_id,
        coalesce(nullIf(first_links.linked_span_id, ''), spans.parent_span_id) as evaluated_span_id,
        spans.span_id as result_span_id,
        spans.service_name as service_name,
        {{ genai_attr('spans.span_attributes', 'evaluation_name') }} as evaluation_name,
        {{ genai_attr('spans.span_attributes', 'evaluation_score') }} as score_text,
        {{ genai_attr('spans.span_attributes', 'evaluation_label') }} as score_label,
        {{ genai_attr('spans.span_attributes', 'evaluation_explanation') }} is not null as has_explanation,
        spans.started_at as evaluated_at
    from spans
    left join first_links
        on spans.trace_id = first_links.trace_id and spans.span_id = first_links.span_id
    where score_text is not null or score_label is not null
    settings join_use_nulls = 1

),

log_results as (

    select
        toString(log_record_id) as evaluation_id,
        'event' as evaluation_source,
        'otel_logs' as source_table,
        trace_id,
        span_id as evaluated_span_id,
        cast(null as Nullable(String)) as result_span_id,
        service_name,
        {{ genai_attr('log_attributes', 'evaluation_name') }} as evaluation_name,
        {{ genai_attr('log_attributes', 'evaluation_score') }} as score_text,
        {{ genai_attr('log_attributes', 'evaluation_label') }} as score_label,
        {{ genai_attr('log_attributes', 'evaluation_explanation') }} is not null as has_explanation,
        logged_at as evaluated_at
    from logs

),

results as (

    select * from span_results
    union all
    select * from log_results

),

-- A collector retry delivers a record again: keep one, remember how many came.
deduplicated as (

    select
        any(evaluation_source) as evaluation_source,
        any(source_table) as source_table,
        any(trace_id) as trace_id,
        any(evaluated_span_id) as evaluated_span_id,
        any(result_span_id) as result_span_id,
        any(service_name) as service_name,
        any(evaluation_name) as evaluation_name,
        any(score_text) as score_text,
        any(score_label) as score_label,
        any(has_explanation) as has_explanation,
        min(evaluated_at) as evaluated_at,
        count() as deliveries,
        evaluation_id
    from results
    group by evaluation_id

),

parsed as (

    select
        evaluation_id,
        evaluation_source,
        source_table,
        trace_id,
        evaluated_span_id,
        result_span_id,
        service_name,
        evaluation_name,
        {{ parse_evaluation_score('score_text') }} as score_value,
        score_label,
        has_explanation,
        -- Data-quality rules this result broke (fct_data_quality_issues).
        arrayFilter(rule -> rule != '', [
            if(score_text is not null and score_value is null, 'invalid_evaluation_score', ''),
            if(score_label is null, 'missing_evaluation_label', ''),
            if(evaluation_name is null, 'missing_evaluation_name', '')
        ]) as evaluation_issues,
        deliveries,
        evaluated_at,
        toDate(evaluated_at) as evaluation_date
    from deduplicated

),

final as (

    select
        cast(evaluation_id as String) as evaluation_id,
        cast(evaluation_source as LowCardinality(String)) as evaluation_source,
        cast(source_table as LowCardinality(String)) as source_table,
        cast(trace_id as Nullable(String)) as trace_id,
        cast(evaluated_span_id as Nullable(String)) as evaluated_span_id,
        cast(result_span_id as Nullable(String)) as result_span_id,
        cast(service_name as LowCardinality(String)) as service_name,
        cast(evaluation_name as Nullable(String)) as evaluation_name,
        cast(score_value as Nullable(Float64)) as score_value,
        cast(score_label as Nullable(String)) as score_label,
        cast(has_explanation as Bool) as has_explanation,
        cast(evaluation_issues as Array(String)) as evaluation_issues,
        cast(deliveries as UInt64) as deliveries,
        cast(evaluated_at as DateTime64(9)) as evaluated_at,
        cast(evaluation_date as Date) as evaluation_date
    from parsed

)

select * from final
