{%- from "_metrics.sql" import leading_columns, exemplar_columns, indexes, table_clauses with context -%}
create table if not exists {{ table('otel_metrics_summary') }} {{ on_cluster }}
(
{{ leading_columns() }}
    `Count` UInt64 CODEC(Delta(8), ZSTD(1)),
    `Sum` Float64 CODEC(ZSTD(1)),
    `ValueAtQuantiles.Quantile` Array(Float64) CODEC(ZSTD(1)),
    `ValueAtQuantiles.Value` Array(Float64) CODEC(ZSTD(1)),
    `Flags` UInt32 CODEC(T64, ZSTD(1)),
{{ indexes() }}
)
{{ table_clauses('otel_metrics_summary') }}
