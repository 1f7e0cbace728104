"""`llmwh prices`: which models seen in the warehouse have no price, with their call and token counts.

Reads the marts (fct_llm_calls) that `dbt build` wrote. A model is unpriced
when no price row (seed model_prices, generated from the genai-prices
catalogue, or seed model_price_overrides) matched its calls, whether or not
they reported usage: `priced_model` is NULL. The model id listed is the one
the price is matched on (the response model, else the request model), so a
row added to seeds/model_price_overrides.csv for that id and provider prices
those calls after `dbt build --full-refresh`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from llmwh.errors import LlmwhError
from llmwh.warehouse.connection import Warehouse


@dataclass
class UnpricedModel:
    provider: Optional[str]
    model: str
    calls: int
    calls_with_usage: int
    input_tokens: int
    output_tokens: int
    first_seen: datetime
    last_seen: datetime


@dataclass
class PriceCoverage:
    calls: int
    priced_calls: int          # cost_usd known
    calls_with_price: int      # a price row matched (usage may still be unknown)
    models: int
    unpriced_models: list      # [UnpricedModel], most input tokens first

    @property
    def unpriced_calls(self) -> int:
        return self.calls - self.calls_with_price


def _calls_table(wh: Warehouse) -> str:
    database = wh.target.schema
    exists = wh.rows('select count() from system.tables where database = {db:String} and name = {t:String}',
                     {'db': database, 't': 'fct_llm_calls'})[0][0]
    if not exists:
        raise LlmwhError(f'no {database}.fct_llm_calls in the warehouse; run `dbt build` first')
    return f'`{database}`.`fct_llm_calls`'


def price_coverage(wh: Warehouse, since: Optional[datetime] = None, limit: Optional[int] = None) -> PriceCoverage:
    """Price coverage of the calls in fct_llm_calls (started at or after `since`, if given)."""
    table = _calls_table(wh)
    since_filter = 'started_at >= {since:DateTime64(3)}' if since else '1'
    params = {'since': since} if since else {}
    model = "coalesce(nullIf(response_model, ''), request_model, '')"
    calls, priced, with_price, models = wh.rows(
        f'select count(), countIf(cost_usd is not null), countIf(priced_model is not null), '
        f'uniqExact(provider, {model}) from {table} where {since_filter}', params)[0]
    rows = wh.rows(
        f'select provider, {model} as model_id, count() as calls, '
        f"countIf(usage_source != 'none') as calls_with_usage, "
        f'sum(coalesce(input_tokens, 0)) as input, sum(coalesce(output_tokens, 0)) as output, '
        f'min(started_at), max(started_at) '
        f'from {table} where {since_filter} and priced_model is null '
        f'group by provider, model_id order by input desc, calls desc, provider, model_id'
        + (f' limit {int(limit)}' if limit else ''), params)
    unpriced = [UnpricedModel(provider, model_id, n, n_usage, int(inp), int(out), first, last)
                for provider, model_id, n, n_usage, inp, out, first, last in rows]
    return PriceCoverage(calls, priced, with_price, models, unpriced)
