{#- Trace-keyed incremental models (delete_insert on trace_id) recompute the
    traces of the rows delivered since their last run. Which rows are new
    comes from the raw parts above a model's record (new_parts, see
    incremental.sql for the record); the traces are found once per model run
    (record_touched_traces) and read from incremental_touched_traces. -#}

{#- The traces each trace-keyed model recomputes in an invocation, with the
    days they have spans on (record_touched_traces): found once per model
    run, then read by every reference. -#}
{% macro touched_traces_relation() -%}
    {{ intermediate_schema() }}.incremental_touched_traces
{%- endmacro %}


{#- on-run-start, after the watermarks: one partition per model, which its
    next run drops (clear_touched_traces), so the table holds each model's
    last run only. -#}
{% macro create_touched_traces_relation(cluster=none) -%}
    {%- set on_cluster = "on cluster '" ~ cluster ~ "'" if cluster else '' -%}
    create table if not exists {{ touched_traces_relation() }} {{ on_cluster }} (
        consumer String,
        invocation_id String,
        delivery_window String,
        trace_id String,
        span_days Array(Date)
    )
    engine = {{ 'Replicated' if cluster else '' }}MergeTree
    partition by consumer
    order by (consumer, invocation_id, trace_id)
{%- endmacro %}


{#- The parts of the raw table behind staging view `model_name` that hold
    rows delivered since the consumer (default: the calling model) last
    committed, up to this invocation's snapshot (subquery of part names, for
    the view's raw_part column): in a changed partition, the parts with a
    block above the record and not above the snapshot. A merge keeps a part's
    block range, so a merged part of old and new rows counts whole (more
    rows, never fewer). -#}
{% macro new_parts(model_name, consumer=none, with_table=false) -%}
    {%- set table = followed_table(model_name) -%}
    {%- set source_table = table.schema ~ '.' ~ table.identifier -%}
    {%- set consumer = consumer or this.identifier -%}
    select {{ "concat(toString(parts.source_uuid), '/', parts.name)" if with_table else 'parts.name' }}
    from ({{ active_parts(table) }}) as parts
    inner join (
        {{ pending_blocks(consumer, source_table) }}
    ) as pending
        on parts.source_uuid = pending.source_uuid and parts.partition_id = pending.partition_id
    where
        parts.max_block > pending.done_block
        and parts.min_block <= pending.snapshot_block
{%- endmacro %}


{#- The day partitions of `source_table` in this invocation's snapshot for
    the consumer (what it processes now), each with the consumer's record
    before this invocation (done_block, 0 for none) and the snapshot's block
    (snapshot_block): subquery with source_uuid, partition_id,
    partition_day, done_block, snapshot_block. New parts and new rows lie
    between the two. -#}
{% macro pending_blocks(consumer, source_table) -%}
    select
        snapshot.source_uuid as source_uuid,
        snapshot.partition_id as partition_id,
        snapshot.partition_day as partition_day,
        coalesce(done.max_block, 0) as done_block,
        snapshot.max_block as snapshot_block
    from {{ watermarks_relation() }} as snapshot
    left join (
        {{ committed_blocks(consumer, source_table, before_this_invocation=true) }}
    ) as done
        on snapshot.source_uuid = done.source_uuid and snapshot.partition_id = done.partition_id
    where
        snapshot.consumer = '{{ consumer }}'
        and snapshot.source_table = '{{ source_table }}'
        and snapshot.invocation_id = '{{ invocation_id }}'
        and not snapshot.committed
{%- endmacro %}


{#- Where-condition on staging view `model_name` (over a raw table) keeping
    the rows delivered since the consumer last committed, on the days they
    arrived (`date_column`, the raw table's day partition: prunes partitions
    before parts): the rows of the new parts (new_parts) and, when the raw
    table persists each row's block number, only those with a block above
    the record and not above the snapshot (delivered_blocks). A merge of the
    day's older rows with newer ones makes one part of both, which would
    otherwise count whole. -#}
{% macro new_deliveries(model_name, date_column, consumer=none) -%}
    {{ date_column }} in ({{ changed_days(model_name, consumer=consumer) }})
    and raw_part in ({{ new_parts(model_name, consumer=consumer) }})
    {%- if persists_block_numbers(model_name) %}
        and raw_block > tupleElement(({{ delivered_blocks(model_name, consumer) }})[{{ date_column }}], 1)
        and raw_block <= tupleElement(({{ delivered_blocks(model_name, consumer) }})[{{ date_column }}], 2)
    {%- endif %}
{%- endmacro %}


{#- Whether the raw table behind staging view `model_name` persists each
    row's block number through merges (MergeTree setting
    enable_block_number_column, which llmwh init sets on servers from 24.5).
    Without it _block_number is the part's lowest block, so only whole parts
    can be told apart. -#}
{% macro persists_block_numbers(model_name) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set table = followed_table(model_name) -%}
    {%- set found = run_query(
        "select count() from system.tables where database = '" ~ table.schema
        ~ "' and name in ('" ~ table.identifier ~ "', '" ~ table.identifier ~ "_local')"
        ~ " and match(engine_full, 'enable_block_number_column = (1|true)')"
    ).rows[0][0] -%}
    {{ return(found > 0) }}
{%- endmacro %}


{#- The blocks of the rows new_deliveries keeps, per day partition of the
    raw table behind staging view `model_name`: a scalar Map(Date,
    Tuple(done, snapshot)) of the consumer's record before this invocation
    (0 for none) and this invocation's snapshot; a day missing from the map
    (no snapshot: nothing new) gives (0, 0), which keeps no row. -#}
{% macro delivered_blocks(model_name, consumer=none) -%}
    {%- set table = followed_table(model_name) -%}
    {%- set source_table = table.schema ~ '.' ~ table.identifier -%}
    {%- set consumer = consumer or this.identifier -%}
    select mapFromArrays(
        groupArray(pending.partition_day),
        groupArray(tuple(pending.done_block, pending.snapshot_block))
    )
    from ({{ pending_blocks(consumer, source_table) }}) as pending
    where pending.source_uuid in ({{ table_uuids(table) }})
{%- endmacro %}


{#- What trace-keyed models follow: the raw spans and logs, each as far as
    the model extracting it (which they read) has committed it, so a row
    delivered while the build runs is not counted done before that model
    has it. -#}
{% macro touched_trace_sources() -%}
    {{ return([
        {'view': 'stg_otel__spans', 'through': 'int_spans_deduplicated'},
        {'view': 'stg_otel__logs', 'through': 'int_app_token_logs_deduplicated'},
    ]) }}
{%- endmacro %}


{#- The traces of the spans and logs delivered since the consumer (default:
    the calling model) last committed (new_deliveries), not every trace of
    their days, so a run's work follows the new rows whatever the history
    holds. Computed once per model run by record_touched_traces. -#}
{% macro delivered_traces(consumer=none) -%}
    select trace_id
    from {{ ref('stg_otel__spans') }}
    where {{ new_deliveries('stg_otel__spans', 'span_date', consumer=consumer) }}
    union distinct
    select trace_id
    from {{ ref('stg_otel__logs') }}
    where
        {{ new_deliveries('stg_otel__logs', 'log_date', consumer=consumer) }}
        and trace_id is not null
{%- endmacro %}


{#- pre-hook of a trace-keyed incremental model, after snapshot_watermarks:
    drops the model's touched traces of its last run. -#}
{% macro clear_touched_traces() -%}
    alter table {{ touched_traces_relation() }} drop partition '{{ this.identifier }}'
{%- endmacro %}


{#- What the delivered traces of the calling model are made of: its new
    raw parts of spans and logs (new_parts, with their table's uuid), sorted,
    and the blocks it keeps of them per day (delivered_blocks), as one string
    (one-row subquery); the same window gives the same traces. -#}
{% macro delivery_window() -%}
    select concat(
        arrayStringConcat(arraySort(groupArray(delivered_parts.part)), ','),
        ' spans ', toString(mapSort(({{ delivered_blocks('stg_otel__spans') }}))),
        ' logs ', toString(mapSort(({{ delivered_blocks('stg_otel__logs') }})))
    )
    from (
        select * from ({{ new_parts('stg_otel__spans', with_table=true) }}) as span_parts (part)
        union all
        select * from ({{ new_parts('stg_otel__logs', with_table=true) }}) as log_parts (part)
    ) as delivered_parts
{%- endmacro %}


{#- pre-hook after clear_touched_traces: records the traces this run
    recomputes (delivered_traces) with the days each has spans on in
    int_spans_deduplicated (none for a trace known from logs only). A set
    from a subquery is built again at every reference, and dbt runs a
    model's query twice (for its columns, then the insert): recorded once,
    each reference reads a small table. The models of one scheduled run
    usually share their delivery_window: a model whose window another model
    of this invocation already recorded copies its rows (int_spans_deduplicated
    does not change during an invocation once the trace models run). -#}
{% macro record_touched_traces() -%}
    {%- if is_incremental() and execute -%}
        {%- set window = local_md5(run_query(delivery_window()).rows[0][0]) -%}
        {%- set donors = run_query(
            'select consumer from ' ~ touched_traces_relation()
            ~ " where invocation_id = '" ~ invocation_id ~ "' and delivery_window = '" ~ window ~ "' limit 1"
        ).rows | map(attribute=0) | list -%}
        {{ copy_touched_traces(donors[0]) if donors else insert_touched_traces(window) }}
    {%- else -%}
        {{ record_whole_rebuild() }}
    {%- endif -%}
{%- endmacro %}


{#- record_touched_traces of a model built whole (first build,
    --full-refresh): one marker row, no trace, so a data test of the model
    knows every row was rewritten (recomputed_traces_only). -#}
{% macro record_whole_rebuild() -%}
    insert into {{ touched_traces_relation() }}
    select
        '{{ this.identifier }}' as consumer,
        '{{ invocation_id }}' as invocation_id,
        '{{ whole_rebuild_window() }}' as delivery_window,
        '' as trace_id,
        [] as span_days
{%- endmacro %}


{#- The delivery_window of record_whole_rebuild's marker (never an md5). -#}
{% macro whole_rebuild_window() -%}
    rebuilt whole
{%- endmacro %}


{#- Whether a data test of trace-keyed model `model_name` checks only the
    traces the model recomputed in this invocation (touched_traces with the
    model as consumer): a dbt build that ran the model incrementally. Under
    `dbt test`, --full-refresh or a first build (the model rebuilt whole:
    record_whole_rebuild's marker) every row is checked. Compile time only:
    a data test compiles after the model ran. -#}
{% macro recomputed_traces_only(model_name) -%}
    {%- if not builds_incrementally(model_name) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set markers = run_query(
        'select count() from ' ~ touched_traces_relation() ~ " where consumer = '" ~ model_name
        ~ "' and invocation_id = '" ~ invocation_id ~ "' and delivery_window = '" ~ whole_rebuild_window() ~ "'"
    ).rows[0][0] -%}
    {{ return(markers == 0) }}
{%- endmacro %}


{#- record_touched_traces for a window not yet recorded in this invocation:
    the delivered traces and their days. -#}
{% macro insert_touched_traces(window) -%}
    insert into {{ touched_traces_relation() }}
    with

    delivered as (

        {{ delivered_traces() }}

    ),

    days as (

        select
            trace_id,
            groupUniqArray(span_date) as span_days
        from {{ ref('int_spans_deduplicated') }}
        where trace_id in (select delivered.trace_id from delivered)
        group by trace_id

    )

    select
        '{{ this.identifier }}' as consumer,
        '{{ invocation_id }}' as invocation_id,
        '{{ window }}' as delivery_window,
        delivered.trace_id as trace_id,
        days.span_days as span_days
    from delivered
    left join days on delivered.trace_id = days.trace_id
{%- endmacro %}


{#- record_touched_traces for a window model `donor` recorded in this
    invocation: its rows. -#}
{% macro copy_touched_traces(donor) -%}
    insert into {{ touched_traces_relation() }}
    -- Qualified names: the alias `consumer` would shadow the column.
    select
        '{{ this.identifier }}' as consumer,
        recorded.invocation_id as invocation_id,
        recorded.delivery_window as delivery_window,
        recorded.trace_id as trace_id,
        recorded.span_days as span_days
    from {{ touched_traces_relation() }} as recorded
    where recorded.consumer = '{{ donor }}' and recorded.invocation_id = '{{ invocation_id }}'
{%- endmacro %}


{#- Traces a trace-keyed incremental model re-computes this run, as its
    pre-hook recorded them (record_touched_traces). The model then reads
    every span of these traces, whatever its day, and replaces their rows
    (delete_insert on trace_id), so a trace crossing midnight or arriving
    over two runs keeps one row. Its hooks snapshot and commit
    touched_trace_sources(), and it depends on both extracting models (a
    depends_on comment), which must run first. `consumer`: whose record
    (default the calling model; a data test names the model it checks). -#}
{% macro touched_traces(consumer=none) -%}
    select trace_id
    from {{ touched_traces_relation() }}
    where
        consumer = '{{ consumer or this.identifier }}'
        and invocation_id = '{{ invocation_id }}'
{%- endmacro %}


{#- What a model using touched_traces() depends on, for its depends_on
    comment: the two views it reads and the two models that must have
    extracted them first. -#}
{% macro touched_traces_depends_on() -%}
    {{ ref('stg_otel__spans') }}, {{ ref('stg_otel__logs') }},
    {{- ' ' ~ ref('int_spans_deduplicated') }}, {{ ref('int_app_token_logs_deduplicated') }}
{%- endmacro %}


{#- Days a day-partitioned rollup of calls rebuilds for the touched traces:
    every day such a trace has a span on, not only the days of its new rows,
    since a late child can move a call off a day (its parent becomes an
    umbrella). Subquery of dates, column `call_date`. `consumer` as in
    touched_traces. -#}
{% macro touched_trace_days(consumer=none) -%}
    select distinct arrayJoin(span_days) as call_date
    from {{ touched_traces_relation() }}
    where
        consumer = '{{ consumer or this.identifier }}'
        and invocation_id = '{{ invocation_id }}'
{%- endmacro %}


{#- The days the traces of `traces` (a subquery of trace ids) have spans on
    in int_spans_deduplicated: subquery of dates, column `column`. -#}
{% macro trace_span_days(traces, column) -%}
    select distinct span_date as {{ column }}
    from {{ ref('int_spans_deduplicated') }}
    where trace_id in ({{ traces }})
{%- endmacro %}


{#- Condition keeping the rows of the touched traces in a table partitioned
    by day: the days those traces have spans on first, then the traces. The
    spans table is ordered by trace_id, and a run's touched traces are spread
    over nearly every granule of it, so the trace filter alone skips nothing
    and reads every day of history. The days are a scalar subquery: a
    constant that prunes partitions, computed once per query however often a
    CTE using the condition is referenced (an IN subquery is evaluated again
    at every reference). `consumer` as in touched_traces. -#}
{% macro of_touched_traces(date_column, consumer=none) -%}
    has((select groupArray(call_date) from ({{ touched_trace_days(consumer) }})), {{ date_column }})
    and trace_id in ({{ touched_traces(consumer) }})
{%- endmacro %}


{#- post-hook of a day-partitioned rollup of calls, before commit_watermarks:
    a rebuilt day whose calls all left it (a late child made its only call
    an umbrella) produced no rows, and insert_overwrite replaces only the
    days that did, so its old rows would stay and count that call twice.
    Drop those days. -#}
{% macro drop_days_left_without_calls() -%}
    {%- set emptied = [] -%}
    {%- if execute and is_incremental() -%}
        {#- .rows: an empty result has no columns. -#}
        {%- set rebuilt = run_query(
            'select toString(call_date) from (' ~ touched_trace_days() ~ ')'
        ).rows | map('first') | list -%}
        {%- if rebuilt | length > 0 -%}
            {%- set with_calls = run_query(
                'select distinct toString(call_date) from ' ~ ref('fct_llm_calls')
                ~ " where call_date in ('" ~ rebuilt | join("', '") ~ "')"
            ).rows | map('first') | list -%}
            {%- for day in rebuilt | sort if day not in with_calls -%}
                {%- do emptied.append(day) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if emptied -%}
        alter table {{ this }} drop partition '{{ emptied | join("', drop partition '") }}'
    {%- endif -%}
{%- endmacro %}
