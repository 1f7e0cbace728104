"""Write seeds/model_prices.csv and seeds/price_providers.csv from the pinned genai-prices catalogue.

Run by hand after bumping the pinned `genai-prices` version (never at build
time; the data ships inside the wheel, nothing is fetched):

    .venv/bin/python scripts/sync_prices.py           # rewrite both seeds
    .venv/bin/python scripts/sync_prices.py --check   # exit 1 if the committed seeds differ

then review the diff, re-run the price tests and `llmwh run --reprice`.
tests/test_price_catalogue.py regenerates in memory and compares with the
committed files, so a seed that drifts from the pinned package fails.

History is kept: prices in force before the sync day stay as the committed
seed has them, and a price the catalogue changed in place becomes a new
period from the sync day (keep_history). Models the catalogue dropped keep
their rows. A backdated catalogue correction therefore needs an override row.

What is written (seeds/_seeds.yml documents every column):
- model_prices.csv: one row per (catalogue provider, model, price period).
  The model's match clause (equals / starts_with / ends_with / contains /
  regex / or, and `and` with a negative look-ahead) becomes one anchored re2
  `model_pattern` plus an optional `model_exclude_pattern`. A provider tries
  its models in catalogue order and takes the first match, so
  `pattern_priority` is the model's position counted from the end of its
  provider's list. Effective-dated prices (start-date constraints) become
  consecutive [valid_from, valid_to) periods; the first price also applies
  before its start (the catalogue does the same) from the FLOOR date. A
  single tier threshold shared by every tiered price becomes
  tier_threshold_tokens and tier_* prices.
- price_providers.csv: every catalogue provider with its rank and whether it
  is a maker (a provider the catalogue recognises by its own model families,
  e.g. openai by `gpt-`; makers rank first, then resellers, each in catalogue
  order; a maker's prices also apply to calls whose own provider has none),
  and the OpenTelemetry `gen_ai.provider.name` values (as normalise_provider
  writes them) that map to it.

Not representable in the seed, so left out (the coverage test counts them
as unpriced): models with no token price (per-character, per-second,
per-request-only prices), and models whose tiers have more than one
threshold. Not modelled: request-context variants (batch, flex, priority),
web-search and other non-token fees (a per-request fee is), audio-token and 1-hour
cache-write prices beyond listing them (the warehouse has no such token
counts yet), and daily time windows (DeepSeek's off-peak discount): the
price in force for most of the day is written.
"""

import argparse
import csv
import io
import re
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRICES_CSV = ROOT / 'seeds' / 'model_prices.csv'
PROVIDERS_CSV = ROOT / 'seeds' / 'price_providers.csv'

# Earliest valid_from: the catalogue's first price of a model applies to every earlier call.
FLOOR = date(2023, 1, 1)

# gen_ai.provider.name values (after normalise_provider) and LiteLLM slugs that
# name a catalogue provider other than by its own id. Every catalogue id also
# maps to itself. The one definition of the call-provider -> catalogue mapping.
PROVIDER_ALIASES = {
    'aws.bedrock': 'aws',
    'azure.ai.openai': 'azure',
    'azure.ai.inference': 'azure',
    'gcp.gemini': 'google',
    'gcp.vertex_ai': 'google',
    'gcp.gen_ai': 'google',
    'mistral_ai': 'mistral',
    'x_ai': 'x-ai',
    'moonshot_ai': 'moonshotai',
    'together_ai': 'together',
    'fireworks_ai': 'fireworks',
    'zhipu': 'zhipuai',
}

PRICE_COLUMNS = {
    # seed column: catalogue price key
    'input_usd_per_mtok': 'input_mtok',
    'cached_input_usd_per_mtok': 'cache_read_mtok',
    'cache_write_usd_per_mtok': 'cache_write_mtok',
    'cache_write_1h_usd_per_mtok': 'cache_write_1h_mtok',
    'output_usd_per_mtok': 'output_mtok',
    'reasoning_usd_per_mtok': 'output_reasoning_mtok',
    'input_audio_usd_per_mtok': 'input_audio_mtok',
    'output_audio_usd_per_mtok': 'output_audio_mtok',
    'requests_usd_per_k': 'requests_kcount',
}
# Prices that take part in the long-context tier (the others are never tiered here).
TIERED_COLUMNS = {
    'tier_input_usd_per_mtok': 'input_mtok',
    'tier_cached_input_usd_per_mtok': 'cache_read_mtok',
    'tier_cache_write_usd_per_mtok': 'cache_write_mtok',
    'tier_output_usd_per_mtok': 'output_mtok',
}
PRICE_HEADER = ([
    'catalogue_provider', 'provider', 'model_family', 'model_pattern', 'model_exclude_pattern',
    'pattern_priority', 'valid_from', 'valid_to',
] + list(PRICE_COLUMNS) + ['tier_threshold_tokens'] + list(TIERED_COLUMNS) + ['currency', 'source'])
PROVIDER_HEADER = ['provider', 'catalogue_provider', 'provider_rank', 'is_maker']


class Unrepresentable(Exception):
    """A model the seed cannot express; it is left out and counted."""


# ------------------------------------------------------------------ match clauses -> re2

_SPECIAL = set('\\.^$|?*+()[]{}')


def _escape(text: str) -> str:
    return ''.join('\\' + c if c in _SPECIAL else c for c in text.lower())


def _regex_body(regex: str) -> str:
    """A catalogue regex (searched, like re.search) as a body that must match the whole id."""
    if re.search(r'\\[A-Z]', regex):
        raise Unrepresentable(f'regex {regex!r} has an upper-case escape; lower-casing would change it')
    body = regex.lower()
    if body.startswith('^'):
        body = body[1:]
    else:
        body = '.*' + body
    if body.endswith('$') and not body.endswith('\\$'):
        body = body[:-1]
    else:
        body = body + '.*'
    return f'(?:{body})' if '|' in body else body


_NEGATIVE_LOOKAHEAD = re.compile(r'^\^\(\?!(?P<inner>.*)\)$')


def clause_body(clause) -> str:
    """The clause as a regex body matched against the whole lower-cased id."""
    from genai_prices import types as t

    if isinstance(clause, t.ClauseEquals):
        return _escape(clause.equals)
    if isinstance(clause, t.ClauseStartsWith):
        return _escape(clause.starts_with) + '.*'
    if isinstance(clause, t.ClauseEndsWith):
        return '.*' + _escape(clause.ends_with)
    if isinstance(clause, t.ClauseContains):
        return '.*' + _escape(clause.contains) + '.*'
    if isinstance(clause, t.ClauseRegex):
        if clause.regex.startswith('^(?!'):
            raise Unrepresentable(f'look-ahead regex {clause.regex!r} outside an `and`')
        return _regex_body(clause.regex)
    if isinstance(clause, t.ClauseOr):
        return '(?:' + '|'.join(clause_body(c) for c in clause.or_) + ')'
    raise Unrepresentable(f'clause {clause!r}')


def _split_and(clause) -> tuple:
    """(positive body, [excluded bodies]) of an `and`: clauses that must match plus
    negative look-aheads `^(?!X)` (re2 has none), which become exclusions."""
    from genai_prices import types as t

    include, exclude = [], []
    for part in clause.and_:
        m = _NEGATIVE_LOOKAHEAD.match(part.regex) if isinstance(part, t.ClauseRegex) else None
        if m:
            exclude.append(_regex_body('^' + m.group('inner')))
        else:
            include.append(clause_body(part))
    if len(include) != 1:
        raise Unrepresentable(f'`and` of {len(include)} positive clauses')
    return include[0], exclude


def clause_patterns(clause) -> tuple:
    """(model_pattern, model_exclude_pattern or '') for a model's match clause.

    re2 has no look-around, so an `and` is accepted in the one shape the
    catalogue uses: one clause that must match plus negative look-aheads
    `^(?!X)`, whose X become the exclude pattern. Inside an `or`, that is
    exact only when no other branch can match an excluded id, which is
    checked: the other branches must be `equals` of ids the exclusion spares."""
    from genai_prices import types as t

    if isinstance(clause, t.ClauseAnd):
        body, exclude = _split_and(clause)
        return f'^{body}$', ('^(?:' + '|'.join(exclude) + ')$' if exclude else '')
    if isinstance(clause, t.ClauseOr) and any(isinstance(c, t.ClauseAnd) for c in clause.or_):
        bodies, exclude = [], []
        for branch in clause.or_:
            if isinstance(branch, t.ClauseAnd):
                body, excluded = _split_and(branch)
                bodies.append(body)
                exclude += excluded
            else:
                bodies.append(clause_body(branch))
        exclude_pattern = '^(?:' + '|'.join(exclude) + ')$'
        for branch in clause.or_:
            if not isinstance(branch, t.ClauseAnd) and not (
                    isinstance(branch, t.ClauseEquals) and not re.match(exclude_pattern, branch.equals.lower())):
                raise Unrepresentable(f'`or` mixing an exclusion with {branch!r}')
        return '^(?:' + '|'.join(bodies) + ')$', exclude_pattern
    return f'^{clause_body(clause)}$', ''


# ------------------------------------------------------------------ prices and periods

def _number(value) -> str:
    if value is None:
        return ''
    text = format(Decimal(value).normalize(), 'f')
    return text


def _price_cells(model_price) -> dict:
    """Seed price cells (strings) of one catalogue ModelPrice."""
    from genai_prices import types as t

    raw = {key: getattr(model_price, key, None) for key in set(PRICE_COLUMNS.values())}
    listed = {k for k, v in vars(model_price).items() if v is not None and not k.startswith('_')}
    if not listed:
        # No price at all: the catalogue charges nothing (free tiers, subscriptions, moderation).
        raw['input_mtok'] = raw['output_mtok'] = Decimal(0)
    elif raw['input_mtok'] is None and raw['output_mtok'] is None:
        raise Unrepresentable(f'no token price (only {", ".join(sorted(listed))})')
    # A token direction without a price is not billed (embeddings list no output price).
    for key in ('input_mtok', 'output_mtok'):
        if raw[key] is None:
            raw[key] = Decimal(0)
    tiered = {k: v for k, v in raw.items() if isinstance(v, t.TieredPrices)}
    thresholds = {tuple(tier.start for tier in v.tiers) for v in tiered.values()}
    if len(thresholds) > 1 or any(len(th) > 1 for th in thresholds):
        raise Unrepresentable(f'tiers with several thresholds {sorted(thresholds)}')
    cells = {}
    for column, key in PRICE_COLUMNS.items():
        value = raw[key]
        cells[column] = _number(value.base if isinstance(value, t.TieredPrices) else value)
    if tiered:
        # Prices outside TIERED_COLUMNS (the 1-hour cache write) are listed at their base price.
        cells['tier_threshold_tokens'] = str(next(iter(thresholds))[0])
        for column, key in TIERED_COLUMNS.items():
            value = raw[key]
            # A price without tiers keeps its base price above the threshold.
            cells[column] = _number(value.tiers[0].price if isinstance(value, t.TieredPrices) else value)
    else:
        cells['tier_threshold_tokens'] = ''
        cells.update({column: '' for column in TIERED_COLUMNS})
    return cells


_DAY_SAMPLES = [time(h, m, tzinfo=timezone.utc) for h in range(24) for m in (0, 30)]


def _price_on(model, day: date):
    """The catalogue price of `model` on `day`: the one in force for most of the day."""
    counts, by_key = Counter(), {}
    for moment in _DAY_SAMPLES:
        price = model.get_prices(datetime.combine(day, moment))
        key = repr(price)
        counts[key] += 1
        by_key[key] = price
    return by_key[counts.most_common(1)[0][0]]


def price_periods(model) -> list:
    """[(valid_from, valid_to or None, ModelPrice)] with equal neighbours merged."""
    from genai_prices import types as t

    starts = sorted({c.constraint.start_date for c in (model.prices if isinstance(model.prices, list) else [])
                     if isinstance(c.constraint, t.StartDateConstraint)})
    bounds = [FLOOR] + [d for d in starts if d > FLOOR]
    periods = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else None
        price = _price_on(model, start)
        if periods and repr(periods[-1][2]) == repr(price):
            periods[-1] = (periods[-1][0], end, price)
        else:
            periods.append((start, end, price))
    return periods


def _day(value) -> str:
    return '' if value is None else value.isoformat()


# ------------------------------------------------------------------ the seeds

def provider_ranks(providers) -> dict:
    """Catalogue provider -> rank: providers that name their own model families first."""
    makers = [p.id for p in providers if p.model_match is not None]
    others = [p.id for p in providers if p.model_match is None]
    return {pid: rank for rank, pid in enumerate(makers + others, start=1)}


PRICE_CELLS = list(PRICE_COLUMNS) + ['tier_threshold_tokens'] + list(TIERED_COLUMNS)
MATCH_CELLS = ['model_pattern', 'model_exclude_pattern', 'pattern_priority']


def _model_key(row) -> tuple:
    return row['catalogue_provider'], row['model_family']


def keep_history(previous: list, current: list, synced_on: date) -> list:
    """The rows to write: what the catalogue says from `synced_on` on, and before
    it what the committed seed said (a price already in force is never edited).

    Per model (catalogue provider + model id): the committed rows cut at
    `synced_on`, then the catalogue's rows from `synced_on`, neighbours with
    equal prices merged (the earlier row's source kept). A catalogue price
    that changed in place thus becomes a new period starting on the sync day;
    dated changes the catalogue adds for later days come in as they are; a
    model that left the catalogue keeps its rows. Match patterns and
    priorities are matching rules, not prices: every row of a model takes the
    catalogue's current ones. Nothing changes when the catalogue did not."""
    cutoff = synced_on.isoformat()
    old_by_model, new_by_model = {}, {}
    for row in previous:
        old_by_model.setdefault(_model_key(row), []).append(row)
    for row in current:
        new_by_model.setdefault(_model_key(row), []).append(row)
    out = []
    for key in list(new_by_model) + [k for k in old_by_model if k not in new_by_model]:
        new, old = new_by_model.get(key, []), old_by_model.get(key, [])
        if not old or not new:
            out += new or old
            continue
        periods = [dict(r, valid_to=min(r['valid_to'] or cutoff, cutoff)) for r in old if r['valid_from'] < cutoff]
        periods += [dict(r, valid_from=max(r['valid_from'], cutoff)) for r in new
                    if not r['valid_to'] or r['valid_to'] > cutoff]
        merged = []
        for row in sorted(periods, key=lambda r: r['valid_from']):
            row = dict(row, **{c: new[0][c] for c in MATCH_CELLS})
            if merged and merged[-1]['valid_to'] == row['valid_from'] and all(
                    merged[-1][c] == row[c] for c in PRICE_CELLS):
                merged[-1]['valid_to'] = row['valid_to']
            else:
                merged.append(row)
        # A period the committed seed already has, with the same prices, keeps its source.
        sources = {(r['valid_from'], r['valid_to'], *(r[c] for c in PRICE_CELLS)): r['source'] for r in old}
        for row in merged:
            row['source'] = sources.get((row['valid_from'], row['valid_to'], *(row[c] for c in PRICE_CELLS)),
                                        row['source'])
        out += merged
    return out


def build(providers, version: str, previous=None, synced_on=None):
    """(price rows, provider rows, left-out models [(provider, model, why)]).

    `previous`: the committed price rows, whose history is kept (keep_history)."""
    rows, left_out = [], []
    for provider in providers:
        count = len(provider.models)
        for index, model in enumerate(provider.models):
            try:
                pattern, exclude = clause_patterns(model.match)
                periods = []
                for start, end, price in price_periods(model):
                    cells = _price_cells(price)
                    if periods and periods[-1][2] == cells:
                        # Equal in every price the seed keeps (they differ in one it leaves out).
                        periods[-1] = (periods[-1][0], end, cells)
                    else:
                        periods.append((start, end, cells))
            except Unrepresentable as why:
                left_out.append((provider.id, model.id, str(why)))
                continue
            for start, end, cells in periods:
                rows.append({
                    'catalogue_provider': provider.id,
                    'provider': '',
                    'model_family': model.id,
                    'model_pattern': pattern,
                    'model_exclude_pattern': exclude,
                    'pattern_priority': str(count - index),
                    'valid_from': _day(start),
                    'valid_to': _day(end),
                    **cells,
                    'currency': 'USD',
                    'source': f'genai-prices {version}: {provider.id} / {model.id}',
                })
    if previous:
        rows = keep_history(previous, rows, synced_on or date.today())
    ranks = provider_ranks(providers)
    mapping = {pid: pid for pid in ranks}
    for alias, pid in PROVIDER_ALIASES.items():
        if pid not in ranks:
            raise SystemExit(f'alias {alias} names {pid}, which the catalogue does not have')
        mapping[alias] = pid
    makers = {p.id for p in providers if p.model_match is not None}
    provider_rows = [{'provider': name, 'catalogue_provider': pid, 'provider_rank': str(ranks[pid]),
                      'is_maker': str(pid in makers).lower()}
                     for name, pid in sorted(mapping.items())]
    return rows, provider_rows, left_out


def render(rows, header) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def committed_rows() -> list:
    """The price rows of the committed seed (empty when there is none)."""
    if not PRICES_CSV.exists():
        return []
    with PRICES_CSV.open(newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def generate(previous=None, synced_on=None):
    """{path: text} of both seeds from the installed genai-prices, and the left-out models.

    `previous` defaults to the committed price rows, whose history is kept."""
    import genai_prices
    from genai_prices.data import providers

    previous = committed_rows() if previous is None else previous
    rows, provider_rows, left_out = build(providers, genai_prices.__version__, previous, synced_on)
    return {PRICES_CSV: render(rows, PRICE_HEADER), PROVIDERS_CSV: render(provider_rows, PROVIDER_HEADER)}, left_out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='compare with the committed seeds; write nothing')
    args = parser.parse_args(argv)
    files, left_out = generate()
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f'{path.relative_to(ROOT)} differs from the pinned catalogue; run scripts/sync_prices.py')
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text)
    rows = files[PRICES_CSV].count('\n') - 1
    print(f'wrote {rows} price rows and {files[PROVIDERS_CSV].count(chr(10)) - 1} provider rows; '
          f'{len(left_out)} models left out (no token price or unrepresentable):', file=sys.stderr)
    for provider, model, why in left_out:
        print(f'  {provider} / {model}: {why}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
