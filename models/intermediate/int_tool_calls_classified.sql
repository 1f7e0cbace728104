{{
    config(
        materialized='incremental',
        incremental_strategy='delete_insert',
        unique_key='trace_id',
        meta={'delete_scope': 'trace_delete_scope'},
        partition_by='span_date',
        order_by='(trace_id, span_id)',
        pre_hook=[
            "{{ reset_watermarks() }}",
            "{{ snapshot_watermarks(touched_trace_sources()) }}",
            "{{ clear_touched_traces() }}",
            "{{ record_touched_traces() }}",
        ],
        post_hook="{{ commit_watermarks() }}",
    )
}}

{#- Tool-call spans: MCP tools/call, GenAI execute_tool, OpenLLMetry and
    OpenInference tool spans. When both the calling and the serving side of
    one call are traced (an MCP client span with its server span below it),
    only the outermost tool span counts as a call. An incremental run
    re-classifies the traces touched in its window. -#}
with

-- depends_on: {{ touched_traces_depends_on() }}
spans as (

    select * from {{ ref('int_spans_deduplicated') }}
    {% if is_incremental() %}
        where {{ of_touched_traces('span_date') }}
    {% endif %}

),

tool_spans as (

    select
        trace_id,
        span_id,
        parent_span_id,
        service_name,
        coalesce(
            tool_name,
            nullIf(extract(span_name, '^(?:tools/call|execute_tool)\\s+(\\S+)'), '')
        ) as tool_name,
        mcp_method,
        duration_ms,
        is_error,
        started_at,
        span_date
    from spans
    where
        mcp_method = 'tools/call'
        or {{ normalise_operation('operation_raw', "''") }} = 'execute_tool'

),

outermost as (

    select *
    from tool_spans
    where (trace_id, coalesce(parent_span_id, '')) not in (
        select
            parent_tools.trace_id,
            parent_tools.span_id
        from tool_spans as parent_tools
    )

)

select * from outermost
