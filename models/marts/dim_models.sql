{{
    config(
        materialized='table',
        order_by='(catalogue_provider, model_family, valid_from)',
    )
}}

{#- The effective-dated model prices (catalogue rows and overrides), one row
    per price period, for dashboards (what a model cost when) and for joining
    on priced_model. -#}
with

prices as (

    select * from {{ ref('int_model_prices_unioned') }}

),

final as (

    select
        ---------- ids
        cast(catalogue_provider as LowCardinality(String)) as catalogue_provider,
        cast(provider as LowCardinality(Nullable(String))) as provider,
        cast(model_family as String) as model_family,
        cast(model_pattern as String) as model_pattern,
        cast(model_exclude_pattern as Nullable(String)) as model_exclude_pattern,

        ---------- strings
        cast(currency as LowCardinality(String)) as currency,
        cast(source as String) as source,
        cast(override_reason as Nullable(String)) as override_reason,

        ---------- numerics
        cast(pattern_priority as UInt16) as pattern_priority,
        cast(provider_rank as UInt16) as provider_rank,
        cast(input_usd_per_mtok as Float64) as input_usd_per_mtok,
        cast(cached_input_usd_per_mtok as Nullable(Float64)) as cached_input_usd_per_mtok,
        cast(cache_write_usd_per_mtok as Nullable(Float64)) as cache_write_usd_per_mtok,
        cast(cache_write_1h_usd_per_mtok as Nullable(Float64)) as cache_write_1h_usd_per_mtok,
        cast(output_usd_per_mtok as Float64) as output_usd_per_mtok,
        cast(coalesce(reasoning_usd_per_mtok, output_usd_per_mtok) as Float64) as reasoning_usd_per_mtok,
        cast(input_audio_usd_per_mtok as Nullable(Float64)) as input_audio_usd_per_mtok,
        cast(output_audio_usd_per_mtok as Nullable(Float64)) as output_audio_usd_per_mtok,
        cast(requests_usd_per_k as Nullable(Float64)) as requests_usd_per_k,
        cast(tier_threshold_tokens as Nullable(UInt32)) as tier_threshold_tokens,
        cast(tier_input_usd_per_mtok as Nullable(Float64)) as tier_input_usd_per_mtok,
        cast(tier_cached_input_usd_per_mtok as Nullable(Float64)) as tier_cached_input_usd_per_mtok,
        cast(tier_cache_write_usd_per_mtok as Nullable(Float64)) as tier_cache_write_usd_per_mtok,
        cast(tier_output_usd_per_mtok as Nullable(Float64)) as tier_output_usd_per_mtok,

        ---------- booleans
        cast(valid_to is null as Bool) as is_current,
        cast(is_override as Bool) as is_override,

        ---------- timestamps
        cast(valid_from as DateTime64(3, 'UTC')) as valid_from,
        cast(valid_to as Nullable(DateTime64(3, 'UTC'))) as valid_to

    from prices

)

select * from final
