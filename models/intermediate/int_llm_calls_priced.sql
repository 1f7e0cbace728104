{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        order_by='(trace_id, span_id)',
    )
}}

{#- Leaf LLM calls with usage (span first, else the app's token logs of the
    same trace) and cost from the price valid at the call's start time.
    An incremental run prices the calls of the traces touched in its window;
    after the price seed changes, run with --full-refresh to re-price history. -#}
with

-- depends_on: {{ ref('int_spans_deduplicated') }}
calls as (

    select * from {{ ref('int_llm_calls_classified') }}
    where
        is_leaf_inference
        {% if is_incremental() %}
            and trace_id in ({{ touched_traces('span_date') }})
        {% endif %}

),

token_logs as (

    select * from {{ ref('int_app_token_logs_deduplicated') }}
    {% if is_incremental() %}
        where trace_id in ({{ touched_traces('span_date') }})
    {% endif %}

),

prices as (

    select * from {{ ref('model_prices') }}

),

leaf_calls_per_trace as (

    select
        trace_id,
        count() as leaf_calls
    from calls
    group by trace_id

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
        and leaf_calls_per_trace.leaf_calls = 1
        and log_usage_per_trace.log_prompt_tokens is not null as use_log_usage,
        if(use_log_usage, log_usage_per_trace.log_prompt_tokens, calls.input_tokens) as call_input_tokens,
        if(use_log_usage, log_usage_per_trace.log_completion_tokens, calls.output_tokens) as call_output_tokens,
        multiIf(
            calls.input_tokens is not null or calls.output_tokens is not null, 'span',
            use_log_usage, 'log',
            'none'
        ) as usage_source
    from calls
    left join leaf_calls_per_trace using (trace_id)
    left join log_usage_per_trace using (trace_id)
    settings join_use_nulls = 1

),

model_ids as (

    -- Every distinct model id the calls name, as matched against patterns.
    select distinct lower(coalesce(response_model, '')) as model_key
    from calls_with_usage
    union distinct
    select distinct lower(coalesce(request_model, '')) as model_key
    from calls_with_usage

),

prices_by_model_id as (

    -- Regex matching runs once per distinct model id and price row, never per
    -- call: calls then equi-join on the id.
    select
        model_ids.model_key as model_key,
        prices.*
    from model_ids
    cross join prices
    where match(model_ids.model_key, prices.model_pattern)

),

calls_by_model_id as (

    -- Each call once per id it may be priced by: the response model (the
    -- resolved id) and the request model.
    select
        span_id,
        trace_id,
        provider,
        started_at,
        lower(coalesce(response_model, '')) as model_key,
        true as on_response
    from calls_with_usage
    union all
    select
        span_id,
        trace_id,
        provider,
        started_at,
        lower(coalesce(request_model, '')) as model_key,
        false as on_response
    from calls_with_usage

),

price_candidates as (

    -- Every price row whose pattern matches the response or request model
    -- and whose period contains the call's start time (an as-of match).
    select
        calls_by_model_id.span_id as span_id,
        calls_by_model_id.trace_id as trace_id,
        prices_by_model_id.model_pattern as priced_model,
        prices_by_model_id.provider as price_provider,
        prices_by_model_id.input_usd_per_mtok,
        prices_by_model_id.cached_input_usd_per_mtok,
        prices_by_model_id.cache_write_usd_per_mtok,
        prices_by_model_id.output_usd_per_mtok,
        prices_by_model_id.reasoning_usd_per_mtok,
        prices_by_model_id.tier_threshold_tokens,
        prices_by_model_id.tier_input_usd_per_mtok,
        prices_by_model_id.tier_cached_input_usd_per_mtok,
        prices_by_model_id.tier_cache_write_usd_per_mtok,
        prices_by_model_id.tier_output_usd_per_mtok,
        -- Response model (the resolved id) beats request model; the call's
        -- own provider beats another provider's price for the same model;
        -- then the most specific pattern; then provider name, so the pick is
        -- deterministic when two other providers price the same pattern.
        calls_by_model_id.on_response as on_response,
        prices_by_model_id.provider = calls_by_model_id.provider as same_provider,
        prices_by_model_id.pattern_priority as pattern_priority
    from calls_by_model_id
    inner join prices_by_model_id on calls_by_model_id.model_key = prices_by_model_id.model_key
    where
        calls_by_model_id.started_at >= prices_by_model_id.valid_from
        and (prices_by_model_id.valid_to is null or calls_by_model_id.started_at < prices_by_model_id.valid_to)

),

best_price as (

    select *
    from price_candidates
    order by trace_id asc, span_id asc, on_response desc, same_provider desc, pattern_priority desc, price_provider asc
    limit 1 by trace_id, span_id

),

priced as (

    select
        calls_with_usage.* except (trace_id, span_id),
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
        ) }} as cost_usd
    from calls_with_usage
    left join best_price using (trace_id, span_id)
    settings join_use_nulls = 1

)

select * from priced
