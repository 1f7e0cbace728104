{#- The marts' own retention (var mart_retention_days, 0 = keep forever): an
    ALTER dropping the mart's day partitions that many days or more before
    today, or nothing. A post-hook of every mart; tables without day
    partitions are left alone. Whole partitions only, as the raw tables' TTL. -#}
{% macro drop_partitions_beyond_retention() -%}
    {%- set days = var('mart_retention_days') | int -%}
    {%- if execute and days > 0 -%}
        {%- set expired = run_query(
            "select distinct partition from system.parts where active"
            ~ " and database = '" ~ this.schema ~ "' and table = '" ~ this.identifier ~ "'"
            ~ " and toDateOrNull(partition) <= today() - " ~ days ~ " order by partition"
        ).columns[0].values() -%}
        {%- if expired | length > 0 -%}
            {{ "alter table " ~ this ~ " drop partition '" ~ expired | join("', drop partition '") ~ "'" }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
