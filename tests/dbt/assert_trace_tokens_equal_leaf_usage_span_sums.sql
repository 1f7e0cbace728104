-- A trace's tokens are the sum over its leaf usage spans only, recomputed
-- here from the staging spans, independently of the models' leaf detection:
-- a span reporting usage (input or output tokens) counts unless another span
-- below it, at any depth, reports usage too (then it is an umbrella: a
-- workflow, agent, chain or proxy span repeating its children's tokens).
-- Ancestry is a recursive walk up the parent ids (at most 64 generations, so
-- a parent cycle in bad data ends).
--
-- Traces where a call's usage came from the app's token logs (usage_source
-- 'log') are left out: their tokens do not come from spans. Fails for
-- 1. a trace whose fct_traces tokens differ from its leaf usage span sums;
-- 2. a trace with an umbrella whose fct_traces tokens equal the naive sum
--    over all its usage spans (the umbrella was counted, or repeats nothing);
-- 3. no trace with an umbrella compared although the spans hold one, so the
--    test cannot pass because its joins or filters left nothing to compare.
-- An empty warehouse, or one whose traces have no umbrella, passes.
with recursive

spans as (

    select
        trace_id,
        span_id,
        parent_span_id,
        input_tokens,
        output_tokens
    from {{ ref('stg_otel__spans') }}
    -- One delivery per span: collector retries repeat (trace_id, span_id).
    order by trace_id, span_id, started_at
    limit 1 by trace_id, span_id

),

traces as (

    select
        trace_id,
        input_tokens,
        output_tokens
    from {{ ref('fct_traces') }}

),

calls as (

    select
        trace_id,
        usage_source
    from {{ ref('fct_llm_calls') }}

),

usage_spans as (

    select *
    from spans
    where input_tokens is not null or output_tokens is not null

),

usage_span_ancestors as (

    select
        trace_id,
        span_id as usage_span_id,
        parent_span_id as ancestor_span_id,
        1 as generation
    from usage_spans
    where parent_span_id is not null

    union all

    select
        usage_span_ancestors.trace_id,
        usage_span_ancestors.usage_span_id,
        spans.parent_span_id as ancestor_span_id,
        usage_span_ancestors.generation + 1 as generation
    from usage_span_ancestors
    inner join spans
        on
            usage_span_ancestors.trace_id = spans.trace_id
            and usage_span_ancestors.ancestor_span_id = spans.span_id
    where
        spans.parent_span_id is not null
        and usage_span_ancestors.generation < 64

),

usage_spans_classified as (

    select
        *,
        (trace_id, span_id) in (
            select
                usage_span_ancestors.trace_id,
                usage_span_ancestors.ancestor_span_id
            from usage_span_ancestors
        ) as has_usage_below
    from usage_spans

),

expected_per_trace as (

    select
        trace_id,
        sumIf(input_tokens, not has_usage_below) as leaf_input_tokens,
        sumIf(output_tokens, not has_usage_below) as leaf_output_tokens,
        sum(input_tokens) as naive_input_tokens,
        sum(output_tokens) as naive_output_tokens,
        countIf(has_usage_below) > 0 as has_umbrella
    from usage_spans_classified
    group by trace_id

),

traces_with_log_usage as (

    select distinct trace_id
    from calls
    where usage_source = 'log'

),

compared as (

    select
        expected_per_trace.*,
        traces.input_tokens as fact_input_tokens,
        traces.output_tokens as fact_output_tokens
    from expected_per_trace
    inner join traces on expected_per_trace.trace_id = traces.trace_id
    where expected_per_trace.trace_id not in (
        select traces_with_log_usage.trace_id
        from traces_with_log_usage
    )

),

leaf_sum_mismatches as (

    select
        *,
        'fct_traces tokens differ from the sum of the leaf usage spans' as problem
    from compared
    where
        not isNotDistinctFrom(fact_input_tokens, leaf_input_tokens)
        or not isNotDistinctFrom(fact_output_tokens, leaf_output_tokens)

),

umbrellas_counted as (

    select
        *,
        'trace with an umbrella span: fct_traces tokens equal the naive sum of all usage spans' as problem
    from compared
    where
        has_umbrella
        and isNotDistinctFrom(fact_input_tokens, naive_input_tokens)
        and isNotDistinctFrom(fact_output_tokens, naive_output_tokens)

),

coverage as (

    select
        (select countIf(has_umbrella) from expected_per_trace) as umbrella_traces,
        (select countIf(has_umbrella) from compared) as compared_umbrella_traces

),

nothing_compared as (

    select
        '' as trace_id,
        null as leaf_input_tokens,
        null as leaf_output_tokens,
        null as naive_input_tokens,
        null as naive_output_tokens,
        true as has_umbrella,
        null as fact_input_tokens,
        null as fact_output_tokens,
        concat(
            toString(umbrella_traces),
            ' traces have an umbrella span but none was compared with fct_traces'
        ) as problem
    from coverage
    where umbrella_traces > 0 and compared_umbrella_traces = 0

),

failures as (

    select * from leaf_sum_mismatches
    union all
    select * from umbrellas_counted
    union all
    select * from nothing_compared

)

select * from failures
