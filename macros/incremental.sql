{#- Incremental runs follow new data, not history. Every insert into a
    MergeTree table creates a part whose block number is above every earlier
    block of its partition (REPLACE PARTITION, which insert_overwrite uses,
    too); merges, mutations and TTL keep a part's block range. So a day
    partition received data since a model last read it iff it now has a
    block above the highest block the model recorded for it then. The
    record lives in incremental_watermarks, keyed by the reading model and
    the read table's uuid (a rebuilt table starts its blocks again, and all
    of its days count as new). A model's pre-hook snapshots the blocks of
    the tables it follows (snapshot_watermarks), its SQL processes the days
    whose snapshot is above the record (changed_days), and its post-hook
    stores the snapshot once the model's insert succeeded
    (commit_watermarks): a failed build leaves the record, so the next run
    redoes those days. -#}

{#- The intermediate models' database (llm_intermediate), as dbt names it. -#}
{% macro intermediate_schema() -%}
    {%- if execute -%}
        {{ graph.nodes['model.' ~ project_name ~ '.int_spans_deduplicated'].schema }}
    {%- else -%}
        intermediate
    {%- endif -%}
{%- endmacro %}


{% macro watermarks_relation() -%}
    {{ intermediate_schema() }}.incremental_watermarks
{%- endmacro %}


{#- on-run-start: the bookkeeping table's database (absent before the first
    build), then the table; ON CLUSTER and replicated on a cluster target
    (dbt_project.yml passes the cluster: models and macros never read the
    target). -#}
{% macro create_watermarks_database(cluster=none) -%}
    create database if not exists {{ intermediate_schema() }}
    {{- " on cluster '" ~ cluster ~ "'" if cluster }}
{%- endmacro %}


{% macro create_watermarks_relation(cluster=none) -%}
    {%- set on_cluster = "on cluster '" ~ cluster ~ "'" if cluster else '' -%}
    create table if not exists {{ watermarks_relation() }} {{ on_cluster }} (
        consumer String,
        source_table String,
        source_uuid UUID,
        partition_id String,
        partition_day Date,
        max_block Int64,
        invocation_id String,
        committed Bool,
        recorded_at DateTime64(6)
    )
    engine = {{ 'Replicated' if cluster else '' }}ReplacingMergeTree(recorded_at)
    order by (consumer, source_table, source_uuid, partition_id, committed)
{%- endmacro %}


{#- The table whose parts say what is new for a model: the raw table behind
    a staging view (its only source), else the model's own table. Resolved
    from the graph, so staging stays the only place source() is used. -#}
{% macro followed_table(model_name) -%}
    {%- if not execute -%}
        {{ return({'schema': 'unresolved', 'identifier': model_name}) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ model_name] -%}
    {%- if node.config.materialized == 'view' -%}
        {%- for upstream in node.depends_on.nodes if upstream.startswith('source.') -%}
            {%- set source_node = graph.sources[upstream] -%}
            {{ return(api.Relation.create(schema=source_node.schema, identifier=source_node.identifier)) }}
        {%- endfor -%}
    {%- endif -%}
    {{ return(api.Relation.create(schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}


{#- pre-hook: this invocation's snapshot of the day partitions of each
    followed table that received data since the model last committed: their
    newest block, above the recorded one (not yet committed). Unchanged
    partitions get no row, so this invocation's rows alone say what it
    processes, also after its commit (a data test reads them). A full
    rebuild first drops the model's record: it reads everything anyway.
    `followed` items are model names (blocks from system.parts), or
    {'view': <staging view>, 'through': <model>}: the blocks of the view's raw
    table as far as that model, which extracts it, has committed them (see
    touched_trace_sources). -#}
{% macro snapshot_watermarks(followed) -%}
    insert into {{ watermarks_relation() }}
    {%- for item in followed %}
        {%- set table = followed_table(item if item is string else item['view']) %}
        {%- set source_table = table.schema ~ '.' ~ table.identifier %}
        select
            '{{ this.identifier }}' as consumer,
            '{{ source_table }}' as source_table,
            blocks.source_uuid as source_uuid,
            blocks.partition_id as partition_id,
            blocks.partition_day as partition_day,
            blocks.max_block as max_block,
            '{{ invocation_id }}' as invocation_id,
            false as committed,
            now64(6) as recorded_at
        from (
            {{ part_blocks(table) if item is string else committed_blocks(item['through'], source_table) }}
        ) as blocks
        left join (
            {{ committed_blocks(this.identifier, source_table) }}
        ) as done
            on blocks.source_uuid = done.source_uuid and blocks.partition_id = done.partition_id
        -- No record: 0, below every block (they start at 1).
        where blocks.max_block > coalesce(done.max_block, 0)
        {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The active parts of `table` with the uuid of the table they belong to
    (subquery: source_uuid, partition_id, partition_day, name, min_block,
    max_block; the tables followed are partitioned by day). -#}
{% macro active_parts(table) -%}
    select
        tables.uuid as source_uuid,
        parts.partition_id as partition_id,
        toDate(parts.`partition`) as partition_day,
        parts.name as name,
        parts.min_block_number as min_block,
        parts.max_block_number as max_block
    from system.parts as parts
    inner join system.tables as tables
        on parts.database = tables.database and parts.table = tables.name
    where
        parts.active
        and parts.database = '{{ table.schema }}'
        -- On a cluster the raw tables are Distributed over <name>_local.
        and parts.table in ('{{ table.identifier }}', '{{ table.identifier }}_local')
{%- endmacro %}


{#- The uuid of `table` (subquery, column uuid; with its _local table on a
    cluster), to tell its records from those of a dropped table of the same
    name. -#}
{% macro table_uuids(table) -%}
    select tables.uuid
    from system.tables as tables
    where
        tables.database = '{{ table.schema }}'
        and tables.name in ('{{ table.identifier }}', '{{ table.identifier }}_local')
{%- endmacro %}


{#- The newest block of each day partition of `table`, from its active
    parts (subquery: source_uuid, partition_id, partition_day, max_block). -#}
{% macro part_blocks(table) -%}
    select
        parts.source_uuid as source_uuid,
        parts.partition_id as partition_id,
        any(parts.partition_day) as partition_day,
        max(parts.max_block) as max_block
    from ({{ active_parts(table) }}) as parts
    group by parts.source_uuid, parts.partition_id
{%- endmacro %}


{#- The newest block of each day partition of `source_table` that model
    `through` has committed (same columns as part_blocks); with
    `before_this_invocation`, as recorded before this invocation (what a model
    processes is above that, also once it committed). -#}
{% macro committed_blocks(through, source_table, before_this_invocation=false) -%}
    select
        processed.source_uuid as source_uuid,
        processed.partition_id as partition_id,
        any(processed.partition_day) as partition_day,
        max(processed.max_block) as max_block
    from {{ watermarks_relation() }} as processed
    where
        processed.consumer = '{{ through }}'
        and processed.source_table = '{{ source_table }}'
        and processed.committed
        -- '' (no invocation has that id) keeps this invocation's commits.
        and processed.invocation_id != '{{ invocation_id if before_this_invocation else "" }}'
    group by processed.source_uuid, processed.partition_id
{%- endmacro %}


{#- pre-hook before snapshot_watermarks: a full rebuild resets the model's
    record (its old snapshots mean nothing for the new table). Nothing on an
    incremental run: dbt skips a hook that renders empty, so a scheduled run
    sends no statement for it. -#}
{% macro reset_watermarks() -%}
    {%- if not is_incremental() -%}
        delete from {{ watermarks_relation() }} where consumer = '{{ this.identifier }}'
    {%- endif -%}
{%- endmacro %}


{#- post-hook: the snapshot becomes the record, only after the insert
    succeeded. -#}
{% macro commit_watermarks() -%}
    insert into {{ watermarks_relation() }}
    select
        consumer,
        source_table,
        source_uuid,
        partition_id,
        partition_day,
        max_block,
        invocation_id,
        true,
        now64(6)
    from {{ watermarks_relation() }}
    where
        consumer = '{{ this.identifier }}'
        and invocation_id = '{{ invocation_id }}'
        and not committed
{%- endmacro %}


{#- Days of the table followed through `model_name` that received data since
    the consumer (default: the calling model) last committed, as this
    invocation's snapshot recorded them (subquery of dates), each widened to
    `before` days before and `after` days after. Everything on a model's
    first run with nothing recorded; nothing when nothing arrived. -#}
{% macro changed_days(model_name, before=0, after=0, consumer=none) -%}
    {%- set table = followed_table(model_name) -%}
    select distinct partition_day + arrayJoin(range(-{{ before }}, {{ after }} + 1)) as day
    from {{ watermarks_relation() }}
    where
        consumer = '{{ consumer or this.identifier }}'
        and source_table = '{{ table.schema }}.{{ table.identifier }}'
        and invocation_id = '{{ invocation_id }}'
        and not committed
{%- endmacro %}


{#- The first day fct_model_daily rebuilds in any case: `lookback_days`
    before its newest day, so provider billing exports (not followed by
    block) that arrive within that time are picked up. On an empty target
    the window starts at the epoch: max() of an empty Date column is
    1970-01-01, and subtracting from it would wrap to 2149. -#}
{% macro incremental_window_start(date_column) -%}
    {%- set days = var('lookback_days') | int -%}
    (
        select greatest(max({{ date_column }}), toDate('1970-01-01') + {{ days }}) - {{ days }}
        from {{ this }}
    )
{%- endmacro %}


{#- Whether this invocation is a `dbt build` that updates `model_name`
    incrementally (selected, no --full-refresh): a data test on that model
    then checks only the rows the build recomputed. -#}
{% macro builds_incrementally(model_name) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(
        flags.WHICH == 'build'
        and not flags.FULL_REFRESH
        and ('model.' ~ project_name ~ '.' ~ model_name) in selected_resources
    ) }}
{%- endmacro %}


{#- What fct_data_quality_issues follows: every source whose rows it counts. -#}
{% macro data_quality_sources() -%}
    {{ return([
        'stg_otel__spans', 'stg_otel__logs', 'stg_otel__metrics_histogram', 'int_evaluation_results_extracted',
    ]) }}
{%- endmacro %}


{#- An insert_overwrite model replaces the day partitions it computed. A table
    built before the model was incremental is not partitioned by day: one
    partition holds all of it, and replacing it with a few days would drop
    the rest. Stop with a one-line instruction instead. -#}
{% macro require_partitioned_by(column) -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query(
            "select partition_key from system.tables where database = '" ~ this.schema
            ~ "' and name = '" ~ this.identifier ~ "'"
        ).columns[0].values() -%}
        {%- if found and found[0] not in [column, '(' ~ column ~ ')'] -%}
            {{ exceptions.raise_compiler_error(
                this ~ ' predates its day partitions (partition key: ' ~ (found[0] or 'none')
                ~ '); rebuild it once: dbt build --full-refresh --select ' ~ this.identifier
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
