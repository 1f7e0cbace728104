{#- One row per (provider, bucket, group keys) of the provider usage exports
    loaded by `llmwh load usage`: the latest load of each key wins. -#}
with

source as (

    select * from {{ source('billing', 'provider_usage') }}

),

latest_loads as (

    {#- The raw table is a ReplacingMergeTree (version loaded_at), but parts
        merge in the background, so this view keeps the latest load per key
        (var billing_keys, the table's ORDER BY) itself and never counts a
        reload twice.
        LIMIT 1 BY keeps whole rows of one load; argMax() would skip NULLs and
        mix values of different loads; FINAL would work too, but hides the key
        and holds only for a ReplacingMergeTree. -#}
    select *
    from source
    order by loaded_at desc
    limit 1 by {{ billing_key('provider_usage') }}

),

renamed as (

    select
        ---------- ids
        project_id,
        api_key_id,
        user_id,
        account_id,
        service_account_id,

        ---------- strings
        provider,
        model,
        service_tier,
        api_source,
        context_window,
        inference_geo,
        speed,
        source_format,
        source_file,

        ---------- numerics
        input_tokens,
        uncached_input_tokens,
        cache_read_input_tokens,
        cache_write_input_tokens,
        cache_write_5m_input_tokens,
        cache_write_1h_input_tokens,
        output_tokens,
        input_audio_tokens,
        output_audio_tokens,
        num_model_requests,
        web_search_requests,

        ---------- booleans
        batch as is_batch,

        ---------- timestamps
        bucket_start as bucket_started_at,
        bucket_end as bucket_ended_at,
        loaded_at,

        ---------- derived from the bucket (calculations last, sqlfluff ST06)
        toDate(bucket_start) as bucket_date,
        dateDiff('second', bucket_start, bucket_end) as bucket_seconds

    from latest_loads

)

select * from renamed
