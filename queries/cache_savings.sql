-- Prompt-cache savings over the last 7 days, per provider and model: what the
-- cache-read tokens would have cost at the uncached input price, minus what
-- they cost, and the premium paid for cache writes (Anthropic bills writes
-- above the input price).
--
-- Each call is priced with the dim_models row that priced it (fct_llm_calls.
-- priced_model is the pattern; the call's start falls inside the price period;
-- the call's own provider wins when two providers price the pattern). A NULL
-- cached or cache-write price means those tokens bill at the input rate: no
-- saving, no premium. Long-context tier prices are ignored here.
--
-- clickhouse-client --queries-file queries/cache_savings.sql
-- llmwh sql - < queries/cache_savings.sql
with

priced_calls as (

    select
        calls.call_id as call_id,
        calls.provider as provider,
        calls.model_family as model,
        calls.cost_usd as call_cost_usd,
        calls.input_tokens as call_input_tokens,
        coalesce(calls.cache_read_tokens, 0) as read_tokens,
        coalesce(calls.cache_write_tokens, 0) as write_tokens,
        prices.input_usd_per_mtok as input_rate,
        coalesce(prices.cached_input_usd_per_mtok, prices.input_usd_per_mtok) as cache_read_rate,
        coalesce(prices.cache_write_usd_per_mtok, prices.input_usd_per_mtok) as cache_write_rate
    from llm.fct_llm_calls as calls
    inner join llm.dim_models as prices on calls.priced_model = prices.model_pattern
    where
        calls.started_at >= now() - interval 7 day
        and calls.is_priced
        and calls.started_at >= prices.valid_from
        and (prices.valid_to is null or calls.started_at < prices.valid_to)
    order by call_id asc, prices.provider = calls.provider desc, prices.provider asc
    limit 1 by call_id

)

select
    coalesce(provider, '') as provider,
    coalesce(model, '') as model,
    count() as priced_calls,
    countIf(read_tokens > 0) as calls_with_cache_hits,
    sum(call_input_tokens) as input_tokens,
    sum(read_tokens) as cache_read_tokens,
    sum(write_tokens) as cache_write_tokens,
    round(sum(read_tokens) / nullIf(sum(call_input_tokens), 0), 4) as cache_hit_share,
    round(sum(call_cost_usd), 6) as cost_usd,
    round(sum(read_tokens * (input_rate - cache_read_rate)) / 1e6, 6) as cache_read_savings_usd,
    round(sum(write_tokens * (cache_write_rate - input_rate)) / 1e6, 6) as cache_write_premium_usd,
    cache_read_savings_usd - cache_write_premium_usd as net_savings_usd,
    -- what the calls would have cost without the cache, and the share saved
    round(net_savings_usd / nullIf(cost_usd + net_savings_usd, 0), 4) as net_savings_share
from priced_calls
group by provider, model
order by net_savings_usd desc, provider asc, model asc;
