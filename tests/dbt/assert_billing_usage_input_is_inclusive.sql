-- input_tokens includes cache reads and writes: never below either, and for
-- Anthropic exactly uncached + cache read + cache write.
select
    provider,
    bucket_started_at,
    model,
    project_id,
    input_tokens,
    uncached_input_tokens,
    cache_read_input_tokens,
    cache_write_input_tokens
from {{ ref('stg_billing__provider_usage') }}
where
    input_tokens < cache_read_input_tokens
    or input_tokens < cache_write_input_tokens
    or (
        provider = 'anthropic'
        and input_tokens
        != uncached_input_tokens + cache_read_input_tokens + cache_write_input_tokens
    )
