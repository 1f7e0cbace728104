-- Cost by user, by team and by API key over the last 7 days, one block of rows
-- per dimension (column dimension), most expensive first.
--
-- The user is fct_llm_calls.user_id (user.id, LibreChat's user, LiteLLM's end
-- user); team and api_key are fct_llm_calls.team / api_key (LiteLLM's
-- metadata.user_api_key_team_alias and metadata.user_api_key_alias). Calls
-- from emitters that send no team or key show '(none)'.
--
-- cost_usd sums priced calls only; unpriced_calls says how many calls of the
-- row have no cost (no matching price, or unknown usage).
--
-- clickhouse-client --queries-file queries/cost_by_user_team_key.sql
-- llmwh sql - < queries/cost_by_user_team_key.sql
with

calls as (

    -- Qualified names: an alias shadows its column inside the same select.
    select
        coalesce(llm_calls.user_id, '(none)') as user,
        coalesce(llm_calls.team, '(none)') as team,
        coalesce(llm_calls.api_key, '(none)') as api_key,
        llm_calls.cost_usd as cost_usd,
        llm_calls.is_priced as is_priced,
        llm_calls.input_tokens as input_tokens,
        llm_calls.output_tokens as output_tokens,
        llm_calls.conversation_id as conversation_id
    from llm.fct_llm_calls as llm_calls
    where llm_calls.started_at >= now() - interval 7 day

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
order by dimension asc, cost_usd desc nulls last, value asc;
