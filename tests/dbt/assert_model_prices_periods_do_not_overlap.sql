-- Price periods of one provider + model_pattern never overlap (valid_from
-- inclusive, valid_to exclusive, NULL = open) and each ends after it starts.
-- Two periods overlap exactly when one's start lies inside the other, so
-- every start must lie inside its own period only.
with

prices as (

    select * from {{ ref('model_prices') }}

),

empty_periods as (

    select
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
        period_starts.provider,
        period_starts.model_pattern,
        period_starts.valid_from,
        period_starts.valid_to,
        'start lies inside another period of the same provider and pattern' as problem
    from prices as period_starts
    inner join prices as periods
        on
            period_starts.provider = periods.provider
            and period_starts.model_pattern = periods.model_pattern
    where
        periods.valid_from <= period_starts.valid_from
        and (periods.valid_to is null or period_starts.valid_from < periods.valid_to)
    group by
        period_starts.provider,
        period_starts.model_pattern,
        period_starts.valid_from,
        period_starts.valid_to
    having count() > 1

)

select * from empty_periods
union all
select * from overlapping_periods
