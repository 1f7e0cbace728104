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

{#- Leaf LLM calls with usage (span first, else the app's token logs of the
    same trace) and cost from the price valid at the call's start time.
    Inference spans are classified here: a span is an umbrella when another
    inference span sits anywhere below it in the same trace (framework, agent
    or proxy spans that repeat their child's token counts); only leaf
    inference spans are calls. Leaf detection needs whole traces: an
    incremental run re-classifies and prices every span of the traces
    touched in its window, whatever their day. After the price seed changes,
    run `llmwh run --reprice` to re-price history. -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
spans as (

    -- The data-quality columns serve fct_data_quality_issues only.
    select * except (invalid_fields, deliveries) from {{ ref('int_spans_deduplicated') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

token_logs as (

    select * from {{ ref('int_app_token_logs_deduplicated') }}
    {% if is_incremental() %}
        where trace_id in ({{ touched_traces() }})
    {% endif %}

),

prices as (

    select * from {{ ref('int_model_prices_unioned') }}

),

call_providers as (

    -- gen_ai.provider.name value -> the catalogue provider whose prices are the call's own.
    select
        provider,
        catalogue_provider
    from {{ ref('price_providers') }}

),

normalised as (

    select
        *,
        {{ normalise_provider('provider_raw') }} as provider,
        {{ normalise_operation('operation_raw', 'instrumentation') }} as operation_mapped,
        -- The model a call is priced by: the response model (what was served:
        -- a dated snapshot, an audio, realtime or fine-tuned model); the
        -- request model only when no response model was reported.
        lower(coalesce(nullIf(response_model, ''), request_model, '')) as price_model_id,
        -- The provider as a join key ('' for none: no price row names the empty provider).
        coalesce(provider, '') as price_provider
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
        ))) as umbrella_span_keys,
        -- One key per inference span row: the trace's leaf calls are the
        -- keys no walk passed.
        arrayCount(key -> not has(umbrella_span_keys, key), inference_span_keys) as leaf_calls
    from span_trees

),

calls as (

    -- Leaf inference spans only; every inference span's trace has a row
    -- above: an inner join.
    select
        flagged.* except (trace_id),
        flagged.trace_id as trace_id,
        umbrellas_by_trace.leaf_calls as leaf_calls,
        -- Always true here (an umbrella is not a call); a table built when
        -- the classification had a model of its own has the column too.
        true as is_leaf_inference
    from flagged
    inner join umbrellas_by_trace on flagged.trace_id = umbrellas_by_trace.trace_id
    where
        flagged.is_inference
        and not has(umbrellas_by_trace.umbrella_span_keys, cityHash64(flagged.span_id))

),

log_usage_per_trace as (

    select
        trace_id,
        sum(prompt_tokens) as log_prompt_tokens,
        sum(completion_tokens) as log_completion_tokens
    from token_logs
    where trace_id is not null
    group by trace_id

),

calls_with_usage as (

    -- App logs stand in for missing span usage only when the trace holds a
    -- single leaf call, so the logged tokens belong to that call alone.
    select
        -- Name join keys explicitly: a star over a join qualifies them.
        calls.* except (trace_id),
        calls.trace_id as trace_id,
        calls.input_tokens is null and calls.output_tokens is null
        and calls.leaf_calls = 1
        and log_usage_per_trace.log_prompt_tokens is not null as use_log_usage,
        if(use_log_usage, log_usage_per_trace.log_prompt_tokens, calls.input_tokens) as call_input_tokens,
        if(use_log_usage, log_usage_per_trace.log_completion_tokens, calls.output_tokens) as call_output_tokens,
        multiIf(
            calls.input_tokens is not null or calls.output_tokens is not null, 'span',
            use_log_usage, 'log',
            'none'
        ) as usage_source
    from calls
    left join log_usage_per_trace using (trace_id)
    settings join_use_nulls = 1

),

call_models as (

    -- Prices are resolved once per (provider, model id), never per call:
    -- for the pairs of every span read (a superset of the calls' pairs),
    -- which needs no classification. A scalar subquery, computed once per
    -- query: the CTEs below read this one several times, and a CTE is
    -- evaluated again at every reference.
    select
        tupleElement(pair, 1) as provider,
        tupleElement(pair, 2) as model_id
    from (
        select
            arrayJoin((
                select groupUniqArray((price_provider, price_model_id))
                from normalised
            )) as pair
    ) as model_pairs

),

model_id_keys as (

    -- Each model id once per key it is matched on, in order: the id as
    -- sent (0); without a Vertex resource path and route prefix (1); that
    -- with a compact snapshot date dashed (2). A lower key order wins
    -- within a provider, as genai-prices tries the id as sent first.
    select
        provider,
        model_id,
        model_key,
        min(key_order) as key_order
    from call_models
    array join
        [
            model_id,
            {{ price_model_key('model_id') }},
            {{ dashed_date_model_key(price_model_key('model_id')) }}
        ] as model_key,
        [0, 1, 2] as key_order
    group by provider, model_id, model_key

),

model_keys as (

    select distinct model_key from model_id_keys

),

pattern_matches as (

    -- Regex matching runs once per distinct key and price row: models then
    -- equi-join on the key. Prices are the outer side so that consecutive
    -- rows share one pattern (match() compiles a non-constant pattern once
    -- per run of equal patterns, not once per row).
    select
        model_keys.model_key as model_key,
        prices.*
    from prices
    cross join model_keys
    where match(model_keys.model_key, prices.model_pattern)

),

prices_by_model_key as (

    select *
    from pattern_matches
    where model_exclude_pattern is null or not match(model_key, assumeNotNull(model_exclude_pattern))

),

price_candidates as (

    -- Every price row whose pattern matches one of the model's keys and
    -- that is open to the call's provider: a row naming a provider prices
    -- only its calls, and another catalogue provider's row applies only if
    -- it is a maker's list (never a reseller's price for someone else's
    -- calls). A row without a start never applies.
    select
        model_id_keys.provider as provider,
        model_id_keys.model_id as model_id,
        prices_by_model_key.valid_from as valid_from,
        prices_by_model_key.valid_to as valid_to,
        prices_by_model_key.model_pattern as priced_model,
        prices_by_model_key.catalogue_provider as price_catalogue_provider,
        prices_by_model_key.input_usd_per_mtok,
        prices_by_model_key.cached_input_usd_per_mtok,
        prices_by_model_key.cache_write_usd_per_mtok,
        prices_by_model_key.output_usd_per_mtok,
        prices_by_model_key.reasoning_usd_per_mtok,
        prices_by_model_key.requests_usd_per_k,
        prices_by_model_key.tier_threshold_tokens,
        prices_by_model_key.tier_input_usd_per_mtok,
        prices_by_model_key.tier_cached_input_usd_per_mtok,
        prices_by_model_key.tier_cache_write_usd_per_mtok,
        prices_by_model_key.tier_output_usd_per_mtok,
        -- The call's own catalogue provider first (its price list, as
        -- genai-prices would use it); then an override; then the provider
        -- rank (makers of model families first); then the id as sent before
        -- its stripped forms; then the provider's first-listed model.
        coalesce(prices_by_model_key.catalogue_provider = call_providers.catalogue_provider, false)
            as same_provider,
        prices_by_model_key.is_override as is_override,
        prices_by_model_key.provider_rank as provider_rank,
        prices_by_model_key.pattern_priority as pattern_priority,
        model_id_keys.key_order as key_order
    from model_id_keys
    inner join prices_by_model_key on model_id_keys.model_key = prices_by_model_key.model_key
    left join call_providers on model_id_keys.provider = call_providers.provider
    where
        prices_by_model_key.valid_from is not null
        and (prices_by_model_key.provider is null or prices_by_model_key.provider = model_id_keys.provider)
        and (prices_by_model_key.is_maker or prices_by_model_key.catalogue_provider = call_providers.catalogue_provider)
    settings join_use_nulls = 1

),

segment_starts as (

    -- The instants at which a model's valid price rows can change: every
    -- period bound. Between two consecutive bounds the same rows are valid
    -- (valid_from inclusive, valid_to exclusive), so one best row per
    -- segment prices every call that starts in it.
    select distinct
        provider,
        model_id,
        cast(assumeNotNull(bound) as DateTime64(9)) as segment_start
    from price_candidates
    array join [valid_from, valid_to] as bound
    where bound is not null

),

best_by_segment as (

    select
        segment_starts.provider as provider,
        segment_starts.model_id as model_id,
        segment_starts.segment_start as segment_start,
        price_candidates.* except (provider, model_id)
    from segment_starts
    inner join price_candidates
        on
            segment_starts.provider = price_candidates.provider
            and segment_starts.model_id = price_candidates.model_id
    where
        segment_starts.segment_start >= price_candidates.valid_from
        and (price_candidates.valid_to is null or segment_starts.segment_start < price_candidates.valid_to)
    order by
        provider asc, model_id asc, segment_start asc, same_provider desc, is_override desc,
        provider_rank asc, key_order asc, pattern_priority desc, price_catalogue_provider asc,
        priced_model asc
    limit 1 by provider, model_id, segment_start

),

segment_prices as (

    -- A segment without a valid row stays, with NULL prices, so that the
    -- as-of join below does not carry the previous segment's price into it.
    select
        segment_starts.*,
        best_by_segment.* except (provider, model_id, segment_start)
    from segment_starts
    left join best_by_segment using (provider, model_id, segment_start)
    settings join_use_nulls = 1

),

priced as (

    select
        calls_with_usage.* except (trace_id, span_id, price_model_id, price_provider, leaf_calls),
        cast(calls_with_usage.trace_id as String) as trace_id,
        cast(calls_with_usage.span_id as String) as span_id,
        best_price.priced_model as priced_model,
        -- The whole request moves to the long-context tier above its threshold.
        best_price.tier_threshold_tokens is not null
        and call_input_tokens > best_price.tier_threshold_tokens as is_tier_price,
        {{ llm_cost_usd(
            'call_input_tokens', 'call_output_tokens', 'cache_read_tokens',
            'cache_write_tokens', 'reasoning_tokens',
            'if(is_tier_price, best_price.tier_input_usd_per_mtok, best_price.input_usd_per_mtok)',
            'if(is_tier_price, best_price.tier_cached_input_usd_per_mtok, best_price.cached_input_usd_per_mtok)',
            'if(is_tier_price, best_price.tier_cache_write_usd_per_mtok, best_price.cache_write_usd_per_mtok)',
            'if(is_tier_price, best_price.tier_output_usd_per_mtok, best_price.output_usd_per_mtok)',
            'best_price.reasoning_usd_per_mtok',
            'best_price.requests_usd_per_k',
        ) }} as cost_usd
    from calls_with_usage
    -- As of the call's start: the segment that began last at or before it.
    asof left join segment_prices as best_price
        on
            calls_with_usage.price_provider = best_price.provider
            and calls_with_usage.price_model_id = best_price.model_id
            and calls_with_usage.started_at >= best_price.segment_start
    settings join_use_nulls = 1

)

select * from priced
