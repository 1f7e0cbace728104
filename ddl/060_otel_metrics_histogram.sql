{%- from "_metrics.sql" import leading_columns, exemplar_columns, indexes, table_clauses with context -%}
create table if not exists {{ table('otel_metrics_histogram') }} {{ on_cluster }}
(
{{ leading_columns() }}
    `Count` UInt64 CODEC(Delta(8), ZSTD(1)),
    `Sum` Float64 CODEC(ZSTD(1)),
    `BucketCounts` Array(UInt64) CODEC(ZSTD(1)),
    `ExplicitBounds` Array(Float64) CODEC(ZSTD(1)),
{{ exemplar_columns() }}
    `Flags` UInt32 CODEC(T64, ZSTD(1)),
    `Min` Float64 CODEC(ZSTD(1)),
    `Max` Float64 CODEC(ZSTD(1)),
    `AggregationTemporality` Int32 CODEC(T64, ZSTD(1)),
{{ indexes() }}
)
{{ table_clauses('otel_metrics_histogram') }}
