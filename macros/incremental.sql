{#- The first day an incremental run re-processes: `lookback_days` before
    the newest day already in the target, so late data is picked up and whole
    day partitions are rebuilt rather than appended to. On an empty target the
    window starts at the epoch (everything is processed): max() of an empty
    Date column is 1970-01-01, and subtracting from it would wrap to 2149.
    `extra_days` reaches further back (e.g. for a predecessor row). -#}
{% macro incremental_window_start(date_column, extra_days=0) -%}
    {%- set days = var('lookback_days') | int + extra_days -%}
    (
        select greatest(max({{ date_column }}), toDate('1970-01-01') + {{ days }}) - {{ days }}
        from {{ this }}
    )
{%- endmacro %}


{#- Traces a trace-keyed incremental model re-computes this run: those with a
    span in the window of days it re-processes. The model then reads every
    span of these traces, whatever its day, and replaces their rows
    (delete_insert on trace_id), so a trace crossing midnight or arriving over
    two runs keeps one row. -#}
{% macro touched_traces(date_column) -%}
    select distinct trace_id
    from {{ ref('int_spans_deduplicated') }}
    where span_date >= {{ incremental_window_start(date_column) }}
{%- endmacro %}
