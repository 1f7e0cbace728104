{#- Exporter logs table (Map mode, schema of PR #47720 and later). Storage as
    otel_traces: String lengths inline (single_stream_strings) and ZSTD(6) on
    Body and LogAttributes. -#}
create table if not exists {{ table('otel_logs') }} {{ on_cluster }}
(
    `Timestamp` DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    -- Grafana's default log query and older HyperDX sources read this column.
    `TimestampTime` DateTime DEFAULT toDateTime(Timestamp) CODEC(Delta(4), ZSTD(1)),
    `TraceId` String CODEC(ZSTD(1)),
    `SpanId` String CODEC(ZSTD(1)),
    `TraceFlags` UInt8 CODEC(T64, ZSTD(1)),
    `SeverityText` LowCardinality(String) CODEC(ZSTD(1)),
    `SeverityNumber` UInt8 CODEC(T64, ZSTD(1)),
    `ServiceName` LowCardinality(String) CODEC(ZSTD(1)),
    `Body` String CODEC(ZSTD(6)),
    `ResourceSchemaUrl` LowCardinality(String) CODEC(ZSTD(1)),
    `ResourceAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `ScopeSchemaUrl` LowCardinality(String) CODEC(ZSTD(1)),
    `ScopeName` String CODEC(ZSTD(1)),
    `ScopeVersion` LowCardinality(String) CODEC(ZSTD(1)),
    `ScopeAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    `LogAttributes` Map(LowCardinality(String), String) CODEC(ZSTD(6)),
    `EventName` String CODEC(ZSTD(1)),
{%- for prefix in ['__otel_materialized_', '__hdx_materialized_'] %}
{%- for key in materialized_keys %}
    `{{ prefix }}{{ key }}` LowCardinality(String) MATERIALIZED ResourceAttributes['{{ key }}'] CODEC(ZSTD(1)),
{%- endfor %}
{%- endfor %}
{%- if text_indexes %}
    INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')
{%- else %}
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
{%- endif %}
)
ENGINE = {{ engine('MergeTree') }}
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
{{ ttl('toDateTime(Timestamp)', 'otel_logs') }}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
{%- if block_number_column %}, enable_block_number_column = 1{% endif %}
{%- if single_stream_strings %}, string_serialization_version = 'single_stream'{% endif %};

{{ distributed('otel_logs', 'rand()') }}
