-- Price-change impact over the last 7 days, per provider and model: what the
-- calls cost at the price in effect when they ran (cost_usd), what they would
-- have cost at the price period before that one, and at today's price.
-- impact_vs_previous_usd < 0 means the last price change saved that much on
-- the calls it applies to (calls_with_previous_price: a dated snapshot can
-- have one price period while its family has several); previous_price_until
-- says when that change happened. Models whose price never changed have none.
--
-- The re-pricing prices each token bucket once, as the warehouse does:
-- uncached input, cache reads, cache writes, output without reasoning and
-- reasoning, each at its rate (a NULL cached or cache-write rate bills at the
-- input rate). Long-context tier prices are ignored, so repriced_at_call_usd
-- can differ from cost_usd for calls above a tier threshold; elsewhere the two
-- agree and show the re-pricing is right.
--
-- clickhouse-client --queries-file queries/price_change_impact.sql
-- llmwh sql - < queries/price_change_impact.sql
with

calls as (

    select
        call_id,
        provider,
        model_family as model,
        priced_model,
        started_at,
        cost_usd,
        coalesce(input_tokens, 0) as input_tok,
        coalesce(output_tokens, 0) as output_tok,
        coalesce(cache_read_tokens, 0) as read_tok,
        coalesce(cache_write_tokens, 0) as write_tok,
        coalesce(reasoning_tokens, 0) as reasoning_tok
    from llm.fct_llm_calls
    where started_at >= now() - interval 7 day and is_priced

),

price_at_call as (

    -- the dim_models row that priced the call: its pattern and period; an
    -- override first, then a row limited to the call's provider, then the
    -- provider rank (the matching rule of seeds/_seeds.yml, as far as the
    -- marts show it)
    select
        calls.call_id as call_id,
        prices.catalogue_provider as price_catalogue_provider,
        coalesce(prices.provider, '') as price_provider,
        prices.is_override as price_is_override,
        prices.valid_from as period_from
    from calls
    inner join llm.dim_models as prices on calls.priced_model = prices.model_pattern
    where
        calls.started_at >= prices.valid_from
        and (prices.valid_to is null or calls.started_at < prices.valid_to)
        and (prices.provider is null or prices.provider = calls.provider)
    order by
        call_id asc, prices.is_override desc, prices.provider = calls.provider desc, prices.provider_rank asc,
        prices.catalogue_provider asc
    limit 1 by call_id

),

call_periods as (

    -- every price period of the pattern that priced the call, in the same
    -- price list (catalogue provider, provider limit, override or catalogue)
    select
        calls.call_id as call_id,
        calls.provider as provider,
        calls.model as model,
        calls.cost_usd as cost_usd,
        price_at_call.period_from as period_from,
        prices.valid_from as valid_from,
        prices.valid_to as valid_to,
        prices.is_current as is_current,
        (
            (calls.input_tok - calls.read_tok - calls.write_tok) * prices.input_usd_per_mtok
            + calls.read_tok * coalesce(prices.cached_input_usd_per_mtok, prices.input_usd_per_mtok)
            + calls.write_tok * coalesce(prices.cache_write_usd_per_mtok, prices.input_usd_per_mtok)
            + (calls.output_tok - calls.reasoning_tok) * prices.output_usd_per_mtok
            + calls.reasoning_tok * prices.reasoning_usd_per_mtok
        ) / 1e6 as repriced_usd
    from calls
    inner join price_at_call on calls.call_id = price_at_call.call_id
    inner join llm.dim_models as prices
        on
            calls.priced_model = prices.model_pattern
            and price_at_call.price_catalogue_provider = prices.catalogue_provider
            and price_at_call.price_provider = coalesce(prices.provider, '')
            and price_at_call.price_is_override = prices.is_override

),

per_call as (

    select
        call_id,
        any(provider) as provider,
        any(model) as model,
        any(cost_usd) as call_cost_usd,
        sumIf(repriced_usd, valid_from = period_from) as at_call_usd,
        sumIf(repriced_usd, is_current) as at_current_usd,
        countIf(valid_from < period_from) > 0 as has_previous,
        if(has_previous, argMaxIf(repriced_usd, valid_from, valid_from < period_from), null) as at_previous_usd,
        if(has_previous, maxIf(valid_to, valid_from < period_from), null) as previous_until
    from call_periods
    group by call_id

)

select
    coalesce(provider, '') as provider,
    coalesce(model, '') as model,
    count() as priced_calls,
    round(sum(call_cost_usd), 6) as cost_usd,
    round(sum(at_call_usd), 6) as repriced_at_call_usd,
    round(sum(at_current_usd), 6) as at_current_price_usd,
    round(sum(at_current_usd) - sum(call_cost_usd), 6) as change_if_repriced_today_usd,
    -- calls whose pattern had an earlier price period (others: 0 and NULL)
    countIf(has_previous) as calls_with_previous_price,
    max(previous_until) as previous_price_until,
    round(sumIf(call_cost_usd, has_previous), 6) as their_cost_usd,
    round(sum(at_previous_usd), 6) as their_cost_at_previous_price_usd,
    round(sumIf(call_cost_usd, has_previous) - sum(at_previous_usd), 6) as impact_vs_previous_usd
from per_call
group by provider, model
order by impact_vs_previous_usd asc nulls last, cost_usd desc, provider asc, model asc;
