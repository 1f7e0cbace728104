{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by='evaluation_date',
        order_by='(evaluation_date, model_family, evaluation_name)',
        pre_hook=["{{ reset_watermarks() }}", "{{ snapshot_watermarks(['fct_evaluations']) }}"],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- One row per UTC day, model family of the evaluated call and evaluator
    name. Scores are only ever averaged within one evaluator name, so scales
    (0..1, 1..5) never mix. Rates are over the results that carry what they
    need: mean over numeric scores, pass rate over labelled results; NULL when
    there are none. Incremental: a run rebuilds the days fct_evaluations
    rebuilt (a day partition is replaced whole). -#}
{{ require_partitioned_by('evaluation_date') }}
with

evaluations as (

    select * from {{ ref('fct_evaluations') }}
    {% if is_incremental() %}
        where evaluation_date in ({{ changed_days('fct_evaluations') }})
    {% endif %}

),

daily as (

    select
        evaluation_date,
        coalesce(model_family, '') as model_family,
        coalesce(evaluation_name, '') as evaluation_name,
        count() as results,
        count(score_value) as scored_results,
        avg(score_value) as mean_score,
        min(score_value) as min_score,
        max(score_value) as max_score,
        count(score_label) as labelled_results,
        countIf(is_pass) as passed_results,
        countIf(is_hallucinated) as hallucinated_results,
        count(is_hallucinated) as hallucination_labelled_results,
        uniqExact(call_id) as evaluated_calls
    from evaluations
    group by evaluation_date, model_family, evaluation_name

),

final as (

    select
        cast(evaluation_date as Date) as evaluation_date,
        cast(model_family as String) as model_family,
        cast(evaluation_name as String) as evaluation_name,
        cast(results as UInt64) as results,
        cast(scored_results as UInt64) as scored_results,
        cast(if(scored_results = 0, null, mean_score) as Nullable(Float64)) as mean_score,
        cast(if(scored_results = 0, null, min_score) as Nullable(Float64)) as min_score,
        cast(if(scored_results = 0, null, max_score) as Nullable(Float64)) as max_score,
        cast(labelled_results as UInt64) as labelled_results,
        cast(passed_results as UInt64) as passed_results,
        cast(if(labelled_results = 0, null, passed_results / labelled_results) as Nullable(Float64)) as pass_rate,
        cast(hallucinated_results as UInt64) as hallucinated_results,
        cast(
            if(hallucination_labelled_results = 0, null, hallucinated_results / hallucination_labelled_results)
            as Nullable(Float64)
        ) as hallucination_rate,
        cast(evaluated_calls as UInt64) as evaluated_calls
    from daily

)

select * from final
