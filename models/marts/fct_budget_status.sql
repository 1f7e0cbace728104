{#- One row per budget (seeds/budgets.csv) for the period that contains the
    as-of time: spend to date, utilisation, a linear and a day-of-week aware
    forecast to the period end, and the threshold state. Rebuilt every run
    (a table): budgets are few and the as-of time moves with the data. Spend
    per service, provider and model family comes from the hourly rollup
    (fct_usage_hourly); calls are read only for what it cannot answer: the
    as-of hour (the rollup's hour may run past the as-of time) and, when a
    budget is scoped to a user, team or api key (not in the rollup), the
    days the result can depend on. So a run reads a bounded window, however
    long the history. -#}
with

calls as (

    select * from {{ ref('fct_llm_calls') }}

),

hourly as (

    select * from {{ ref('fct_usage_hourly') }}

),

budgets as (

    select * from {{ ref('budgets') }}

),

call_days as (

    -- The partition key alone: a narrow column, often answered from part metadata.
    select
        min(call_date) as first_call_date,
        max(call_date) as last_call_date
    from calls

),

newest_call as (

    -- call_date is the day of started_at: the newest call is on the newest day.
    select max(started_at) as newest_started_at
    from calls
    where call_date = (select any(last_call_date) from call_days)

),

as_of as (

    -- The newest call, or var budget_as_of (tests, what-if); never the wall clock.
    select
        {% if var('budget_as_of', none) -%}
            -- Read as UTC, typed like started_at.
            fromUnixTimestamp64Nano(toUnixTimestamp64Nano(toDateTime64('{{ var("budget_as_of") }}', 9, 'UTC')))
                as as_of,
        {%- else -%}
            newest_call.newest_started_at as as_of,
        {%- endif %}
        toDate(as_of) as as_of_date,
        toStartOfHour(as_of) as as_of_hour,
        -- The first day spend is summed over: the month's or the forecast window's.
        least(toStartOfMonth(as_of_date), as_of_date - {{ var('budget_forecast_window_days') | int }})
            as first_spend_date,
        call_days.first_call_date as first_call_date
    from call_days
    cross join newest_call

),

budget_periods as (

    select
        budgets.budget_id as budget_id,
        budgets.scope as scope,
        coalesce(budgets.scope_value, '') as scope_value,
        budgets.period as period,
        budgets.description as description,
        budgets.amount_usd as amount_usd,
        budgets.warn_threshold as warn_threshold,
        budgets.critical_threshold as critical_threshold,
        as_of.as_of as as_of,
        as_of.as_of_date as as_of_date,
        as_of.first_call_date as first_call_date,
        if(budgets.period = 'month', toStartOfMonth(as_of.as_of_date), as_of.as_of_date) as period_start,
        if(budgets.period = 'month', addMonths(period_start, 1), addDays(period_start, 1)) as period_end
    from budgets
    cross join as_of

),

call_scoped_budgets as (

    -- Scopes fct_usage_hourly does not have: their spend is read from the calls.
    select count() > 0 as has_call_scoped_budgets
    from budgets
    where scope in ('user', 'team', 'api_key')

),

scoped_hours as (

    -- Every full hour before the as-of hour once per scope the rollup has.
    select
        call_date,
        cost_usd,
        calls,
        unpriced_successful_calls,
        arrayJoin([
            ('all', ''),
            ('service', toString(service_name)),
            ('model', model_family),
            ('provider', toString(provider))
        ]) as scope_key
    from hourly
    where
        call_date >= (select any(first_spend_date) from as_of)
        and call_hour < (select any(as_of_hour) from as_of)

),

scoped_calls as (

    -- The calls of the as-of hour up to the as-of time once per scope, and
    -- the other calls of the window once per scope the rollup lacks (read
    -- only when a budget has such a scope).
    select
        call_date,
        cost_usd,
        toUInt64(1) as calls,
        toUInt64(not is_priced and not is_error) as unpriced_successful_calls,
        arrayJoin(arrayFilter(
            key -> started_at >= (select any(as_of_hour) from as_of)
            or tupleElement(key, 1) in ('user', 'team', 'api_key'),
            [
                ('all', ''),
                ('service', toString(service_name)),
                ('model', coalesce(model_family, '')),
                ('provider', coalesce(provider, '')),
                ('user', coalesce(user_id, '')),
                ('team', coalesce(team, '')),
                ('api_key', coalesce(api_key, ''))
            ]
        )) as scope_key
    from calls
    where
        started_at <= (select any(as_of) from as_of)
        and call_date >= (select any(first_spend_date) from as_of)
        and (
            -- The day too, so that only its partition is read.
            call_date >= (select any(as_of_date) from as_of) and started_at >= (select any(as_of_hour) from as_of)
            or (select any(has_call_scoped_budgets) from call_scoped_budgets)
        )

),

scoped as (

    select * from scoped_hours
    union all
    select * from scoped_calls

),

daily_spend as (

    select
        tupleElement(scope_key, 1) as scope,
        tupleElement(scope_key, 2) as scope_value,
        call_date,
        coalesce(sum(cost_usd), 0) as spend_usd,
        sum(calls) as calls,
        sum(unpriced_successful_calls) as unpriced_calls
    from scoped
    where tupleElement(scope_key, 1) = 'all' or tupleElement(scope_key, 2) != ''
    group by scope, scope_value, call_date

),

period_spend as (

    select
        budget_periods.budget_id as budget_id,
        sum(daily_spend.spend_usd) as spend_usd,
        sum(daily_spend.calls) as calls,
        sum(daily_spend.unpriced_calls) as unpriced_calls
    from budget_periods
    inner join daily_spend
        on
            budget_periods.scope = daily_spend.scope
            and budget_periods.scope_value = daily_spend.scope_value
    where
        daily_spend.call_date >= budget_periods.period_start
        and daily_spend.call_date <= budget_periods.as_of_date
    group by budget_periods.budget_id

),

trailing_days as (

    -- The full days before the as-of day that the weekday averages cover:
    -- budget_forecast_window_days of them, none before the first call.
    select
        budget_id,
        scope,
        scope_value,
        as_of_date - 1 - arrayJoin(range(toUInt32({{ var('budget_forecast_window_days') }}))) as trailing_date
    from budget_periods
    where trailing_date >= first_call_date

),

weekday_averages as (

    select
        trailing_days.budget_id as budget_id,
        toDayOfWeek(trailing_days.trailing_date) as day_of_week,
        sum(coalesce(daily_spend.spend_usd, 0)) / count() as avg_spend_usd
    from trailing_days
    left join daily_spend
        on
            trailing_days.scope = daily_spend.scope
            and trailing_days.scope_value = daily_spend.scope_value
            and trailing_days.trailing_date = daily_spend.call_date
    group by trailing_days.budget_id, day_of_week
    settings join_use_nulls = 1

),

measured as (

    select
        budget_periods.*,
        coalesce(period_spend.spend_usd, 0) as spend_usd,
        coalesce(period_spend.calls, 0) as calls,
        coalesce(period_spend.unpriced_calls, 0) as unpriced_calls,
        dateDiff('second', toDateTime(budget_periods.period_start, 'UTC'), budget_periods.as_of) / 86400
            as elapsed_days,
        dateDiff('day', budget_periods.period_start, budget_periods.period_end) as period_days,
        -- What is left of the as-of day, as a fraction of a day.
        1 - dateDiff('second', toStartOfDay(budget_periods.as_of), budget_periods.as_of) / 86400
            as rest_of_as_of_day
    from budget_periods
    left join period_spend using (budget_id)
    settings join_use_nulls = 1

),

remaining_days as (

    -- The rest of the as-of day (weighted by what is left of it) and every
    -- later day of the period.
    select
        budget_id,
        as_of_date + arrayJoin(range(toUInt32(dateDiff('day', as_of_date, period_end)))) as remaining_date,
        if(remaining_date = as_of_date, rest_of_as_of_day, 1) as day_weight
    from measured

),

remaining_spend as (

    select
        remaining_days.budget_id as budget_id,
        sum(remaining_days.day_weight * weekday_averages.avg_spend_usd) as weekday_spend_usd,
        sumIf(remaining_days.day_weight, weekday_averages.avg_spend_usd is null) as days_without_weekday_average
    from remaining_days
    left join weekday_averages
        on
            remaining_days.budget_id = weekday_averages.budget_id
            and toDayOfWeek(remaining_days.remaining_date) = weekday_averages.day_of_week
    group by remaining_days.budget_id
    settings join_use_nulls = 1

),

forecast as (

    select
        measured.*,
        measured.spend_usd / nullIf(measured.elapsed_days, 0) as linear_daily_spend_usd,
        linear_daily_spend_usd * measured.period_days as forecast_linear_usd,
        -- Weekdays the trailing window has not seen yet fall back to the linear daily rate.
        measured.spend_usd
        + coalesce(remaining_spend.weekday_spend_usd, 0)
        + remaining_spend.days_without_weekday_average * linear_daily_spend_usd as forecast_weekday_usd
    from measured
    left join remaining_spend using (budget_id)

),

final as (

    select
        ---------- ids
        cast(budget_id as String) as budget_id,

        ---------- strings
        cast(scope as LowCardinality(String)) as scope,
        cast(scope_value as String) as scope_value,
        cast(period as LowCardinality(String)) as period,
        cast(description as Nullable(String)) as description,
        cast(
            multiIf(
                spend_usd >= amount_usd * critical_threshold, 'exceeded',
                spend_usd >= amount_usd * warn_threshold, 'warning',
                greatest(forecast_linear_usd, forecast_weekday_usd) >= amount_usd * critical_threshold,
                'forecast_over',
                'ok'
            ) as LowCardinality(String)
        ) as threshold_state,

        ---------- numerics
        cast(amount_usd as Float64) as amount_usd,
        cast(warn_threshold as Float64) as warn_threshold,
        cast(critical_threshold as Float64) as critical_threshold,
        cast(spend_usd as Float64) as spend_usd,
        cast(spend_usd / nullIf(amount_usd, 0) as Nullable(Float64)) as utilisation,
        cast(calls as UInt64) as calls,
        cast(unpriced_calls as UInt64) as unpriced_calls,
        cast(elapsed_days as Float64) as elapsed_days,
        cast(period_days as UInt16) as period_days,
        cast(forecast_linear_usd as Nullable(Float64)) as forecast_linear_usd,
        cast(forecast_weekday_usd as Nullable(Float64)) as forecast_weekday_usd,
        cast(
            greatest(forecast_linear_usd, forecast_weekday_usd) / nullIf(amount_usd, 0) as Nullable(Float64)
        ) as forecast_utilisation,

        ---------- booleans
        cast(unpriced_calls = 0 as Bool) as cost_complete,

        ---------- dates and timestamps
        cast(period_start as Date) as period_start,
        cast(period_end as Date) as period_end,
        cast(as_of as DateTime64(9)) as as_of

    from forecast

)

select * from final
