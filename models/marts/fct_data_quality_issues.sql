{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='issue_date',
        order_by='(issue_date, source_table, rule_name)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(data_quality_sources()) }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per UTC day, raw table and rule: how many rows a rule nulled a
    value in or dropped, with a few example ids. Every rule that nulls or
    drops a value reports here: token counts that are not valid counts
    (parse_token_count), span durations whose end precedes the start,
    finish reasons that are not a JSON array of strings, evaluation results
    with a score that is not a number or without a label or name
    (int_evaluation_results_extracted), and duplicate deliveries removed by
    deduplication (spans, token logs, evaluation events, token-usage metric
    points).
    A warn-severity dbt test (assert_no_data_quality_issues) surfaces it on
    every build without failing it.
    Incremental by day: a run rebuilds each day any of its sources received
    data on, from all of them (a day partition is replaced whole); days whose
    raw rows expired keep their counts. -#}
{{ require_partitioned_by('issue_date') }}
{%- set changed -%}
    {%- for source_model in data_quality_sources() -%}
        {{ changed_days(source_model) }}{{ ' union distinct ' if not loop.last }}
    {%- endfor -%}
{%- endset %}
with

-- The spans' invalid values and delivery counts as int_spans_deduplicated
-- kept them (reading the staging view would parse the attributes again).
spans as (

    select * from {{ ref('int_spans_deduplicated') }}
    {% if is_incremental() %}
        where span_date in ({{ changed }})
    {% endif %}

),

logs as (

    select * from {{ ref('stg_otel__logs') }}
    {% if is_incremental() %}
        where log_date in ({{ changed }})
    {% endif %}

),

evaluations as (

    select * from {{ ref('int_evaluation_results_extracted') }}
    {% if is_incremental() %}
        where evaluation_date in ({{ changed }})
    {% endif %}

),

token_usage_points as (

    select * from {{ ref('stg_otel__metrics_histogram') }}
    where
        metric_name = 'gen_ai.client.token.usage'
        {% if is_incremental() %}
            and point_date in ({{ changed }})
        {% endif %}

),

-- invalid_fields names a field once per delivery that had it invalid.
invalid_span_values as (

    select
        span_date as issue_date,
        'otel_traces' as source_table,
        concat('invalid_', invalid_field) as rule_name,
        span_id as example_id,
        toUInt64(1) as dropped_rows
    from spans
    array join invalid_fields as invalid_field

),

invalid_log_tokens as (

    select
        log_date as issue_date,
        'otel_logs' as source_table,
        concat('invalid_', token_field) as rule_name,
        toString(log_record_id) as example_id
    from logs
    array join invalid_token_fields as token_field

),

invalid_evaluations as (

    select
        evaluation_date as issue_date,
        source_table,
        rule_name,
        evaluation_id as example_id
    from evaluations
    array join evaluation_issues as rule_name

),

-- int_evaluation_results_extracted keeps one copy of each evaluation event
-- (retried evaluation spans are counted with the spans).
duplicate_evaluation_events as (

    select
        evaluation_date as issue_date,
        source_table,
        'duplicate_delivery' as rule_name,
        evaluation_id as example_id,
        toUInt64(deliveries - 1) as dropped_rows
    from evaluations
    where evaluation_source = 'event' and deliveries > 1

),

-- int_spans_deduplicated keeps one delivery per (trace_id, span_id) and
-- counts the others.
duplicate_spans as (

    select
        span_date as issue_date,
        'otel_traces' as source_table,
        'duplicate_delivery' as rule_name,
        span_id as example_id,
        toUInt64(deliveries - 1) as dropped_rows
    from spans
    where deliveries > 1

),

-- int_app_token_logs_deduplicated keeps one copy of each token log record.
duplicate_token_logs as (

    select
        log_date as issue_date,
        'otel_logs' as source_table,
        'duplicate_delivery' as rule_name,
        toString(log_record_id) as example_id,
        toUInt64(count() - 1) as dropped_rows
    from logs
    where prompt_tokens is not null or completion_tokens is not null
    group by log_date, log_record_id
    having count() > 1

),

-- int_token_usage_metrics_summed_to_days keeps one point per series, time
-- and start time.
duplicate_metric_points as (

    select
        point_date as issue_date,
        'otel_metrics_histogram' as source_table,
        'duplicate_delivery' as rule_name,
        toString(series_id) as example_id,
        toUInt64(count() - 1) as dropped_rows
    from token_usage_points
    group by point_date, series_id, point_time, start_time
    having count() > 1

),

issues as (

    select * from invalid_span_values
    union all
    select
        *,
        toUInt64(1) as dropped_rows
    from invalid_log_tokens
    union all
    select * from duplicate_spans
    union all
    select * from duplicate_token_logs
    union all
    select * from duplicate_metric_points
    union all
    select
        *,
        toUInt64(1) as dropped_rows
    from invalid_evaluations
    union all
    select * from duplicate_evaluation_events

),

summed as (

    select
        issue_date,
        source_table,
        rule_name,
        sum(dropped_rows) as issue_rows,
        arraySlice(arraySort(groupUniqArray(example_id)), 1, 5) as example_ids
    from issues
    group by issue_date, source_table, rule_name

)

select
    toDate(issue_date) as issue_date,
    toString(source_table) as source_table,
    toString(rule_name) as rule_name,
    toUInt64(issue_rows) as issue_rows,
    example_ids
from summed
