{#- Provider usage and cost exports, loaded by `llmwh load usage` (llmwh/billing/):
    OpenAI Usage API (completions) / Costs API pages and dashboard CSVs, Anthropic
    usage_report/messages and cost_report pages.

    One row per (provider, bucket, group keys) per load: the key is var
    billing_keys.provider_usage in dbt_project.yml, shared with the loader and
    the staging view. A group key the export was
    not grouped on is NULL (allow_nullable_key). The engine is ReplacingMergeTree
    with ORDER BY = the key and version loaded_at, so the latest load of a key
    survives merges; merges run in the background, so readers never rely on them:
    stg_billing__* keep the latest load per key themselves (LIMIT 1 BY). Counts a
    format does not give are NULL, never 0. `raw` keeps each result as loaded (JSON). -#}
create table if not exists {{ table('provider_usage') }} {{ on_cluster }}
(
    `provider` LowCardinality(String) CODEC(ZSTD(1)),
    `bucket_start` DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    `bucket_end` DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    `model` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    -- OpenAI project_id, Anthropic workspace_id.
    `project_id` Nullable(String) CODEC(ZSTD(1)),
    `api_key_id` Nullable(String) CODEC(ZSTD(1)),
    `user_id` Nullable(String) CODEC(ZSTD(1)),
    `service_tier` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `batch` Nullable(Bool) CODEC(ZSTD(1)),
    `api_source` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `context_window` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `inference_geo` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `speed` LowCardinality(Nullable(String)) CODEC(ZSTD(1)),
    `account_id` Nullable(String) CODEC(ZSTD(1)),
    `service_account_id` Nullable(String) CODEC(ZSTD(1)),
    -- Inclusive of cache reads and writes: OpenAI input_tokens as given, Anthropic
    -- uncached + cache read + cache write (NULL when a part is missing).
    `input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    -- OpenAI input_uncached_tokens (newer exports), Anthropic uncached_input_tokens.
    `uncached_input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    -- OpenAI input_cached_tokens, Anthropic cache_read_input_tokens.
    `cache_read_input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `cache_write_input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `cache_write_5m_input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `cache_write_1h_input_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `output_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `input_audio_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `output_audio_tokens` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `num_model_requests` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `web_search_requests` Nullable(UInt64) CODEC(T64, ZSTD(1)),
    `source_format` LowCardinality(String) CODEC(ZSTD(1)),
    `source_file` String CODEC(ZSTD(1)),
    `raw` String CODEC(ZSTD(3)),
    `loaded_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))
)
ENGINE = {{ engine('ReplacingMergeTree', 'loaded_at') }}
PARTITION BY toDate(bucket_start)
PRIMARY KEY (provider, bucket_start)
ORDER BY ({{ billing_key('provider_usage') }})
{{ ttl('bucket_start', 'provider_usage') }}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, allow_nullable_key = 1;

{# All loads of one bucket land on one shard, so merges can replace them. #}
{{ distributed('provider_usage', 'cityHash64(provider, bucket_start)') }}
