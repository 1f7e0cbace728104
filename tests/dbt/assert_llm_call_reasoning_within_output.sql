-- Reasoning tokens are part of output (semconv counts are inclusive).
select *
from {{ ref('fct_llm_calls') }}
where reasoning_tokens > output_tokens
