-- Reloading the same or an overlapping usage export never yields a key twice.
select
    provider,
    bucket_started_at,
    bucket_ended_at,
    model,
    project_id,
    api_key_id,
    user_id,
    service_tier,
    is_batch,
    api_source,
    context_window,
    inference_geo,
    speed,
    account_id,
    service_account_id,
    count() as loads
from {{ ref('stg_billing__provider_usage') }}
group by all
having loads > 1
