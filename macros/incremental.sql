{#- The first day an incremental run re-processes: `lookback_days` before
    the newest day already in the target, so late data is picked up and whole
    day partitions are rebuilt (insert_overwrite) rather than appended to. -#}
{% macro incremental_window_start(date_column) -%}
    (
        select max({{ date_column }}) - {{ var('lookback_days') }}
        from {{ this }}
    )
{%- endmacro %}
