{#- Bookkeeping of `llmwh load otlp` (llmwh/otlp/loader.py). No TTL: the record
    of what was loaded must outlive the telemetry, or a re-run would load files
    whose rows retention already dropped. Small tables: no partitions. -#}
{# One row per load of a file, keyed by the sha256 of its (decompressed) content:
   a re-run skips content found here; --force adds another row. #}
create table if not exists {{ table('llmwh_loaded_files') }} {{ on_cluster }}
(
    `sha256` String CODEC(ZSTD(1)),
    `file` String CODEC(ZSTD(1)),
    `size_bytes` UInt64 CODEC(ZSTD(1)),
    -- Rows inserted per table.
    `rows` Map(LowCardinality(String), UInt64) CODEC(ZSTD(1)),
    `bad_lines` UInt64 CODEC(ZSTD(1)),
    `loaded_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))
)
ENGINE = {{ engine('MergeTree') }}
ORDER BY (sha256, loaded_at);

{{ distributed('llmwh_loaded_files', 'cityHash64(sha256)') }}
