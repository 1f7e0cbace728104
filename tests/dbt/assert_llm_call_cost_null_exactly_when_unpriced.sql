-- cost_usd is NULL exactly when the call is unpriced (no price matched, or
-- usage unknown); an unpriced call never shows a fake 0.
select *
from {{ ref('fct_llm_calls') }}
where
    is_priced != (cost_usd is not null)
    or (priced_model is null and cost_usd is not null)
    or (usage_source = 'none' and cost_usd is not null)
