{{
    config(
        materialized='table',
        order_by='(provider, model_family, valid_from)',
    )
}}

{#- The seeded, effective-dated model prices, one row per price period, for
    dashboards (what a model cost when) and for joining on priced_model. -#}
with

prices as (

    select * from {{ ref('model_prices') }}

),

final as (

    select
        ---------- ids
        cast(provider as LowCardinality(String)) as provider,
        cast(model_family as String) as model_family,
        cast(model_pattern as String) as model_pattern,

        ---------- strings
        cast(currency as LowCardinality(String)) as currency,
        cast(source as String) as source,

        ---------- numerics
        cast(pattern_priority as UInt8) as pattern_priority,
        cast(input_usd_per_mtok as Float64) as input_usd_per_mtok,
        cast(cached_input_usd_per_mtok as Nullable(Float64)) as cached_input_usd_per_mtok,
        cast(cache_write_usd_per_mtok as Nullable(Float64)) as cache_write_usd_per_mtok,
        cast(output_usd_per_mtok as Float64) as output_usd_per_mtok,
        cast(coalesce(reasoning_usd_per_mtok, output_usd_per_mtok) as Float64) as reasoning_usd_per_mtok,
        cast(tier_threshold_tokens as Nullable(UInt32)) as tier_threshold_tokens,
        cast(tier_input_usd_per_mtok as Nullable(Float64)) as tier_input_usd_per_mtok,
        cast(tier_cached_input_usd_per_mtok as Nullable(Float64)) as tier_cached_input_usd_per_mtok,
        cast(tier_cache_write_usd_per_mtok as Nullable(Float64)) as tier_cache_write_usd_per_mtok,
        cast(tier_output_usd_per_mtok as Nullable(Float64)) as tier_output_usd_per_mtok,

        ---------- booleans
        cast(valid_to is null as Bool) as is_current,

        ---------- timestamps
        cast(valid_from as DateTime64(3, 'UTC')) as valid_from,
        cast(valid_to as Nullable(DateTime64(3, 'UTC'))) as valid_to

    from prices

)

select * from final
