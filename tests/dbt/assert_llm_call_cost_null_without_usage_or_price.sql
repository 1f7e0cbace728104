-- A call whose usage is unknown (usage_source 'none') or that matched no
-- price (priced_model NULL) has no cost: NULL, never a made-up 0. The cost
-- itself is recomputed independently from the seed in tests/test_pipeline.py
-- (test_cost_equals_an_independent_recomputation_from_the_seed).
select *
from {{ ref('fct_llm_calls') }}
where
    cost_usd is not null
    and (usage_source = 'none' or priced_model is null)
