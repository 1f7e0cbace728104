{#- dbt's where-subquery of a generic data test (the relation it reads),
    narrowed on a scheduled build to the rows that build works on, when the
    tested model's `meta.test_scope` says how:
    - `{unextracted_by: <model>, date_column: <day column>}` (a staging view
      over a raw table): in a dbt build that runs <model> incrementally, only
      the rows delivered since <model> last committed (not_yet_extracted).
      The test runs before <model> reads them, so a failing test stops it
      and the next build checks the same rows again;
    - `{recomputed_traces: true}` (a trace-keyed model): the traces the
      model recomputed in this invocation (recomputed_traces_only).
    Rows outside the scope were checked by the build that wrote or first
    read them (a `dbt run` checks none). `dbt test`, --full-refresh, a first
    build and a selection without the model check every row, as do tests on
    other models. The test's own `where` applies in every case. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- set scope = test_scope_condition() if execute else '' -%}
    {%- if scope -%}
        {%- do conditions.append('(' ~ scope ~ ')') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The where-condition meta.test_scope of the tested model gives for this
    invocation (see default__get_where_subquery); empty for every row. -#}
{% macro test_scope_condition() -%}
    {%- set tested = graph.nodes.get(model.get('attached_node')) or {} -%}
    {%- set scope = (tested.get('config', {}).get('meta') or {}).get('test_scope') or {} -%}
    {%- set kinds = ['unextracted_by', 'recomputed_traces'] -%}
    {%- set unknown = scope | reject('in', kinds + ['date_column']) | list -%}
    {%- if unknown or (scope and not (scope | select('in', kinds) | list))
        or (scope.get('unextracted_by') and not scope.get('date_column')) -%}
        {{ exceptions.raise_compiler_error(
            tested.name ~ ': meta.test_scope takes unextracted_by + date_column or recomputed_traces, not '
            ~ scope | list | join(', ')
        ) }}
    {%- endif -%}
    {%- set condition = '' -%}
    {%- if scope.get('unextracted_by') and builds_incrementally(scope.unextracted_by)
        and persists_block_numbers(tested.name) -%}
        {%- set condition = not_yet_extracted(tested.name, scope.date_column, scope.unextracted_by) -%}
    {%- elif scope.get('recomputed_traces') and recomputed_traces_only(tested.name) -%}
        {#- By trace only, not of_touched_traces' days too: a leftover row of a
            recomputed trace (a duplicate) may be dated outside those days. -#}
        {%- set condition = 'trace_id in (' ~ touched_traces(tested.name) ~ ')' -%}
    {%- endif -%}
    {{ return(condition) }}
{%- endmacro %}


{#- Where-condition on staging view `model_name` (over a raw table that
    persists block numbers) keeping the rows `consumer` has not read yet:
    those in a part with a block above the consumer's record for its day
    partition (the view's raw_part: other parts are not read), with a block
    (raw_block) above it. Unlike new_deliveries it needs no snapshot of this
    invocation: a data test on the view runs before the consumer's pre-hook
    takes one. A day the consumer never recorded keeps every row (a missing
    map key reads 0, below every block). -#}
{% macro not_yet_extracted(model_name, date_column, consumer) -%}
    {%- set table = followed_table(model_name) -%}
    {%- set source_table = table.schema ~ '.' ~ table.identifier -%}
    raw_part in (
        select parts.name
        from ({{ active_parts(table) }}) as parts
        left join ({{ committed_blocks(consumer, source_table) }}) as done
            on parts.source_uuid = done.source_uuid and parts.partition_id = done.partition_id
        where parts.max_block > coalesce(done.max_block, 0)
    )
    and raw_block > (
        select mapFromArrays(groupArray(done.partition_day), groupArray(done.max_block))
        from ({{ committed_blocks(consumer, source_table) }}) as done
        where done.source_uuid in ({{ table_uuids(table) }})
    )[{{ date_column }}]
{%- endmacro %}
