{#- Trace id -> time range lookup (released exporter form). -#}
create table if not exists {{ table('otel_traces_trace_id_ts') }} {{ on_cluster }}
(
    `TraceId` String CODEC(ZSTD(1)),
    `Start` DateTime CODEC(Delta(4), ZSTD(1)),
    `End` DateTime CODEC(Delta(4), ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = {{ engine('MergeTree') }}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
{{ ttl('toDateTime(Start)', 'otel_traces_trace_id_ts') }}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

{{ distributed('otel_traces_trace_id_ts', 'cityHash64(TraceId)') }}
