"""`llmwh prices`: which models seen in the warehouse have no price, with their call and token counts.

Reads the marts (fct_llm_calls) that `dbt build` wrote. A call lacks a price
when no price row (seed model_prices, generated from the genai-prices
catalogue, or seed model_price_overrides) matched it: its unpriced_reason is
`no_price`. A model is listed when any of its calls lacks a price; its counts
cover all its calls without a cost (those without usage too, which cannot
tell whether a price exists). The model id listed is the one prices are
matched on (fct_llm_calls.model_id: the response model, else the request
model), so a row added to seeds/model_price_overrides.csv for that id and
provider prices those calls after `llmwh run --reprice`.
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
    calls: int                 # calls without a cost
    calls_with_usage: int      # of which reported usage (so they lack a price)
    input_tokens: int
    output_tokens: int
    first_seen: datetime
    last_seen: datetime


@dataclass
class PriceCoverage:
    calls: int
    models: int
    priced_calls: int          # cost_usd known
    no_price_calls: int        # usage known, no price matched
    no_usage_calls: int        # no usage, so no cost whatever the price
    unpriced_models: list      # [UnpricedModel], most input tokens first


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
    calls, models, priced, no_price, no_usage = wh.rows(
        f"select count(), uniqExact(provider, coalesce(model_id, '')), countIf(cost_usd is not null), "
        f"countIf(unpriced_reason = 'no_price'), countIf(unpriced_reason = 'no_usage') "
        f'from {table} where {since_filter}', params)[0]
    rows = wh.rows(
        f"select provider, coalesce(model_id, '') as model, count() as calls, "
        f"countIf(unpriced_reason = 'no_price') as calls_with_usage, "
        f'sum(coalesce(input_tokens, 0)) as input, sum(coalesce(output_tokens, 0)) as output, '
        f'min(started_at), max(started_at) '
        f'from {table} where {since_filter} and cost_usd is null '
        f'group by provider, model having calls_with_usage > 0 '
        f'order by input desc, calls desc, provider, model'
        + (f' limit {int(limit)}' if limit else ''), params)
    unpriced = [UnpricedModel(provider, model, n, n_usage, int(inp), int(out), first, last)
                for provider, model, n, n_usage, inp, out, first, last in rows]
    return PriceCoverage(calls, models, priced, no_price, no_usage, unpriced)
