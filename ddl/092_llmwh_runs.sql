{#- Bookkeeping of `llmwh run` (llmwh/warehouse/cycle.py): one row per
    scheduled cycle. No TTL, like llmwh_loaded_files: the run history is small
    and is what tells an operator when the warehouse last built cleanly. -#}
{# One row per `llmwh run`, written when the run ends (also when it fails).
   status: success | data_quality_failure | infrastructure_failure. #}
create table if not exists {{ table('llmwh_runs') }} {{ on_cluster }}
(
    `run_id` String CODEC(ZSTD(1)),
    `started_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    `finished_at` DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    `status` LowCardinality(String) CODEC(ZSTD(1)),
    `exit_code` UInt8 CODEC(ZSTD(1)),
    `target` LowCardinality(String) CODEC(ZSTD(1)),
    `host` LowCardinality(String) CODEC(ZSTD(1)),
    -- Models dbt built (success), with their row counts after the run.
    `models_built` UInt32 CODEC(ZSTD(1)),
    `rows` Map(LowCardinality(String), UInt64) CODEC(ZSTD(1)),
    -- dbt nodes that errored, failed or were skipped, as `name: message`.
    `failures` Array(String) CODEC(ZSTD(1)),
    -- Source freshness per source table: pass | warn | error | runtime error.
    `freshness` Map(LowCardinality(String), LowCardinality(String)) CODEC(ZSTD(1)),
    -- Data tests and checks: run, failed, warned, and the names of the failures.
    `tests_run` UInt32 CODEC(ZSTD(1)),
    `tests_failed` UInt32 CODEC(ZSTD(1)),
    `tests_warned` UInt32 CODEC(ZSTD(1)),
    `failed_checks` Array(String) CODEC(ZSTD(1)),
    `message` String CODEC(ZSTD(1))
)
ENGINE = {{ engine('MergeTree') }}
ORDER BY (started_at, run_id);

{{ distributed('llmwh_runs', 'cityHash64(run_id)') }}
