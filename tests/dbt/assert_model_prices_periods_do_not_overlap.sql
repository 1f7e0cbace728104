-- Within each price seed, the periods of one catalogue provider + provider +
-- model_pattern never overlap (valid_from inclusive, valid_to exclusive,
-- NULL = open) and each ends after it starts: a price change is a new
-- period, never a second price for the same time. (An override overlaps the
-- catalogue row it corrects on purpose: they live in different seeds.) Two
-- periods overlap exactly when one's start lies inside the other, so every
-- start must lie inside its own period only.
with

prices as (

    select
        'model_prices' as seed,
        catalogue_provider,
        coalesce(provider, '') as provider,
        model_pattern,
        valid_from,
        valid_to
    from {{ ref('model_prices') }}
    union all
    select
        'model_price_overrides' as seed,
        catalogue_provider,
        coalesce(provider, '') as provider,
        model_pattern,
        valid_from,
        valid_to
    from {{ ref('model_price_overrides') }}

),

empty_periods as (

    select
        seed,
        catalogue_provider,
        provider,
        model_pattern,
        valid_from,
        valid_to,
        'valid_to is not after valid_from' as problem
    from prices
    where valid_to <= valid_from

),

overlapping_periods as (

    select
        period_starts.seed,
        period_starts.catalogue_provider,
        period_starts.provider,
        period_starts.model_pattern,
        period_starts.valid_from,
        period_starts.valid_to,
        'start lies inside another period of the same seed, provider and pattern' as problem
    from prices as period_starts
    inner join prices as periods
        on
            period_starts.seed = periods.seed
            and period_starts.catalogue_provider = periods.catalogue_provider
            and period_starts.provider = periods.provider
            and period_starts.model_pattern = periods.model_pattern
    where
        periods.valid_from <= period_starts.valid_from
        and (periods.valid_to is null or period_starts.valid_from < periods.valid_to)
    group by
        period_starts.seed,
        period_starts.catalogue_provider,
        period_starts.provider,
        period_starts.model_pattern,
        period_starts.valid_from,
        period_starts.valid_to
    having count() > 1

)

select * from empty_periods
union all
select * from overlapping_periods
