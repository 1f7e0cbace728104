-- Reloading the same or an overlapping cost export never yields a key twice.
select
    provider,
    bucket_started_at,
    bucket_ended_at,
    project_id,
    api_key_id,
    line_item,
    model,
    cost_type,
    token_type,
    service_tier,
    context_window,
    inference_geo,
    speed,
    count() as loads
from {{ ref('stg_billing__provider_costs') }}
group by all
having loads > 1
