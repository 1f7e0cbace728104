{#- One row per (provider, day bucket, group keys) of the provider cost exports
    loaded by `llmwh load usage`: the latest load of each key wins. Amounts are
    dollars (Anthropic's cents are converted at load). -#}
with

source as (

    select * from {{ source('billing', 'provider_costs') }}

),

latest_loads as (

    {#- Latest load per key, as in stg_billing__provider_usage: correct before
        the ReplacingMergeTree's background merges have run. -#}
    select *
    from source
    order by loaded_at desc
    limit 1 by {{ billing_key('provider_costs') }}

),

renamed as (

    select
        ---------- ids
        project_id,
        api_key_id,

        ---------- strings
        provider,
        line_item,
        model,
        cost_type,
        token_type,
        service_tier,
        context_window,
        inference_geo,
        speed,
        currency,
        amount_raw,
        source_format,
        source_file,

        ---------- numerics
        amount,
        amount_usd,

        ---------- timestamps
        bucket_start as bucket_started_at,
        bucket_end as bucket_ended_at,
        loaded_at,

        ---------- derived from the bucket (calculations last, sqlfluff ST06)
        toDate(bucket_start) as bucket_date

    from latest_loads

)

select * from renamed
