{#- dbt-clickhouse's delete_insert step, scoped for models that name a scope
    macro in their config (`meta: {delete_scope: <macro>}`); models without
    one, and distributed tables, keep the adapter's statements. The stock
    delete (`delete from <t> where (<key>) in (select <key> from <new
    data>)`) is a mutation, and a mutation visits every part of the table,
    however old: a part without matching rows still has its key column read
    and is cloned to the new mutation version. Instead, the scoped step lists
    at execution time (incremental_predicates are rendered at parse time,
    possibly by an earlier invocation) the days that can hold rows of the
    replaced keys, plus the days of the new rows, and rebuilds exactly those
    day partitions: their rows of other keys and the new rows go to a table
    of the same structure, whose partitions then replace the model's (REPLACE
    PARTITION; a listed day left without rows is dropped). Other partitions
    are not read or touched, and each replaced day changes in one step. New
    data without rows changes nothing. Overrides the adapter's macro (a root
    project macro wins), with its signature and query settings; the others
    get the adapter's own step, reachable as dbt.<macro>, as does a table
    built before its model was partitioned by day (until a --full-refresh
    gives it the model's partitions). -#}
{% macro clickhouse__incremental_delete_insert(
    existing_relation, unique_key, incremental_predicates, is_distributed=False
) %}
    {%- set scope_macro = (config.get('meta') or {}).get('delete_scope') -%}
    {%- if is_distributed or not scope_macro or not partitioned_as_configured(existing_relation) -%}
        {%- do dbt.clickhouse__incremental_delete_insert(
            existing_relation, unique_key, incremental_predicates, is_distributed
        ) -%}
    {%- elif incremental_predicates -%}
        {{ exceptions.raise_compiler_error(this ~ ': meta.delete_scope does not take incremental_predicates') }}
    {%- else -%}
        {%- do scoped_delete_insert(existing_relation, unique_key, scope_macro) -%}
    {%- endif -%}
{% endmacro %}


{#- Whether the model's table is partitioned as its config says now (one
    Date column): a table built before its model was partitioned has no day
    partitions to rebuild. -#}
{% macro partitioned_as_configured(relation) -%}
    {%- set found = run_query(
        "select partition_key from system.tables where database = '" ~ relation.schema
        ~ "' and name = '" ~ relation.identifier ~ "'"
    ).rows | map(attribute=0) | list -%}
    {%- set partition_by = config.get('partition_by') -%}
    {#- dbt-clickhouse writes `partition by (<column>)`. -#}
    {{ return(found | length == 1 and found[0] in [partition_by, '(' ~ partition_by ~ ')']) }}
{%- endmacro %}


{#- The scoped delete_insert step (see clickhouse__incremental_delete_insert). -#}
{% macro scoped_delete_insert(existing_relation, unique_key, scope_macro) %}
    {%- set settings = adapter.get_model_query_settings(model) -%}
    {%- set new_data_relation = existing_relation.incorporate(path={
        "identifier": existing_relation.identifier + '__dbt_new_data_' + invocation_id.replace('-', '_')
    }) -%}
    {%- set rebuilt_relation = existing_relation.incorporate(path={
        "identifier": existing_relation.identifier + '__dbt_rebuilt_' + invocation_id.replace('-', '_')
    }) -%}
    {{ drop_relation_if_exists(new_data_relation) }}
    {{ drop_relation_if_exists(rebuilt_relation) }}
    {% call statement('main') %}
        {{ get_create_table_as_sql(False, new_data_relation, sql) }}
    {% endcall %}

    {%- set days = delete_scope_days(scope_macro, new_data_relation) -%}
    {% if days | length > 0 %}
        {%- set partition_by = config.get('partition_by') -%}
        {%- set day_list = "'" ~ days | join("', '") ~ "'" -%}
        {%- set columns = adapter.get_columns_in_relation(existing_relation) | map(attribute='quoted') | join(', ') -%}
        {% call statement('create_rebuilt_partitions') %}
            create table {{ rebuilt_relation }} as {{ existing_relation }}
        {% endcall %}
        {% call statement('insert_kept_rows') %}
            insert into {{ rebuilt_relation }} ({{ columns }})
            select {{ columns }} from {{ existing_relation }}
            where
                {{ partition_by }} in ({{ day_list }})
                and ({{ unique_key }}) not in (select {{ unique_key }} from {{ new_data_relation }})
            {{ settings }}
        {% endcall %}
        {% call statement('insert_new_data') %}
            insert into {{ rebuilt_relation }} ({{ columns }})
            select {{ columns }} from {{ new_data_relation }}
            {{ settings }}
        {% endcall %}
        {%- set filled = run_query(
            "select distinct partition from system.parts where active and database = '"
            ~ rebuilt_relation.schema ~ "' and table = '" ~ rebuilt_relation.identifier ~ "'"
        ).rows | map(attribute=0) | list -%}
        {%- set commands = [] -%}
        {%- for day in days -%}
            {%- do commands.append(
                "replace partition '" ~ day ~ "' from " ~ rebuilt_relation if day in filled
                else "drop partition '" ~ day ~ "'"
            ) -%}
        {%- endfor -%}
        {% call statement('replace_partitions') %}
            alter table {{ existing_relation }} {{ commands | join(', ') }}
        {% endcall %}
        {% do adapter.drop_relation(rebuilt_relation) %}
    {% endif %}
    {% do adapter.drop_relation(new_data_relation) %}
{% endmacro %}


{#- The day partitions (strings, sorted) the scoped delete_insert rebuilds:
    the rows of the model's scope macro (a subquery of dates, column `day`,
    given the new data: where existing rows of its keys can be) and the days
    of the new rows; none when the new data is empty (no key to replace).
    The model must be partitioned by one Date column. -#}
{% macro delete_scope_days(scope_macro, new_data_relation) -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if partition_by is not string or not partition_by.isidentifier() -%}
        {{ exceptions.raise_compiler_error(
            this ~ ': meta.delete_scope needs partition_by to be one Date column, not ' ~ partition_by
        ) }}
    {%- endif -%}
    {%- set days_sql -%}
        select day
        from (
            select toString(day) as day from ({{ context[scope_macro](new_data_relation) }})
            union distinct
            select toString({{ partition_by }}) as day from {{ new_data_relation }}
        )
        where exists (select 1 from {{ new_data_relation }})
        order by day
    {%- endset -%}
    {#- rows, not columns: a result without rows has no columns. -#}
    {{ return(run_query(days_sql).rows | map(attribute=0) | list) }}
{%- endmacro %}


{#- delete_scope of the trace-keyed models (fct_llm_calls, fct_traces and
    the day-partitioned intermediates of calls): the days an existing row of
    a trace in the new data can be on. A row was computed from the trace's
    spans in int_spans_deduplicated and is dated by one of them (a call by
    its span, a trace by its first span), so: every day a touched trace has a
    span on now (touched_trace_days, recorded by the model's pre-hook: the
    new data holds touched traces only; a trace crossing midnight, a call
    that became an umbrella, a trace whose first span arrived late), and
    every day int_spans_deduplicated rebuilt since the model last committed
    (the raw span days it processed since then, as touched_trace_sources
    follows them: a day whose spans left int_spans_deduplicated, as when it
    is rebuilt with --full-refresh after raw days expired). Subquery of
    dates, column `day`. -#}
{% macro trace_delete_scope(new_data_relation) -%}
    select call_date as day from ({{ touched_trace_days() }})
    union distinct
    {{ changed_days('stg_otel__spans') }}
{%- endmacro %}
