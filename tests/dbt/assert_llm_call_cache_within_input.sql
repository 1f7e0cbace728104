-- Cache reads and writes are part of input (semconv counts are inclusive).
select *
from {{ ref('fct_llm_calls') }}
where coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0) > input_tokens
