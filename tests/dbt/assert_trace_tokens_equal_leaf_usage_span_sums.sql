-- A trace's tokens are the sum over its leaf usage spans only, recomputed
-- here from the staging spans, independently of the models' leaf detection:
-- a span reporting usage (input or output tokens) counts unless another span
-- below it, at any depth, reports usage too (then it is an umbrella: a
-- workflow, agent, chain or proxy span repeating its children's tokens).
-- Ancestry is a walk up the parent ids one generation at a time, from all of
-- a trace's usage spans at once (at most 64 generations, so a parent cycle
-- in bad data ends), on hashed ids (below).
--
-- Traces where a call's usage came from the app's token logs (usage_source
-- 'log') are left out: their tokens do not come from spans. Fails for
-- 1. a trace whose fct_traces tokens differ from its leaf usage span sums;
-- 2. a trace with an umbrella whose fct_traces tokens equal the naive sum
--    over all its usage spans (the umbrella was counted, or repeats nothing);
-- 3. no trace with an umbrella compared although the spans hold one, so the
--    test cannot pass because its joins or filters left nothing to compare.
-- An empty warehouse, or one whose traces have no umbrella, passes.
--
-- In an incremental `dbt build` (the scheduled run) only the traces
-- fct_traces recomputed in this invocation are checked: the others were
-- checked when they were written, and only the days their spans are on are
-- read (the raw spans are not ordered by trace). `dbt test`, a first build and
-- --full-refresh check every trace (recomputed_traces_only).
{%- set scoped = recomputed_traces_only('fct_traces') %}
{#- A scalar (computed once per query, as in of_touched_traces). -#}
{%- set touched_days -%}
    (select groupArray(call_date) from ({{ touched_trace_days(consumer='fct_traces') }}))
{%- endset %}
-- depends_on: {{ touched_traces_depends_on() }}
with

-- Spans are keyed by a 64-bit hash of (trace_id, span_id), parents by that
-- of (trace_id, parent_span_id) (NULL for a root): the walk below looks up
-- one integer instead of two strings. Keys are only compared within a
-- trace: two of its spans would have to share a hash to be confused.
deliveries as (

    select
        trace_id,
        started_at,
        input_tokens,
        output_tokens,
        cityHash64(trace_id, span_id) as span_key,
        cityHash64(trace_id, parent_span_id) as parent_key
    from {{ ref('stg_otel__spans') }}
    {% if scoped -%}
        where
            has({{ touched_days }}, span_date)
            and trace_id in ({{ touched_traces(consumer='fct_traces') }})
    {% endif -%}

),

traces as (

    select
        trace_id,
        input_tokens,
        output_tokens
    from {{ ref('fct_traces') }}
    {% if scoped -%}
        where
            has({{ touched_days }}, trace_date)
            and trace_id in ({{ touched_traces(consumer='fct_traces') }})
    {% endif -%}

),

calls as (

    select
        trace_id,
        usage_source
    from {{ ref('fct_llm_calls') }}
    {% if scoped -%}
        where
            has({{ touched_days }}, call_date)
            and trace_id in ({{ touched_traces(consumer='fct_traces') }})
    {% endif -%}

),

-- Each trace with usage spans, as its tree, from one group by trace (a CTE
-- is evaluated at each reference, and this one parses the token
-- attributes): its deliveries sorted by span and time, the first delivery
-- of each span (collector retries repeat (trace_id, span_id)), every
-- span's parent key (0 for a root), the parents of its usage spans, and
-- its usage spans' tokens. A delivery is (span key, start, parent key,
-- input tokens, output tokens).
span_trees as (

    select
        trace_id,
        arraySort(
            delivery -> (delivery.1, delivery.2),
            groupArray(tuple(span_key, started_at, coalesce(parent_key, 0), input_tokens, output_tokens))
        ) as sorted_deliveries,
        arrayFilter(
            (delivery, position) -> position = 1 or delivery.1 != tupleElement(sorted_deliveries[position - 1], 1),
            sorted_deliveries,
            arrayEnumerate(sorted_deliveries)
        ) as first_deliveries,
        mapFromArrays(
            arrayMap(delivery -> delivery.1, first_deliveries),
            arrayMap(delivery -> delivery.3, first_deliveries)
        ) as parent_of,
        arrayFilter(delivery -> delivery.4 is not null or delivery.5 is not null, first_deliveries)
            as usage_deliveries,
        arrayDistinct(arrayFilter(
            parent_key -> parent_key != 0,
            arrayMap(delivery -> delivery.3, usage_deliveries)
        )) as usage_parent_keys,
        arrayMap(delivery -> (delivery.1, delivery.4, delivery.5), usage_deliveries) as usage_span_tokens,
        length(first_deliveries) as span_count
    from deliveries
    group by trace_id
    having notEmpty(usage_span_tokens)

),

-- Every span above a usage span: the usage spans' parents, then each
-- generation's parents not seen yet, until none is left. A walk is (this
-- generation, the generations before it). A trace has no more distinct
-- ancestors than spans, so it takes at most span_count steps.
usage_span_walks as (

    select
        trace_id,
        usage_span_tokens,
        arrayFold(
            (walk, generation) -> (
                arrayDistinct(arrayFilter(
                    parent_key -> parent_key != 0 and not has(walk.1, parent_key) and not has(walk.2, parent_key),
                    arrayMap(span_key -> parent_of[span_key], walk.1)
                )),
                arrayConcat(walk.2, walk.1)
            ),
            range(least(63, span_count)),
            (usage_parent_keys, cast([], 'Array(UInt64)'))
        ) as walk
    from span_trees

),

usage_spans as (

    select
        trace_id,
        arrayJoin(usage_span_tokens) as usage_span,
        tupleElement(usage_span, 1) as span_key,
        tupleElement(usage_span, 2) as input_tokens,
        tupleElement(usage_span, 3) as output_tokens,
        arrayConcat(tupleElement(walk, 2), tupleElement(walk, 1)) as ancestor_keys
    from usage_span_walks

),

usage_spans_classified as (

    select
        trace_id,
        input_tokens,
        output_tokens,
        has(ancestor_keys, span_key) as has_usage_below
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

-- Every expected trace once, with its fact row when it is compared; the
-- failure kinds come from this one CTE (each reference would evaluate the
-- walk again).
checked as (

    select
        expected_per_trace.*,
        traces.input_tokens as fact_input_tokens,
        traces.output_tokens as fact_output_tokens,
        coalesce(traces.trace_id, '') != ''
        and expected_per_trace.trace_id not in (
            select traces_with_log_usage.trace_id
            from traces_with_log_usage
        ) as is_compared
    from expected_per_trace
    left join traces on expected_per_trace.trace_id = traces.trace_id

),

checked_with_coverage as (

    select
        *,
        countIf(has_umbrella) over () as umbrella_traces,
        countIf(has_umbrella and is_compared) over () as compared_umbrella_traces,
        row_number() over () as row_in_check
    from checked

),

failures as (

    select
        trace_id,
        leaf_input_tokens,
        leaf_output_tokens,
        naive_input_tokens,
        naive_output_tokens,
        has_umbrella,
        fact_input_tokens,
        fact_output_tokens,
        arrayJoin(arrayFilter(problem -> problem != '', [
            if(
                is_compared and (
                    not isNotDistinctFrom(fact_input_tokens, leaf_input_tokens)
                    or not isNotDistinctFrom(fact_output_tokens, leaf_output_tokens)
                ),
                'fct_traces tokens differ from the sum of the leaf usage spans',
                ''
            ),
            if(
                is_compared and has_umbrella
                and isNotDistinctFrom(fact_input_tokens, naive_input_tokens)
                and isNotDistinctFrom(fact_output_tokens, naive_output_tokens),
                'trace with an umbrella span: fct_traces tokens equal the naive sum of all usage spans',
                ''
            ),
            -- Reported once (on the first row): the joins or filters left nothing to compare.
            if(
                row_in_check = 1 and umbrella_traces > 0 and compared_umbrella_traces = 0,
                concat(
                    toString(umbrella_traces),
                    ' traces have an umbrella span but none was compared with fct_traces'
                ),
                ''
            )
        ])) as problem
    from checked_with_coverage

)

select * from failures
