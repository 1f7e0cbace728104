{#- Provider billing exports summed per UTC day, provider and model family,
    to line up with span usage. Billed input is inclusive of cache reads and
    writes, like semconv span counts. -#}
with

usage as (

    select * from {{ ref('stg_billing__provider_usage') }}

),

daily as (

    select
        bucket_date as billed_date,
        {{ normalise_provider('lower(provider)') }} as provider,
        {{ canonical_model('model') }} as model,
        sum(input_tokens) as billed_input_tokens,
        sum(output_tokens) as billed_output_tokens,
        sum(num_model_requests) as billed_requests
    from usage
    group by billed_date, provider, model

)

select * from daily
