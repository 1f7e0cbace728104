{#- dbt-clickhouse's delete_insert step, with the delete scoped to the day
    partitions that can hold rows of the replaced keys. The stock delete
    (`delete from <t> where (<key>) in (select <key> from <new data>)`) is a
    mutation of every part of the table, however old. A model that names a
    scope macro under `meta: {delete_scope: <macro>}` gets
    `and <partition_by> in (<days>)` added, the days listed at execution
    time by that macro (incremental_predicates are rendered at parse time,
    possibly by an earlier invocation); no days: no delete. Models without
    it keep the stock statement. Same signature, distributed branch and
    query settings as the adapter's macro, which this one overrides (a root
    project macro wins). -#}
{% macro clickhouse__incremental_delete_insert(
    existing_relation, unique_key, incremental_predicates, is_distributed=False
) %}
    {%- set new_data_relation = existing_relation.incorporate(path={
        "identifier": existing_relation.identifier + '__dbt_new_data_' + invocation_id.replace('-', '_')
    }) -%}
    {{ drop_relation_if_exists(new_data_relation) }}
    {%- set distributed_new_data_relation = existing_relation.incorporate(path={
        "identifier": existing_relation.identifier + '__dbt_distributed_new_data'
    }) -%}
    {%- set inserting_relation = new_data_relation -%}
    {%- set local_suffix = adapter.get_clickhouse_local_suffix() -%}
    {%- set local_db_prefix = adapter.get_clickhouse_local_db_prefix() -%}
    {%- set settings = adapter.get_model_query_settings(model) -%}

    {% if is_distributed %}
    {%- set inserting_relation = distributed_new_data_relation -%}
    {{ create_distributed_local_table(distributed_new_data_relation, new_data_relation, existing_relation, sql) }}
    {% else %}
    {% call statement('main') %}
    {{ get_create_table_as_sql(False, new_data_relation, sql) }}
    {% endcall %}
    {% endif %}

    {%- set scope_days = delete_scope_days(inserting_relation) -%}
    {% if scope_days is none or scope_days | length > 0 %}
    {#- The delete mutation may run on a replica that has not yet synced the new
        data; embedding the setting in the subquery makes it read a fresh snapshot. -#}
    {%- set subquery_settings = (
        ' settings select_sequential_consistency = 1' if target.database_engine == 'Shared' else ''
    ) -%}
    {%- if is_distributed -%}
    {%- set deleted_from = existing_relation.incorporate(path={
        "identifier": this.identifier + local_suffix, "schema": local_db_prefix + this.schema
    }) ~ ' ' ~ on_cluster_clause(existing_relation) -%}
    {%- else -%}
    {%- set deleted_from = existing_relation -%}
    {%- endif -%}
    {%- set predicates = ['(' ~ unique_key ~ ') in (select ' ~ unique_key ~ ' from ' ~ inserting_relation
        ~ subquery_settings ~ ')'] -%}
    {%- if scope_days is not none -%}
    {%- do predicates.append(config.get('partition_by') ~ " in ('" ~ scope_days | join("', '") ~ "')") -%}
    {%- endif -%}
    {%- do predicates.extend(incremental_predicates or []) -%}
    {% call statement('delete_existing_data') %}
    delete from {{ deleted_from }} where {{ predicates | join(' and ') }} {{ settings }}
    {% endcall %}
    {% endif %}

    {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
    {%- set dest_cols_csv = dest_columns | map(attribute='quoted') | join(', ') -%}
    {% call statement('insert_new_data') %}
    insert into {{ existing_relation }} select {{ dest_cols_csv }} from {{ inserting_relation }} {{ settings }}
    {% endcall %}
    {% do adapter.drop_relation(new_data_relation) %}
    {{ drop_relation_if_exists(distributed_new_data_relation) }}
{% endmacro %}


{#- The days (strings, sorted) the delete of the calling delete_insert model
    is limited to: the rows of its `meta.delete_scope` macro run against the
    new data; none (no limit) for a model without one. The model must be
    partitioned by one Date column. -#}
{% macro delete_scope_days(new_data_relation) -%}
    {%- set scope_macro = (config.get('meta') or {}).get('delete_scope') -%}
    {%- if not scope_macro -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if partition_by is not string or not partition_by.isidentifier() -%}
        {{ exceptions.raise_compiler_error(
            this ~ ': meta.delete_scope needs partition_by to be one Date column, not ' ~ partition_by
        ) }}
    {%- endif -%}
    {%- set days_sql -%}
        select distinct toString(day) as day
        from ({{ context[scope_macro](new_data_relation) }})
        order by day
    {%- endset -%}
    {{ return(run_query(days_sql).columns[0].values() | list) }}
{%- endmacro %}


{#- delete_scope of the trace-keyed marts (fct_llm_calls, fct_traces): the
    days an existing row of a trace in the new data can be on. A row was
    computed from the trace's spans in int_spans_deduplicated and is dated
    by one of them (a call by its span, a trace by its first span), so: every
    day the trace has a span on now (a trace crossing midnight, a call that
    became an umbrella, a trace whose first span arrived late), and every day
    int_spans_deduplicated rebuilt since the model last committed (a rebuilt
    day can have lost spans, e.g. a late span on a day whose raw partition
    already expired). Subquery of dates, column `day`. -#}
{% macro trace_delete_scope(new_data_relation) -%}
    select span_date as day
    from {{ ref('int_spans_deduplicated') }}
    where trace_id in (select trace_id from {{ new_data_relation }})
    union distinct
    {{ changed_days('int_spans_deduplicated') }}
{%- endmacro %}
