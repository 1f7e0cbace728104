-- A span delivered more than once still yields one call.
select
    trace_id,
    call_id,
    count() as deliveries
from {{ ref('fct_llm_calls') }}
group by trace_id, call_id
having deliveries > 1
