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
