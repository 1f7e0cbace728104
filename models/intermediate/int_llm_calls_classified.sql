{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        meta={'delete_scope': 'trace_delete_scope'},
        partition_by='span_date',
        order_by='(trace_id, span_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- Inference spans with canonical provider/operation and the leaf flag.
    A span is an umbrella when another inference span sits anywhere below it
    in the same trace (framework, agent or proxy spans that repeat their
    child's token counts); only leaf inference spans may be summed. Leaf
    detection needs whole traces: an incremental run re-classifies every span
    of the traces touched in its window, whatever their day. -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
spans as (

    -- The data-quality columns serve fct_data_quality_issues only.
    select * except (invalid_fields, deliveries) from {{ ref('int_spans_deduplicated') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

normalised as (

    select
        *,
        {{ normalise_provider('provider_raw') }} as provider,
        {{ normalise_operation('operation_raw', 'instrumentation') }} as operation_mapped
    from spans

),

flagged as (

    select
        *,
        -- Spans without an operation still count as inference when they
        -- report usage for a named model (older and custom instrumentations).
        coalesce(
            operation_mapped,
            if(
                coalesce(response_model, request_model) is not null
                and (input_tokens is not null or output_tokens is not null),
                'chat',
                null
            )
        ) as operation,
        operation in {{ inference_operations() }} as is_inference
    from normalised

),

-- The walk below runs on 64-bit hashes of the span ids (0 for no parent):
-- a map of integers per trace takes a fraction of the memory of a map of
-- hex strings. Two spans of one trace would have to share a hash to be
-- confused (about n^2 / 2^65 for a trace of n spans). One row per trace
-- with an inference span: its parent map and its inference spans.
span_trees as (

    select
        trace_id,
        mapFromArrays(
            groupArray(cityHash64(span_id)),
            groupArray(if(parent_span_id is null, toUInt64(0), cityHash64(parent_span_id)))
        ) as parent_of,
        groupArrayIf(cityHash64(span_id), is_inference) as inference_span_keys,
        count() as span_count
    from flagged
    group by trace_id
    having notEmpty(inference_span_keys)

),

umbrellas_by_trace as (

    -- Walk up from every inference span (bounded depth: cycles in bad data
    -- cannot loop; a path has no more steps than its trace has spans, which
    -- ends most walks long before 64); every span passed on the way is an
    -- umbrella.
    select
        trace_id,
        arrayDistinct(arrayFlatten(arrayMap(
            inference_span_key -> tupleElement(arrayFold(
                (acc, step) -> if(
                    acc.1 = 0 or parent_of[acc.1] = 0,
                    (toUInt64(0), acc.2),
                    (parent_of[acc.1], arrayPushBack(acc.2, parent_of[acc.1]))
                ),
                range(least(64, span_count)),
                (inference_span_key, cast([], 'Array(UInt64)'))
            ), 2),
            inference_span_keys
        ))) as umbrella_span_keys
    from span_trees

),

classified as (

    -- Every inference span's trace has a row above: an inner join.
    select
        flagged.*,
        not has(umbrellas_by_trace.umbrella_span_keys, cityHash64(flagged.span_id)) as is_leaf_inference
    from flagged
    inner join umbrellas_by_trace on flagged.trace_id = umbrellas_by_trace.trace_id
    where flagged.is_inference

)

select * from classified
