"""The price seed seeds/model_prices.csv: pattern matching and as-of prices.

The matcher (tests/price_oracle.py) follows the rule documented in
seeds/_seeds.yml: candidates are the rows whose anchored pattern matches
lower(model) and whose period [valid_from, valid_to) contains the call time; a
row of the call's own provider beats other providers' rows, then the highest
pattern_priority wins, then provider ascending. Every expected family and
price below is written by hand from the published list prices and dated changes, not
read back from the seed.
"""

from datetime import datetime

import pytest
import yaml

from conftest import ROOT
from price_oracle import PRICE_COLUMNS, ROWS, TIER_PRICES, best_family, best_price, candidates, num, re2_match

SEEDS_YML = ROOT / 'seeds' / '_seeds.yml'


def prices(row):
    """(input, cached input, cache write, output) of a row."""
    return tuple(num(row[c]) for c in ('input_usd_per_mtok', 'cached_input_usd_per_mtok',
                                        'cache_write_usd_per_mtok', 'output_usd_per_mtok'))


# ---------------------------------------------------------------------------------------------
# Real model ids and the family whose price they must get (alias, dated snapshots, gateways).

MODEL_IDS = [
    # OpenAI
    ('gpt-4o', 'gpt-4o'),
    ('GPT-4o', 'gpt-4o'),
    ('gpt-4o-2024-11-20', 'gpt-4o'),
    ('gpt-4o-2024-08-06', 'gpt-4o-2024-08-06'),
    ('gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'),
    ('openai/gpt-4o', 'gpt-4o'),
    ('azure/gpt-4o-2024-11-20', 'gpt-4o'),
    ('gpt-4o-mini', 'gpt-4o-mini'),
    ('gpt-4o-mini-2024-07-18', 'gpt-4o-mini'),
    ('openai/gpt-4o-mini', 'gpt-4o-mini'),
    ('gpt-3.5-turbo', 'gpt-3.5-turbo'),
    ('gpt-3.5-turbo-0125', 'gpt-3.5-turbo'),
    ('gpt-4-turbo-2024-04-09', 'gpt-4-turbo'),
    ('gpt-4.1', 'gpt-4.1'),
    ('gpt-4.1-2025-04-14', 'gpt-4.1'),
    ('gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini'),
    ('gpt-4.1-nano', 'gpt-4.1-nano'),
    ('gpt-4.5-preview-2025-02-27', 'gpt-4.5-preview'),
    ('o1', 'o1'),
    ('o1-2024-12-17', 'o1'),
    ('o1-mini', 'o1-mini'),
    ('o1-mini-2024-09-12', 'o1-mini'),
    ('o3', 'o3'),
    ('o3-2025-04-16', 'o3'),
    ('o3-mini', 'o3-mini'),
    ('o3-mini-2025-01-31', 'o3-mini'),
    ('o4-mini-2025-04-16', 'o4-mini'),
    ('o3-pro', 'o3-pro'),
    ('gpt-5', 'gpt-5'),
    ('gpt-5-2025-08-07', 'gpt-5'),
    ('gpt-5-mini-2025-08-07', 'gpt-5-mini'),
    ('gpt-5-nano', 'gpt-5-nano'),
    ('gpt-5.1', 'gpt-5.1'),
    ('openai/gpt-5.2-20251211', 'gpt-5.2'),
    # Anthropic, with Bedrock and Vertex ids and OpenRouter's dotted versions
    ('claude-3-haiku-20240307', 'claude-3-haiku'),
    ('anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku'),
    ('claude-3-opus-20240229', 'claude-3-opus'),
    ('claude-3-opus-latest', 'claude-3-opus'),
    ('claude-3-5-sonnet-20240620', 'claude-3-5-sonnet'),
    ('claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'),
    ('anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'),
    ('claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'),
    ('anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet'),
    ('claude-3-5-haiku-20241022', 'claude-3-5-haiku'),
    ('claude-3-5-haiku-latest', 'claude-3-5-haiku'),
    ('claude-3-7-sonnet-20250219', 'claude-3-7-sonnet'),
    ('bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'),
    ('claude-sonnet-4-20250514', 'claude-sonnet-4'),
    ('claude-sonnet-4-0', 'claude-sonnet-4'),
    ('claude-sonnet-4@20250514', 'claude-sonnet-4'),
    ('claude-sonnet-4-5', 'claude-sonnet-4-5'),
    ('claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'),
    ('anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'),
    ('anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'),
    ('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'),
    ('global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'),
    ('vertex_ai/claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'),
    ('claude-opus-4-20250514', 'claude-opus-4'),
    ('claude-opus-4-1-20250805', 'claude-opus-4-1'),
    ('claude-opus-4-5-20251101', 'claude-opus-4-5'),
    ('claude-haiku-4-5-20251001', 'claude-haiku-4-5'),
    ('eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'),
    # Google
    ('gemini-1.5-pro', 'gemini-1.5-pro'),
    ('gemini-1.5-pro-002', 'gemini-1.5-pro'),
    ('gemini-1.5-flash-latest', 'gemini-1.5-flash'),
    ('gemini-1.5-flash-001', 'gemini-1.5-flash'),
    ('gemini-2.0-flash', 'gemini-2.0-flash'),
    ('gemini-2.0-flash-001', 'gemini-2.0-flash'),
    ('gemini/gemini-2.0-flash', 'gemini-2.0-flash'),
    ('gemini-2.0-flash-lite', 'gemini-2.0-flash-lite'),
    ('gemini-2.0-flash-lite-001', 'gemini-2.0-flash-lite'),
    ('gemini-2.5-pro', 'gemini-2.5-pro'),
    ('google/gemini-2.5-pro', 'gemini-2.5-pro'),
    ('vertex_ai/gemini-2.5-pro', 'gemini-2.5-pro'),
    ('models/gemini-2.5-flash', 'gemini-2.5-flash'),
    ('gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'),
    # Mistral
    ('mistral-large-latest', 'mistral-large-latest'),
    ('mistral/mistral-large-latest', 'mistral-large-latest'),
    ('mistral-large-2411', 'mistral-large-2411'),
    ('mistral-large-2512', 'mistral-large-2512'),
    ('mistralai/mistral-medium-2505', 'mistral-medium-2505'),
    ('mistral-medium-latest', 'mistral-medium-latest'),
    ('mistral-small-latest', 'mistral-small-latest'),
    ('codestral-latest', 'codestral-latest'),
    # DeepSeek, Moonshot
    ('deepseek-chat', 'deepseek-chat'),
    ('deepseek/deepseek-reasoner', 'deepseek-reasoner'),
    ('moonshot-v1-8k', 'moonshot-v1-8k'),
    ('moonshot-v1-32k', 'moonshot-v1-32k'),
    ('moonshot-v1-128k', 'moonshot-v1-128k'),
    ('kimi-k2-0905-preview', 'kimi-k2'),
    ('moonshot/kimi-k2-thinking', 'kimi-k2'),
    ('kimi-k2-turbo-preview', 'kimi-k2-turbo'),
    ('kimi-k2-thinking-turbo', 'kimi-k2-turbo'),
]

# Ids that must get no price (cost NULL): fine-tunes do NOT inherit their base
# model's price (they bill above it), nor do neighbouring models, previews,
# unknown snapshots of another shape, ARNs or ids with extra characters.
UNPRICED_IDS = [
    'my-finetune-v3',
    'ft:gpt-4o-mini:acme::abc',
    'ft:gpt-4o-2024-08-06:acme:support:9xyz',
    'openai/ft:gpt-4o-mini:acme::abc',
    'ft:gpt-4.1-mini-2025-04-14:acme::b1',
    'gpt-4o-mini-tts',
    'gpt-4o-audio-preview',
    'gpt-4o-realtime-preview-2024-12-17',
    'chatgpt-4o-latest',
    'my-gpt-4o',
    'gpt-4o ',
    ' gpt-4o',
    'gpt-4o\n',
    'gpt-4',
    'gpt-4-turbo-preview',
    'gpt-3.5-turbo-1106',
    'gpt-3.5-turbo-instruct',
    'gpt-4x1',
    'o1-preview',
    'o1-pro',
    'gpt-5-chat-latest',
    'gpt-5-codex',
    'text-embedding-3-small',
    'claude-2.1',
    'claude-3-sonnet-20240229',
    'claude-sonnet-4-6',
    'claude-sonnet-4-5-20250929-extra',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'gemini-2.5-flash-preview-05-20',
    'gemini-2.0-flash-exp',
    'gemini-2.0-flash-thinking-exp-01-21',
    'gemini-3-pro-preview',
    'mistral-large-2407',
    'mistral-large',
    'deepseek-coder',
    'kimi-k2',
    'llama-3.1-70b-instruct',
    '',
]


def test_enough_real_ids_are_checked():
    assert len(MODEL_IDS) >= 40
    assert len({family for _, family in MODEL_IDS}) >= 45


@pytest.mark.parametrize('model, family', MODEL_IDS, ids=[m for m, _ in MODEL_IDS])
def test_model_id_matches_its_family(model, family):
    assert best_family(model) == family


@pytest.mark.parametrize('model', UNPRICED_IDS, ids=repr)
def test_unknown_and_fine_tuned_ids_match_nothing(model):
    assert candidates(model) == []


def test_gpt_4o_does_not_match_gpt_4o_mini():
    families = {r['model_family'] for r in candidates('gpt-4o-mini-2024-07-18')}
    assert families == {'gpt-4o-mini'}


# ---------------------------------------------------------------------------------------------
# As-of prices: (input, cached input, cache write, output) USD per 1M tokens, from §5 / §5.1.

AS_OF = [
    # gpt-4o alias: 5/15 before the Oct 2024 re-point, 2.5/10 (cached 1.25) after (§5.1).
    ('gpt-4o', '2024-08-01', None, (5.0, None, None, 15.0)),
    ('gpt-4o', '2024-11-01', None, (2.5, 1.25, None, 10.0)),
    ('gpt-4o', '2024-09-30 23:59:59.999', None, (5.0, None, None, 15.0)),
    ('gpt-4o', '2024-10-01 00:00:00', None, (2.5, 1.25, None, 10.0)),
    ('openai/gpt-4o-2024-11-20', '2025-03-01', None, (2.5, 1.25, None, 10.0)),
    # The 2024-08-06 snapshot launched at 2.5/10; 2024-05-13 stays at 5/15 without caching.
    ('gpt-4o-2024-08-06', '2024-09-01', None, (2.5, 1.25, None, 10.0)),
    ('gpt-4o-2024-05-13', '2025-01-01', None, (5.0, None, None, 15.0)),
    ('gpt-4o-mini-2024-07-18', '2025-01-01', None, (0.15, 0.075, None, 0.6)),
    # gpt-3.5-turbo is priced from 2024-02-16 (Langfuse start_date); nothing before.
    ('gpt-3.5-turbo', '2024-02-15', None, None),
    ('gpt-3.5-turbo', '2024-03-01', None, (0.5, None, None, 1.5)),
    # o1-mini 3/12 -> 1.10/4.40 on 2025-02-01; cached = 50% of input (o1 family rule, §5.1).
    ('o1-mini', '2025-01-15', None, (3.0, 1.5, None, 12.0)),
    ('o1-mini', '2025-03-01', None, (1.1, 0.55, None, 4.4)),
    # o3 10/40 -> 2/8 on 2025-06-10 (cached input of the old price not in the reference).
    ('o3-2025-04-16', '2025-05-01', None, (10.0, None, None, 40.0)),
    ('o3', '2025-07-01', None, (2.0, 0.5, None, 8.0)),
    # claude-3-5-haiku 1/5 -> 0.80/4 on 2024-12-16; old cache prices by the Anthropic rule.
    ('claude-3-5-haiku-20241022', '2024-12-01', None, (1.0, 0.1, 1.25, 5.0)),
    ('claude-3-5-haiku-20241022', '2025-01-01', None, (0.8, 0.08, 1.0, 4.0)),
    # gemini-1.5-pro 3.50/10.50 -> 1.25/5 on 2024-10-01; gemini-1.5-flash 0.35/1.05 -> 0.075/0.30 in Aug 2024.
    ('gemini-1.5-pro', '2024-09-01', None, (3.5, None, None, 10.5)),
    ('gemini-1.5-pro-002', '2024-11-01', None, (1.25, None, None, 5.0)),
    ('gemini-1.5-flash', '2024-07-01', None, (0.35, None, None, 1.05)),
    ('gemini-1.5-flash', '2024-09-01', None, (0.075, None, None, 0.3)),
    # deepseek-chat V3 -> V3.1 (2025-09-05) -> V3.2 (2025-09-29); reasoner before V3.1.
    ('deepseek-chat', '2025-08-01', None, (0.27, 0.07, None, 1.1)),
    ('deepseek-chat', '2025-09-15', None, (0.56, 0.07, None, 1.68)),
    ('deepseek-chat', '2025-10-15', None, (0.28, 0.028, None, 0.42)),
    ('deepseek-reasoner', '2025-08-01', None, (0.55, 0.14, None, 2.19)),
    ('deepseek-reasoner', '2025-10-15', None, (0.28, 0.028, None, 0.42)),
    # Mistral -latest aliases before and after the re-point to Large 3 (2512).
    ('mistral-large-latest', '2025-06-01', None, (2.0, None, None, 6.0)),
    ('mistral-large-latest', '2026-01-01', None, (0.5, 0.05, None, 1.5)),
    ('mistral-medium-latest', '2025-06-01', None, (0.4, None, None, 2.0)),
    ('mistral-medium-latest', '2026-01-01', None, (1.5, 0.15, None, 7.5)),
    # Provider: the call's own provider first; otherwise the maker's list price.
    ('gemini-2.0-flash-001', '2025-06-01', 'gcp.vertex_ai', (0.15, None, None, 0.6)),
    ('gemini-2.0-flash-001', '2025-06-01', 'gcp.gemini', (0.1, None, None, 0.4)),
    ('gemini-2.0-flash', '2025-06-01', None, (0.1, None, None, 0.4)),
    ('google/gemini-2.0-flash', '2025-06-01', 'openrouter', (0.1, None, None, 0.4)),
    ('us.anthropic.claude-sonnet-4-5-20250929-v1:0', '2025-11-01', 'aws.bedrock', (3.0, 0.3, 3.75, 15.0)),
    ('azure/gpt-4o-2024-05-13', '2025-01-01', 'azure.ai.openai', (5.0, None, None, 15.0)),
    # Unknown / fine-tuned: no price at any time.
    ('ft:gpt-4o-mini:acme::abc', '2025-06-01', 'openai', None),
]


@pytest.mark.parametrize('model, at, provider, expected', AS_OF,
                         ids=[f'{m}@{t}:{p}' for m, t, p, _ in AS_OF])
def test_price_as_of(model, at, provider, expected):
    row = best_price(model, datetime.fromisoformat(at), provider)
    assert (None if row is None else prices(row)) == expected


# Every §5 model at 2026-11-01: (input, cached input, cache write, output), hand-copied from §5.
CURRENT = {
    'gpt-4o': (2.5, 1.25, None, 10.0),
    'gpt-4o-2024-05-13': (5.0, None, None, 15.0),
    'gpt-4o-mini': (0.15, 0.075, None, 0.6),
    'gpt-4.1': (2.0, 0.5, None, 8.0),
    'gpt-4.1-mini': (0.4, 0.1, None, 1.6),
    'gpt-4.1-nano': (0.1, 0.025, None, 0.4),
    'gpt-4.5-preview': (75.0, 37.5, None, 150.0),
    'gpt-4-turbo': (10.0, None, None, 30.0),
    'o1': (15.0, 7.5, None, 60.0),
    'o1-mini': (1.1, 0.55, None, 4.4),
    'o3': (2.0, 0.5, None, 8.0),
    'o3-mini': (1.1, 0.55, None, 4.4),
    'o4-mini': (1.1, 0.275, None, 4.4),
    'o3-pro': (20.0, None, None, 80.0),
    'gpt-5': (1.25, 0.125, None, 10.0),
    'gpt-5-mini': (0.25, 0.025, None, 2.0),
    'gpt-5-nano': (0.05, 0.005, None, 0.4),
    'gpt-5.1': (1.25, 0.125, None, 10.0),
    'gpt-5.2': (1.75, 0.175, None, 14.0),
    'claude-3-haiku-20240307': (0.25, 0.03, 0.3, 1.25),
    'claude-3-opus-20240229': (15.0, 1.5, 18.75, 75.0),
    'claude-3-5-sonnet-20240620': (3.0, 0.3, 3.75, 15.0),
    'claude-3-5-sonnet-20241022': (3.0, 0.3, 3.75, 15.0),
    'claude-3-5-haiku-20241022': (0.8, 0.08, 1.0, 4.0),
    'claude-3-7-sonnet-20250219': (3.0, 0.3, 3.75, 15.0),
    'claude-sonnet-4-20250514': (3.0, 0.3, 3.75, 15.0),
    'claude-sonnet-4-5-20250929': (3.0, 0.3, 3.75, 15.0),
    'claude-opus-4-20250514': (15.0, 1.5, 18.75, 75.0),
    'claude-opus-4-1-20250805': (15.0, 1.5, 18.75, 75.0),
    'claude-opus-4-5-20251101': (5.0, 0.5, 6.25, 25.0),
    'claude-haiku-4-5-20251001': (1.0, 0.1, 1.25, 5.0),
    'gemini-1.5-pro': (1.25, None, None, 5.0),
    'gemini-1.5-flash': (0.075, None, None, 0.3),
    'gemini-2.0-flash': (0.1, None, None, 0.4),
    'gemini-2.0-flash-lite': (0.075, None, None, 0.3),
    'gemini-2.5-pro': (1.25, 0.125, None, 10.0),
    'gemini-2.5-flash': (0.3, 0.03, None, 2.5),
    'gemini-2.5-flash-lite': (0.1, 0.01, None, 0.4),
    'mistral-large-latest': (0.5, 0.05, None, 1.5),
    'mistral-large-2411': (2.0, None, None, 6.0),
    'mistral-large-2512': (0.5, 0.05, None, 1.5),
    'mistral-medium-latest': (1.5, 0.15, None, 7.5),
    'mistral-medium-2505': (0.4, None, None, 2.0),
    'mistral-small-latest': (0.15, 0.015, None, 0.6),
    'codestral-latest': (0.3, 0.03, None, 0.9),
    'deepseek-chat': (0.28, 0.028, None, 0.42),
    'deepseek-reasoner': (0.28, 0.028, None, 0.42),
    'moonshot-v1-8k': (0.2, None, None, 2.0),
    'moonshot-v1-32k': (1.0, None, None, 3.0),
    'moonshot-v1-128k': (2.0, None, None, 5.0),
    'kimi-k2-0711-preview': (0.6, 0.15, None, 2.5),
    'kimi-k2-0905-preview': (0.6, 0.15, None, 2.5),
    'kimi-k2-thinking': (0.6, 0.15, None, 2.5),
    'kimi-k2-turbo-preview': (1.15, None, None, 8.0),
}


@pytest.mark.parametrize('model, expected', CURRENT.items(), ids=list(CURRENT))
def test_current_list_price(model, expected):
    row = best_price(model, datetime(2026, 11, 1))
    assert row is not None, f'{model} has no current price'
    assert prices(row) == expected


# Long-context tiers: (threshold, tier input, tier cached input, tier cache write, tier output).
TIERS = [
    ('claude-sonnet-4-20250514', '2025-08-01', (200000, 6.0, 0.6, 7.5, 22.5)),
    ('claude-sonnet-4-5-20250929', '2025-11-01', (200000, 6.0, 0.6, 7.5, 22.5)),
    ('gemini-2.5-pro', '2025-08-01', (200000, 2.5, 0.25, None, 15.0)),
    ('gemini-1.5-pro', '2024-11-01', (128000, 2.5, None, None, 10.0)),
    # Old gemini-1.5-pro: the >128k price is not in the reference, so above it the call stays unpriced.
    ('gemini-1.5-pro', '2024-09-01', (128000, None, None, None, None)),
    ('gpt-4.1', '2025-08-01', (None, None, None, None, None)),
]


@pytest.mark.parametrize('model, at, expected', TIERS, ids=[f'{m}@{t}' for m, t, _ in TIERS])
def test_long_context_tier(model, at, expected):
    row = best_price(model, datetime.fromisoformat(at))
    got = (num(row['tier_threshold_tokens']),) + tuple(num(row[c]) for c in TIER_PRICES)
    assert got == expected


# ---------------------------------------------------------------------------------------------
# Row-level rules.

# Row shape that guards a user-edited seed at build time lives in dbt, not here:
# not_null / accepted_values (provider, currency) in seeds/_seeds.yml (the seed
# load turns blank and all-space cells into NULL) and
# tests/dbt/assert_model_prices_*.sql (anchored, lower-case, escaped patterns;
# non-overlapping periods). Every column's description is checked by
# test_dbt_build.test_every_model_and_column_is_documented.

def test_columns_are_typed_and_listed_in_seeds_yml():
    header = list(ROWS[0].keys())
    seed = next(s for s in yaml.safe_load(SEEDS_YML.read_text())['seeds'] if s['name'] == 'model_prices')
    assert list(seed['config']['column_types']) == header
    assert [c['name'] for c in seed['columns']] == header
    for col in PRICE_COLUMNS:
        assert seed['config']['column_types'][col] == 'Nullable(Float64)'


def test_every_listed_model_bills_reasoning_as_output():
    assert all(row['reasoning_usd_per_mtok'] == '' for row in ROWS)


def test_prices_are_positive_and_ordered():
    for row in ROWS:
        p = {c: num(row[c]) for c in PRICE_COLUMNS}
        assert all(v is None or v >= 0 for v in p.values()), row
        assert p['input_usd_per_mtok'] > 0 and p['output_usd_per_mtok'] >= p['input_usd_per_mtok'], row
        if p['cached_input_usd_per_mtok'] is not None:
            assert p['cached_input_usd_per_mtok'] < p['input_usd_per_mtok'], row
        if p['cache_write_usd_per_mtok'] is not None:
            assert p['cache_write_usd_per_mtok'] >= p['input_usd_per_mtok'], row


def test_tier_prices_need_a_threshold_and_exceed_the_base():
    for row in ROWS:
        tiers = {c: num(row[c]) for c in TIER_PRICES}
        if row['tier_threshold_tokens'] == '':
            assert all(v is None for v in tiers.values()), row
            continue
        assert int(row['tier_threshold_tokens']) > 0
        for col, value in tiers.items():
            base = num(row[col.removeprefix('tier_')])
            if value is not None and base is not None:
                assert value > base, (col, row)


def test_derived_prices_say_so_in_source():
    """Prices not printed in §5 come from a rule the reference states, named in `source`."""
    old_haiku = best_price('claude-3-5-haiku', datetime(2024, 12, 1))
    assert 'Anthropic rule' in old_haiku['source']
    # 1.25x input for the 5-minute write, 0.1x for the cache read (rule, checked by hand).
    assert prices(old_haiku) == (1.0, 0.1, 1.25, 5.0)
    old_o1_mini = best_price('o1-mini', datetime(2025, 1, 1))
    assert '50% of input' in old_o1_mini['source']


# ---------------------------------------------------------------------------------------------
# ClickHouse's re2 agrees with the Python matcher above on every id and pattern.

def test_clickhouse_match_agrees_with_python(wh):
    db = 'price_seed_test'
    wh.command(f'create database if not exists {db}')
    wh.command(f'create or replace table {db}.patterns (pattern String) engine = Memory')
    wh.command(f'create or replace table {db}.ids (id String) engine = Memory')
    patterns = sorted({r['model_pattern'] for r in ROWS})
    ids = [m for m, _ in MODEL_IDS] + UNPRICED_IDS
    wh.insert('patterns', [[p] for p in patterns], ['pattern'], database=db)
    wh.insert('ids', [[i] for i in ids], ['id'], database=db)
    in_clickhouse = set(wh.rows(f'select id, pattern from {db}.ids cross join {db}.patterns '
                                f'where match(lower(id), pattern)'))
    in_python = {(i, p) for i in ids for p in patterns if re2_match(p, i.lower())}
    assert in_clickhouse == in_python
    assert len(in_python) >= len(MODEL_IDS)
