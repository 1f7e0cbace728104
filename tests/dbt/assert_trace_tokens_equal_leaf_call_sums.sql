-- Trace totals are sums over leaf calls only: no umbrella span adds to them.
with

calls as (

    select
        trace_id,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens
    from {{ ref('fct_llm_calls') }}
    group by trace_id

),

traces as (

    select * from {{ ref('fct_traces') }}

)

select
    traces.trace_id,
    traces.input_tokens,
    calls.input_tokens as call_input_tokens
from traces
inner join calls on traces.trace_id = calls.trace_id
where
    not isNotDistinctFrom(traces.input_tokens, calls.input_tokens)
    or not isNotDistinctFrom(traces.output_tokens, calls.output_tokens)
