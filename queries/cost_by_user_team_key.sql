-- Cost by user, by team and by API key over the last 7 days, one block of rows
-- per dimension (column dimension), most expensive first.
--
-- The user is fct_llm_calls.user_id (user.id, LibreChat's user, LiteLLM's end
-- user). Team and key are not in the marts: they come from the call's own span
-- attributes as LiteLLM's proxy writes them (metadata.user_api_key_team_alias,
-- else _team_id; metadata.user_api_key_alias, else the first 12 characters of
-- _hash). Calls from other emitters have no team or key: '(none)'. Add your
-- own attribute names to the coalesce() lists below.
--
-- cost_usd sums priced calls only; unpriced_calls says how many calls of the
-- row have no cost (no matching price, or unknown usage).
--
-- clickhouse-client --queries-file queries/cost_by_user_team_key.sql
-- llmwh sql - < queries/cost_by_user_team_key.sql
with

call_keys as (

    select
        trace_id,
        span_id,
        any(coalesce(
            nullIf(span_attributes['metadata.user_api_key_team_alias'], ''),
            nullIf(span_attributes['metadata.user_api_key_team_id'], '')
        )) as team,
        any(coalesce(
            nullIf(span_attributes['metadata.user_api_key_alias'], ''),
            nullIf(substring(span_attributes['metadata.user_api_key_hash'], 1, 12), '')
        )) as api_key
    from llm_staging.stg_otel__spans
    where span_date >= today() - 8
    group by trace_id, span_id

),

calls as (

    select
        coalesce(calls.user_id, '(none)') as user,
        coalesce(call_keys.team, '(none)') as team,
        coalesce(call_keys.api_key, '(none)') as api_key,
        calls.cost_usd as cost_usd,
        calls.is_priced as is_priced,
        calls.input_tokens as input_tokens,
        calls.output_tokens as output_tokens,
        calls.conversation_id as conversation_id
    from llm.fct_llm_calls as calls
    left join call_keys on calls.trace_id = call_keys.trace_id and calls.call_id = call_keys.span_id
    where calls.started_at >= now() - interval 7 day

)

select
    multiIf(grouping(team) = 0, 'team', grouping(api_key) = 0, 'api_key', 'user') as dimension,
    multiIf(grouping(team) = 0, team, grouping(api_key) = 0, api_key, user) as value,
    count() as calls,
    uniqExact(conversation_id) as conversations,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(cost_usd) as cost_usd,
    countIf(not is_priced) as unpriced_calls
from calls
group by grouping sets ((team), (api_key), (user))
order by dimension, cost_usd desc nulls last, value
settings join_use_nulls = 1;
