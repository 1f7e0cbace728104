{#- Provider cost exports, loaded by `llmwh load usage` (llmwh/billing/): OpenAI
    Costs API pages and dashboard CSVs, Anthropic cost_report pages.
    Costs in USD per (provider, day bucket, group keys) per load; the key is
    var billing_keys.provider_costs, and the engine as for provider_usage. OpenAI gives
    amount.value in dollars; Anthropic gives amount as a decimal string in cents
    ("123.45" = $1.2345), converted here. -#}
create table if not exists {{ table('provider_costs') }} {{ on_cluster }}
(
    `provider` LowCardinality(String) CODEC(ZSTD(1)),
    `bucket_start` DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    `bucket_end` DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    -- OpenAI project_id, Anthropic workspace_id.
    `project_id` Nullable(String) CODEC(ZSTD(1)),
    `api_key_id` Nullable(String) CODEC(ZSTD(1)),
    -- OpenAI line_item, Anthropic description.
    `line_item` Nullable(String) CODEC(ZSTD(1)),
    `model` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `cost_type` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `token_type` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `service_tier` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `context_window` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `inference_geo` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `speed` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    -- The amount in `currency` (dollars, not cents), amount_usd is NULL unless USD.
    `amount` Decimal(38, 12) CODEC(ZSTD(1)),
    `amount_usd` Nullable(Decimal(38, 12)) CODEC(ZSTD(1)),
    `currency` LowCardinality(String) CODEC(ZSTD(1)),
    -- The amount exactly as exported (Anthropic: cents).
    `amount_raw` String CODEC(ZSTD(1)),
    `source_format` LowCardinality(String) CODEC(ZSTD(1)),
    `source_file` String CODEC(ZSTD(1)),
    `raw` String CODEC(ZSTD(3)),
    `loaded_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))
)
ENGINE = {{ engine('ReplacingMergeTree', 'loaded_at') }}
PARTITION BY toDate(bucket_start)
PRIMARY KEY (provider, bucket_start)
ORDER BY ({{ billing_key('provider_costs') }})
{{ ttl('bucket_start', 'provider_costs') }}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, allow_nullable_key = 1;

{{ distributed('provider_costs', 'cityHash64(provider, bucket_start)') }}
