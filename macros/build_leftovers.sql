{#- on-run-start: drop the work tables a killed build left behind. An
    incremental model writes its new rows to <model>__dbt_new_data_<invocation>
    (dbt-clickhouse) and, when it rebuilds day partitions, to
    <model>__dbt_rebuilt_<invocation> (delete_insert.sql), and drops them once
    its rows are in. A build killed in between (the OOM killer, a lost
    machine) leaves them, each holding a copy of a model's new rows, and no
    later build would use or drop them: the invocation id in their name is
    never seen again. Nothing is lost by dropping them: the killed model's
    record was not committed, so the next build redoes its work. Assumes one
    build at a time per warehouse (`llmwh run` holds a lock; the embedded
    engine serves one process): a concurrent build's work tables would go too. -#}
{% macro drop_tables_left_by_killed_builds(cluster=none) -%}
    {%- if execute -%}
        {%- set on_cluster = " on cluster '" ~ cluster ~ "'" if cluster else '' -%}
        {%- set schemas = graph.nodes.values()
            | selectattr('resource_type', 'in', ['model', 'seed'])
            | map(attribute='schema') | unique | list -%}
        {%- set leftovers = run_query(
            "select database, name from system.tables"
            ~ " where database in ('" ~ schemas | join("', '") ~ "')"
            ~ " and match(name, '__dbt_(new_data|rebuilt)_[0-9a-f]{8}(_[0-9a-f]{4}){3}_[0-9a-f]{12}(_local)?$')"
            ~ " and position(name, '" ~ invocation_id.replace('-', '_') ~ "') = 0"
            ~ " order by database, name"
        ) -%}
        {%- for row in leftovers.rows -%}
            {%- do log('dropping ' ~ row[0] ~ '.' ~ row[1] ~ ', left by a build that did not finish', info=true) -%}
            {%- do run_query('drop table if exists `' ~ row[0] ~ '`.`' ~ row[1] ~ '`' ~ on_cluster ~ ' sync') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
