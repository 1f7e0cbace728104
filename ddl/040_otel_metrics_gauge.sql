{%- from "_metrics.sql" import leading_columns, exemplar_columns, indexes, table_clauses with context -%}
create table if not exists {{ table('otel_metrics_gauge') }} {{ on_cluster }}
(
{{ leading_columns() }}
    `Value` Float64 CODEC(ZSTD(1)),
    `Flags` UInt32 CODEC(T64, ZSTD(1)),
{{ exemplar_columns() }}
{{ indexes() }}
)
{{ table_clauses('otel_metrics_gauge') }}
