-- Token counts are counts: a negative value means a parsing or unit error.
select *
from {{ ref('fct_llm_calls') }}
where
    input_tokens < 0
    or output_tokens < 0
    or cache_read_tokens < 0
    or cache_write_tokens < 0
    or reasoning_tokens < 0
    or total_tokens < 0
