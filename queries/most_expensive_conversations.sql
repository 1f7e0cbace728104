-- The 20 most expensive conversations active in the last 7 days, with their
-- traces (most expensive first) so each can be opened in HyperDX or Grafana.
--
-- cost_usd covers priced calls only: unpriced_calls > 0 means the total is
-- partial (no matching price, or the call's usage is unknown).
--
-- clickhouse-client --queries-file queries/most_expensive_conversations.sql
-- llmwh sql - < queries/most_expensive_conversations.sql
with

conversations as (

    select *
    from llm.fct_conversations
    where last_seen_at >= now() - interval 7 day
    order by cost_usd desc nulls last, conversation_id asc
    limit 20

),

traces as (

    select
        conversation_id,
        count() as traces,
        sum(unpriced_calls) as unpriced_calls,
        -- (trace_id, cost_usd, started_at), most expensive first
        arraySort(
            t -> -coalesce(t.2, 0),
            groupArray((trace_id, cost_usd, started_at))
        ) as traces_by_cost
    from llm.fct_traces
    where conversation_id in (select conversation_id from conversations)
    group by conversation_id

)

select
    conversations.conversation_id as conversation_id,
    conversations.user_id as user_id,
    conversations.cost_usd as cost_usd,
    traces.unpriced_calls as unpriced_calls,
    conversations.turns as turns,
    conversations.llm_calls as llm_calls,
    conversations.tool_calls as tool_calls,
    conversations.input_tokens as input_tokens,
    conversations.output_tokens as output_tokens,
    conversations.model_ids as model_ids,
    conversations.reconciliation_status as reconciliation_status,
    conversations.first_seen_at as first_seen_at,
    conversations.last_seen_at as last_seen_at,
    traces.traces as traces,
    traces.traces_by_cost[1].1 as most_expensive_trace_id,  -- noqa: LT01
    arrayMap(t -> t.1, traces.traces_by_cost) as trace_ids
from conversations
left join traces on conversations.conversation_id = traces.conversation_id
order by cost_usd desc nulls last, conversation_id asc
settings join_use_nulls = 1;
