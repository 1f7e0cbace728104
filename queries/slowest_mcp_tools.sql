-- The slowest MCP tools of the last 7 days: latency percentiles per tool and
-- calling service, with the slowest call's trace to open.
--
-- Tool calls are MCP tools/call and GenAI execute_tool spans; when both the
-- client and the server side of one call are traced, only the outermost span
-- counts (llm_intermediate.int_tool_calls_classified). The marts keep tool time
-- per trace only (fct_traces.tool_calls, tool_time_ms), so this reads the
-- intermediate model. is_mcp separates MCP tools/call from in-process
-- execute_tool spans.
--
-- clickhouse-client --queries-file queries/slowest_mcp_tools.sql
-- llmwh sql - < queries/slowest_mcp_tools.sql
select
    coalesce(tool_name, '(unnamed)') as tool,
    service_name,
    countIf(mcp_method = 'tools/call') > 0 as is_mcp,
    count() as calls,
    countIf(is_error) as errors,
    round(countIf(is_error) / count(), 4) as error_rate,
    round(quantile(0.5)(duration_ms), 1) as p50_ms,  -- noqa: LT01
    round(quantile(0.95)(duration_ms), 1) as p95_ms,  -- noqa: LT01
    round(quantile(0.99)(duration_ms), 1) as p99_ms,  -- noqa: LT01
    round(max(duration_ms), 1) as max_ms,
    argMax(trace_id, duration_ms) as slowest_trace_id,
    max(started_at) as last_called_at
from llm_intermediate.int_tool_calls_classified
where started_at >= now() - interval 7 day
group by tool, service_name
order by p95_ms desc, tool asc;
