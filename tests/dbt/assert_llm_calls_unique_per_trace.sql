-- A span delivered more than once still yields one call. In an incremental
-- `dbt build` (the scheduled run) only the traces fct_llm_calls recomputed in
-- this invocation are checked, on the days they have spans on (where its
-- calls are dated): the others were checked when they were written. `dbt
-- test`, a first build and --full-refresh check every call
-- (recomputed_traces_only).
{%- set scoped = recomputed_traces_only('fct_llm_calls') %}
-- depends_on: {{ touched_traces_depends_on() }}
with

calls as (

    select
        trace_id,
        call_id
    from {{ ref('fct_llm_calls') }}
    {% if scoped -%}
        where {{ of_touched_traces('call_date', consumer='fct_llm_calls') }}
    {% endif -%}

),

repeated as (

    select
        trace_id,
        call_id,
        count() as deliveries
    from calls
    group by trace_id, call_id
    having deliveries > 1

)

select * from repeated
