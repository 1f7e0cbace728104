{#- Every price row the cost models may use: the catalogue rows generated
    from genai-prices (seed model_prices) and the project's sourced
    corrections (seed model_price_overrides), each with its catalogue
    provider's rank and maker flag (seed price_providers). Overrides win over catalogue rows
    in int_llm_calls_priced's ranking; no row is edited or dropped here. -#}
with

catalogue as (

    select
        *,
        false as is_override,
        cast(null as Nullable(String)) as override_reason
    from {{ ref('model_prices') }}

),

overrides as (

    select
        * except (reason),
        true as is_override,
        reason as override_reason
    from {{ ref('model_price_overrides') }}

),

provider_ranks as (

    select
        catalogue_provider,
        min(provider_rank) as provider_rank,
        max(is_maker) as is_maker
    from {{ ref('price_providers') }}
    group by catalogue_provider

),

unioned as (

    select * from catalogue
    union all
    select * from overrides

),

ranked as (

    select
        unioned.* except (catalogue_provider),
        unioned.catalogue_provider as catalogue_provider,
        provider_ranks.provider_rank as provider_rank,
        provider_ranks.is_maker as is_maker
    from unioned
    left join provider_ranks on unioned.catalogue_provider = provider_ranks.catalogue_provider
    settings join_use_nulls = 1

)

select * from ranked
