{#- The key of a provider billing table (var billing_keys) as a comma list of
    its raw column names, e.g. for LIMIT 1 BY or GROUP BY. -#}
{% macro billing_key(table_name) -%}
    {%- set key = var('billing_keys')[table_name] -%}
    {%- if key is not defined -%}
        {{ exceptions.raise_compiler_error(
            "billing_key: no key for '" ~ table_name ~ "' in var billing_keys"
        ) }}
    {%- endif -%}
    {{ key | join(', ') }}
{%- endmacro %}


{#- Generic test on a billing staging view: it holds exactly one row per
    distinct key of its raw table (source billing.<raw_table>), and that row
    is the key's latest load (max loaded_at). Checked against the raw rows,
    not against the view's own LIMIT 1 BY: keys are grouped with GROUP BY,
    which (unlike a join) treats NULL group keys as equal. Returns one row per
    key that breaks the rule. -#}
{% test one_row_per_billing_key(model, raw_table, renamed_columns={}) %}

    {%- set key = var('billing_keys')[raw_table] -%}

with

raw_rows as (

    select * from {{ source('billing', raw_table) }}

),

staged_rows as (

    select * from {{ model }}

),

keyed_rows as (

    select
        {{ billing_key(raw_table) }},
        loaded_at,
        true as is_raw
    from raw_rows

    union all

    -- The view's rows under the raw column names.
    select
{%- for column in key %}
        {{ renamed_columns.get(column, column) }} as {{ column }},
        {%- endfor %}
        loaded_at,
        false as is_raw
    from staged_rows

),

per_key as (

    select
        {{ billing_key(raw_table) }},
        countIf(is_raw) as raw_rows,
        countIf(not is_raw) as staged_rows,
        maxIf(loaded_at, is_raw) as latest_raw_loaded_at,
        groupArrayIf(loaded_at, not is_raw) as staged_loaded_at
    from keyed_rows
    group by {{ billing_key(raw_table) }}

),

failures as (

    select
        *,
        multiIf(
            raw_rows = 0, 'staged key not in the raw table',
            staged_rows = 0, 'raw key missing from the view',
            staged_rows > 1, 'key more than once in the view',
            'staged row is not the latest load of its key'
        ) as problem
    from per_key
    where
        raw_rows = 0
        or staged_rows != 1
        or staged_loaded_at[1] != latest_raw_loaded_at

)

select * from failures

{% endtest %}
