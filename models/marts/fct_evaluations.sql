{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='evaluation_date',
        order_by='(evaluation_date, evaluation_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources() + ['int_evaluation_results_extracted']) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per evaluation result, linked to the evaluated span and, when
    that span is a leaf LLM call, to its fct_llm_calls row (model). The
    explanation is never copied: it may quote the prompt or the answer.
    Incremental by evaluation day: a run rebuilds the days whose results
    changed (int_evaluation_results_extracted) and the days of every result
    whose evaluated trace had its calls recomputed (the traces fct_llm_calls
    touched), so a call that arrives after its evaluation is linked on the
    next run. The calls are looked up on the days their traces have spans
    on, never over all history. -#}
{{ require_partitioned_by('evaluation_date') }}
with

-- depends_on: {{ touched_traces_depends_on() }}
{% if is_incremental() %}
    relinked_traces as (

        -- Traces with new spans or logs since this model last ran, and those
        -- fct_llm_calls recomputed in this invocation (data that arrived
        -- between its snapshot and this model's, re-linked on the next run).
        {{ touched_traces() }}
        union distinct
        {{ touched_traces(consumer='fct_llm_calls') }}

    ),

    rebuilt_days as (

        select day as evaluation_date
        from ({{ changed_days('int_evaluation_results_extracted') }})
        union distinct
        select evaluation_date
        from {{ ref('int_evaluation_results_extracted') }}
        where trace_id in (select trace_id from relinked_traces)

    ),
{% endif %}

results as (

    select * from {{ ref('int_evaluation_results_extracted') }}
    {% if is_incremental() %}
        where evaluation_date in (select evaluation_date from rebuilt_days)
    {% endif %}

),

result_trace_days as (

    -- A call is dated by a span of its trace: the days to look calls up on.
    {{ trace_span_days('select trace_id from results', 'span_date') }}

),

calls as (

    select * from {{ ref('fct_llm_calls') }}
    where
        call_date in (select span_date from result_trace_days)
        and trace_id in (select trace_id from results)

),

linked as (

    select
        results.*,
        calls.call_id as call_id,
        calls.provider as provider,
        calls.model_id as model_id,
        calls.model_family as model_family
    from results
    left join calls
        on results.trace_id = calls.trace_id and results.evaluated_span_id = calls.call_id
    settings join_use_nulls = 1

),

final as (

    select
        ---------- ids
        cast(evaluation_id as String) as evaluation_id,
        cast(trace_id as Nullable(String)) as trace_id,
        cast(evaluated_span_id as Nullable(String)) as span_id,
        cast(call_id as Nullable(String)) as call_id,
        cast(result_span_id as Nullable(String)) as result_span_id,

        ---------- strings
        cast(evaluation_source as LowCardinality(String)) as evaluation_source,
        cast(service_name as LowCardinality(String)) as service_name,
        cast(provider as Nullable(String)) as provider,
        cast(model_id as Nullable(String)) as model_id,
        cast(model_family as Nullable(String)) as model_family,
        cast(evaluation_name as Nullable(String)) as evaluation_name,
        cast(score_label as Nullable(String)) as score_label,

        ---------- numerics
        cast(score_value as Nullable(Float64)) as score_value,

        ---------- booleans
        cast({{ evaluation_label_is('score_label', 'pass') }} as Nullable(Bool)) as is_pass,
        cast(
            if(
                lower(evaluation_name) in (
                    {%- for name in var('evaluation_hallucination_evaluators') %}
                        '{{ name | lower }}'{{ ',' if not loop.last }}
                    {%- endfor %}
                ),
                {{ evaluation_label_is('score_label', 'hallucinated') }},
                null
            ) as Nullable(Bool)
        ) as is_hallucinated,
        cast(has_explanation as Bool) as has_explanation,

        ---------- dates and timestamps
        cast(evaluation_date as Date) as evaluation_date,
        cast(evaluated_at as DateTime64(9)) as evaluated_at

    from linked

)

select * from final
