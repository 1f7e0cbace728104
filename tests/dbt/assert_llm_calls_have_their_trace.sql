-- Every call's trace has its row in fct_traces. In an incremental `dbt
-- build` (the scheduled run) only the traces fct_llm_calls recomputed in this
-- invocation are checked, on the days they have spans on (a call is dated by
-- its span, a trace by its first span): the others were checked when they
-- were written. `dbt test`, a first build and --full-refresh check every
-- call (recomputed_traces_only).
{%- set scoped = recomputed_traces_only('fct_llm_calls') %}
-- depends_on: {{ touched_traces_depends_on() }}
with

calls as (

    select distinct trace_id
    from {{ ref('fct_llm_calls') }}
    {% if scoped -%}
        where {{ of_touched_traces('call_date', consumer='fct_llm_calls') }}
    {% endif -%}

),

traces as (

    select trace_id
    from {{ ref('fct_traces') }}
    {% if scoped -%}
        where {{ of_touched_traces('trace_date', consumer='fct_llm_calls') }}
    {% endif -%}

),

calls_without_trace as (

    select calls.trace_id
    from calls
    left anti join traces on calls.trace_id = traces.trace_id

)

select * from calls_without_trace
