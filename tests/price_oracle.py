"""A plain-Python oracle for pricing: which price row prices a call, and what the call costs.

Written from the documentation, not from the SQL, so the models can be checked
against it: the matching rule is the one seeds/_seeds.yml documents, the cost
the disjoint-bucket formula of the README and macros/cost.sql. The SQL has one
definition of the cost formula (macro llm_cost_usd); this file is the test's
independent second computation, never used by the models.

Price rows are the catalogue rows (seeds/model_prices.csv, generated from
genai-prices) and the project's overrides (seeds/model_price_overrides.csv).

Matching: a call is priced by its response model, and by its request model
only when no response model was reported. The id is lower-cased and tried as
sent, without a Vertex resource path / one route prefix (`bedrock/`,
`openai/`, `publishers/anthropic/models/` ...), and that with a compact
snapshot date (-20251211) dashed (-2025-12-11). Candidates are the rows whose
pattern matches one of those keys (and whose exclude pattern does not), whose
period [valid_from, valid_to) contains the call's start, whose `provider`
is blank or the call's provider, and whose catalogue provider is the call's own
or a maker (price_providers is_maker). The best candidate: a row of the call's
catalogue provider (seeds/price_providers.csv maps gen_ai.provider.name
values to catalogue ids); then an override; then the lowest provider_rank;
then the earliest key (as sent, without prefix, dashed date); then the highest
pattern_priority; then catalogue provider and pattern ascending.
"""

import csv
import functools
import re
from datetime import datetime, timedelta

from conftest import ROOT

SEEDS = ROOT / 'seeds'
CATALOGUE = SEEDS / 'model_prices.csv'
OVERRIDES = SEEDS / 'model_price_overrides.csv'
PROVIDERS = SEEDS / 'price_providers.csv'

PRICE_COLUMNS = [
    'input_usd_per_mtok', 'cached_input_usd_per_mtok', 'cache_write_usd_per_mtok',
    'cache_write_1h_usd_per_mtok', 'output_usd_per_mtok', 'reasoning_usd_per_mtok',
    'input_audio_usd_per_mtok', 'output_audio_usd_per_mtok', 'requests_usd_per_k',
    'tier_input_usd_per_mtok', 'tier_cached_input_usd_per_mtok',
    'tier_cache_write_usd_per_mtok', 'tier_output_usd_per_mtok',
]
TIER_PRICES = [c for c in PRICE_COLUMNS if c.startswith('tier_')]


def _read(path):
    with path.open(newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


CATALOGUE_ROWS = _read(CATALOGUE)
OVERRIDE_ROWS = _read(OVERRIDES)
ROWS = [dict(r, is_override=False) for r in CATALOGUE_ROWS] + [dict(r, is_override=True) for r in OVERRIDE_ROWS]
PROVIDER_ROWS = _read(PROVIDERS)
CATALOGUE_PROVIDER = {r['provider']: r['catalogue_provider'] for r in PROVIDER_ROWS}
PROVIDER_RANK = {r['catalogue_provider']: int(r['provider_rank']) for r in PROVIDER_ROWS}
IS_MAKER = {r['catalogue_provider']: r['is_maker'] == 'true' for r in PROVIDER_ROWS}


def num(value):
    """A seed cell as a number; None when blank."""
    return None if value == '' else float(value)


def utc_time(value):
    """A seed timestamp (UTC, naive); None when blank."""
    return None if value == '' else datetime.fromisoformat(value)


def from_unix_nanos(nanos):
    """A ClickHouse DateTime64(9) as nanoseconds since the epoch -> naive UTC datetime.

    Truncated to microseconds, which keeps its order against the seed's
    day boundaries."""
    return datetime(1970, 1, 1) + timedelta(microseconds=int(nanos) // 1000)


@functools.lru_cache(maxsize=None)
def _compiled(pattern):
    return re.compile(pattern)


def re2_match(pattern, model):
    """ClickHouse `match` (re2, unanchored search) in Python's re: the same for
    these patterns, except that Python's `$` also matches before a final newline."""
    m = _compiled(pattern).search(model)
    return m is not None and (not pattern.endswith('$') or m.end() == len(model))


def model_keys(model):
    """The keys a model id is matched on: as sent (lower-cased); without a Vertex
    resource path and one route prefix; that with a compact date dashed."""
    raw = model.lower()
    stripped = re.sub(r'^(projects/[^/]+/locations/[^/]+/)?(publishers/[^/]+/)?models/', '', raw)
    stripped = re.sub(r'^[a-z0-9_.-]+/', '', stripped)
    dashed = re.sub(r'-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(-|:|$)', r'-\1-\2-\3\4', stripped, count=1)
    return list(dict.fromkeys([raw, stripped, dashed]))


def row_matches(row, key):
    return re2_match(row['model_pattern'], key) and not (
        row['model_exclude_pattern'] and re2_match(row['model_exclude_pattern'], key))


def candidates(model, at=None, provider=None):
    """(row, key order) whose pattern matches one of the id's keys, valid at `at`
    (any time if None) and open to the call's provider."""
    out = []
    for i, key in enumerate(model_keys(model)):
        for row in ROWS:
            if row['provider'] and row['provider'] != provider:
                continue
            if not IS_MAKER[row['catalogue_provider']] and row['catalogue_provider'] != CATALOGUE_PROVIDER.get(provider):
                continue
            if not row_matches(row, key):
                continue
            if at is not None:
                start, end = utc_time(row['valid_from']), utc_time(row['valid_to'])
                if not (start <= at and (end is None or at < end)):
                    continue
            out.append((row, i))
    return out


def _rank(candidate, provider):
    row, key_order = candidate
    own = CATALOGUE_PROVIDER.get(provider)
    return (
        row['catalogue_provider'] == own,
        row['is_override'],
        -PROVIDER_RANK[row['catalogue_provider']],
        -key_order,
        int(row['pattern_priority']),
    )


def best_price(model, at, provider=None):
    """The one row that prices a call of this model id, or None (the documented rule)."""
    found = candidates(model, at, provider)
    if not found:
        return None
    top = max(_rank(c, provider) for c in found)
    tied = sorted((c[0] for c in found if _rank(c, provider) == top),
                  key=lambda r: (r['catalogue_provider'], r['model_pattern']))
    return tied[0]


def best_family(model, at, provider=None):
    """The model family (catalogue model id or override label) of the row that prices the id."""
    row = best_price(model, at, provider)
    return None if row is None else row['model_family']


def price_of_call(response_model, request_model, provider, at):
    """The row pricing a call: by the response model, or by the request model when none was reported."""
    model = response_model or request_model
    return best_price(model, at, provider) if model else None


def cost_usd(row, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens):
    """USD cost of one call priced by `row`, from disjoint token buckets; None when unpriced.

    Token counts are inclusive (input includes cache reads and writes, output
    includes reasoning), so each bucket is billed once: uncached input at the
    input rate, cache reads at the cached rate and cache writes at the
    cache-write rate (both falling back to the input rate), non-reasoning
    output at the output rate, reasoning at the reasoning rate (falling back
    to the output rate), plus the per-request fee (USD per 1,000 requests) if
    any; rates are USD per 1M tokens. Above
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
    request_fee = (num(row['requests_usd_per_k']) or 0) / 1e3
    return ((inp - cache_read - cache_write) * input_rate
            + cache_read * cached_rate
            + cache_write * cache_write_rate
            + (out - reasoning) * output_rate
            + reasoning * reasoning_rate) / 1e6 + request_fee
