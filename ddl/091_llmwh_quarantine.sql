{#- Bookkeeping of `llmwh load otlp --skip-bad` (llmwh/otlp/loader.py); no TTL,
    like llmwh_loaded_files. -#}
{# Lines --skip-bad left out, kept as read so they can be fixed and loaded again. #}
create table if not exists {{ table('llmwh_quarantine') }} {{ on_cluster }}
(
    `file` String CODEC(ZSTD(1)),
    `sha256` String CODEC(ZSTD(1)),
    `line` UInt64 CODEC(ZSTD(1)),
    `error` String CODEC(ZSTD(1)),
    `raw` String CODEC(ZSTD(3)),
    `loaded_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1))
)
ENGINE = {{ engine('MergeTree') }}
ORDER BY (file, line, loaded_at);

{{ distributed('llmwh_quarantine', 'rand()') }}
