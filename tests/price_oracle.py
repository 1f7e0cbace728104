"""A plain-Python oracle for pricing: which seed row prices a call, and what the call costs.

Written from the documentation, not from the SQL, so the models can be checked
against it: the matching rule is the one seeds/_seeds.yml documents, the cost
the disjoint-bucket formula of the README and macros/cost.sql. The SQL has one
definition of the cost formula (macro llm_cost_usd); this file is the test's
independent second computation, never used by the models.

Matching: candidates are the rows whose anchored pattern matches lower(model)
and whose period [valid_from, valid_to) contains the call time; a row of the
call's own provider beats other providers' rows, then the highest
pattern_priority wins, then provider ascending. A call is matched on its
response model first, then its request model.
"""

import csv
import re
from datetime import datetime, timedelta

from conftest import ROOT

SEED = ROOT / 'seeds' / 'model_prices.csv'

PRICE_COLUMNS = [
    'input_usd_per_mtok', 'cached_input_usd_per_mtok', 'cache_write_usd_per_mtok',
    'output_usd_per_mtok', 'reasoning_usd_per_mtok',
    'tier_input_usd_per_mtok', 'tier_cached_input_usd_per_mtok',
    'tier_cache_write_usd_per_mtok', 'tier_output_usd_per_mtok',
]
TIER_PRICES = [c for c in PRICE_COLUMNS if c.startswith('tier_')]


def _load_rows():
    with SEED.open(newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


ROWS = _load_rows()


def num(value):
    """A seed cell as a number; None when blank."""
    return None if value == '' else float(value)


def utc_time(value):
    """A seed timestamp (UTC, naive); None when blank."""
    return None if value == '' else datetime.fromisoformat(value)


def from_unix_nanos(nanos):
    """A ClickHouse DateTime64(9) as nanoseconds since the epoch -> naive UTC datetime.

    Truncated to microseconds, which keeps its order against the seed's
    millisecond period boundaries."""
    return datetime(1970, 1, 1) + timedelta(microseconds=int(nanos) // 1000)


def re2_match(pattern, model):
    """ClickHouse `match` (re2, unanchored search) in Python's re: the same for
    these patterns, except that Python's `$` also matches before a final newline."""
    m = re.search(pattern, model)
    return m is not None and (not pattern.endswith('$') or m.end() == len(model))


def candidates(model, at=None):
    """Rows whose pattern matches the model id and whose period contains `at` (any time if None)."""
    out = []
    for row in ROWS:
        if not re2_match(row['model_pattern'], model.lower()):
            continue
        if at is not None:
            start, end = utc_time(row['valid_from']), utc_time(row['valid_to'])
            if not (start <= at and (end is None or at < end)):
                continue
        out.append(row)
    return out


def _rank(row, provider):
    return (row['provider'] == provider, int(row['pattern_priority']))


def best_price(model, at, provider=None):
    """The one row that prices a call of this model id, or None (the documented rule)."""
    rows = candidates(model, at)
    if not rows:
        return None
    top = max(_rank(r, provider) for r in rows)
    tied = sorted((r for r in rows if _rank(r, provider) == top), key=lambda r: r['provider'])
    return tied[0]


def best_family(model, provider=None):
    """The model family the most specific matching pattern prices, over all periods.

    Fails when two different patterns tie for first place: the rule must single one out."""
    rows = candidates(model)
    if not rows:
        return None
    top = max(_rank(r, provider) for r in rows)
    winners = {(r['model_pattern'], r['model_family']) for r in rows if _rank(r, provider) == top}
    assert len(winners) == 1, f'{model!r} ties between {sorted(winners)}'
    return winners.pop()[1]


def price_of_call(response_model, request_model, provider, at):
    """The row pricing a call: the response model's best row, else the request model's."""
    for model in (response_model, request_model):
        row = best_price(model, at, provider) if model else None
        if row is not None:
            return row
    return None


def cost_usd(row, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens):
    """USD cost of one call priced by `row`, from disjoint token buckets; None when unpriced.

    Token counts are inclusive (input includes cache reads and writes, output
    includes reasoning), so each bucket is billed once: uncached input at the
    input rate, cache reads at the cached rate and cache writes at the
    cache-write rate (both falling back to the input rate), non-reasoning
    output at the output rate, reasoning at the reasoning rate (falling back
    to the output rate); rates are USD per 1M tokens. Above
    tier_threshold_tokens of input, the tier_* prices replace the input,
    cached, cache-write and output rates. None without a row, when neither
    input nor output is known, or when a rate the call needs is not listed
    (a tier without a published price)."""
    if row is None or (input_tokens is None and output_tokens is None):
        return None
    threshold = num(row['tier_threshold_tokens'])
    tier = 'tier_' if threshold is not None and input_tokens is not None and input_tokens > threshold else ''
    input_rate = num(row[f'{tier}input_usd_per_mtok'])
    output_rate = num(row[f'{tier}output_usd_per_mtok'])
    if input_rate is None or output_rate is None:
        return None
    cached_rate = num(row[f'{tier}cached_input_usd_per_mtok'])
    cache_write_rate = num(row[f'{tier}cache_write_usd_per_mtok'])
    reasoning_rate = num(row['reasoning_usd_per_mtok'])
    cached_rate = input_rate if cached_rate is None else cached_rate
    cache_write_rate = input_rate if cache_write_rate is None else cache_write_rate
    reasoning_rate = output_rate if reasoning_rate is None else reasoning_rate
    inp, out = input_tokens or 0, output_tokens or 0
    cache_read, cache_write, reasoning = cache_read_tokens or 0, cache_write_tokens or 0, reasoning_tokens or 0
    return ((inp - cache_read - cache_write) * input_rate
            + cache_read * cached_rate
            + cache_write * cache_write_rate
            + (out - reasoning) * output_rate
            + reasoning * reasoning_rate) / 1e6
