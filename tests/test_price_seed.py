"""The price seeds: pattern matching and as-of prices.

seeds/model_prices.csv is generated from the genai-prices catalogue and
seeds/model_price_overrides.csv holds the project's sourced corrections. The
matcher (tests/price_oracle.py) follows the rule documented in
seeds/_seeds.yml: response model (the request model only when none was
reported), the id as sent or without its route prefix, the call's own
catalogue provider first, then overrides, then provider rank, then the
provider's first-listed model. Every expected family and price below is
written by hand from the published list prices, dated changes and the
catalogue's model ids, not read back from the seeds; the costs are checked
against genai-prices itself in tests/test_price_catalogue.py.
"""

from datetime import datetime

import pytest
import yaml

from conftest import ROOT
from price_oracle import (CATALOGUE_ROWS, OVERRIDE_ROWS, PRICE_COLUMNS, ROWS, TIER_PRICES, best_family, best_price,
                          candidates, num, re2_match)

SEEDS_YML = ROOT / 'seeds' / '_seeds.yml'


def prices(row):
    """(input, cached input, cache write, output) of a row."""
    return tuple(num(row[c]) for c in ('input_usd_per_mtok', 'cached_input_usd_per_mtok',
                                        'cache_write_usd_per_mtok', 'output_usd_per_mtok'))


# ---------------------------------------------------------------------------------------------
# Real model ids and the family whose price they must get (alias, dated snapshots, gateways).

# (id, the call's provider, the family whose price it must get). Families are the
# catalogue's model ids (or an override's label); Bedrock ids carry their
# provider, since regional and global profiles are priced apart.
MODEL_IDS = [
    ('gpt-4o', None, 'gpt-4o'),
    ('GPT-4o', None, 'gpt-4o'),
    ('gpt-4o-2024-11-20', None, 'gpt-4o'),
    ('gpt-4o-2024-08-06', None, 'gpt-4o'),
    ('gpt-4o-2024-05-13', None, 'gpt-4o-2024-05-13'),
    ('openai/gpt-4o', None, 'gpt-4o'),
    ('azure/gpt-4o-2024-11-20', 'azure.ai.openai', 'gpt-4o'),
    ('gpt-4o-mini', None, 'gpt-4o-mini'),
    ('gpt-4o-mini-2024-07-18', None, 'gpt-4o-mini'),
    ('openai/gpt-4o-mini', None, 'gpt-4o-mini'),
    ('gpt-3.5-turbo', None, 'gpt-3.5-turbo'),
    ('gpt-3.5-turbo-0125', None, 'gpt-3.5-turbo'),
    ('gpt-4-turbo-2024-04-09', None, 'gpt-4-turbo'),
    ('gpt-4.1', None, 'gpt-4.1'),
    ('gpt-4.1-2025-04-14', None, 'gpt-4.1'),
    ('gpt-4.1-mini-2025-04-14', None, 'gpt-4.1-mini'),
    ('gpt-4.1-nano', None, 'gpt-4.1-nano'),
    ('gpt-4.5-preview-2025-02-27', None, 'gpt-4.5-preview'),
    ('o1', None, 'o1'),
    ('o1-2024-12-17', None, 'o1'),
    ('o1-mini', None, 'o1-mini'),
    ('o1-mini-2024-09-12', None, 'o1-mini'),
    ('o3', None, 'o3'),
    ('o3-2025-04-16', None, 'o3'),
    ('o3-mini', None, 'o3-mini'),
    ('o3-mini-2025-01-31', None, 'o3-mini'),
    ('o4-mini-2025-04-16', None, 'o4-mini'),
    ('o3-pro', None, 'o3-pro'),
    ('gpt-5', None, 'gpt-5'),
    ('gpt-5-2025-08-07', None, 'gpt-5'),
    ('gpt-5-mini-2025-08-07', None, 'gpt-5-mini'),
    ('gpt-5-nano', None, 'gpt-5-nano'),
    ('gpt-5.1', None, 'gpt-5.1'),
    ('openai/gpt-5.2-20251211', None, 'gpt-5.2'),
    ('claude-3-haiku-20240307', None, 'claude-3-haiku'),
    ('anthropic.claude-3-haiku-20240307-v1:0', 'aws.bedrock', 'regional.anthropic.claude-3-haiku-20240307-v1:0'),
    ('claude-3-opus-20240229', None, 'claude-3-opus-latest'),
    ('claude-3-opus-latest', None, 'claude-3-opus-latest'),
    ('claude-3-5-sonnet-20240620', None, 'claude-3-5-sonnet'),
    ('claude-3-5-sonnet-20241022', None, 'claude-3-5-sonnet'),
    ('anthropic.claude-3-5-sonnet-20241022-v2:0', 'aws.bedrock', 'regional.anthropic.claude-3-5-sonnet-20241022-v2:0'),
    ('claude-3-5-sonnet-v2@20241022', 'gcp.vertex_ai', 'claude-3-5-sonnet'),
    ('anthropic/claude-3.5-sonnet', None, 'claude-3-5-sonnet'),
    ('claude-3-5-haiku-20241022', None, 'claude-3-5-haiku-latest'),
    ('claude-3-5-haiku-latest', None, 'claude-3-5-haiku-latest'),
    ('claude-3-7-sonnet-20250219', None, 'claude-3-7-sonnet-latest'),
    ('bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'aws.bedrock', 'regional.anthropic.claude-3-7-sonnet-20250219-v1:0'),
    ('claude-sonnet-4-20250514', None, 'claude-sonnet-4'),
    ('claude-sonnet-4-0', None, 'claude-sonnet-4'),
    ('claude-sonnet-4@20250514', 'gcp.vertex_ai', 'claude-4-sonnet'),
    ('claude-sonnet-4-5', None, 'claude-sonnet-4-5'),
    ('claude-sonnet-4-5-20250929', None, 'claude-sonnet-4-5'),
    ('anthropic/claude-sonnet-4-5', None, 'claude-sonnet-4-5'),
    ('anthropic/claude-sonnet-4.5', None, 'claude-sonnet-4-5'),
    ('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'aws.bedrock', 'regional.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    ('global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'aws.bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    ('vertex_ai/claude-sonnet-4-5@20250929', 'gcp.vertex_ai', 'claude-sonnet-4-5'),
    ('claude-opus-4-20250514', None, 'claude-opus-4-0'),
    ('claude-opus-4-1-20250805', None, 'claude-opus-4-1'),
    ('claude-opus-4-5-20251101', None, 'claude-opus-4-5'),
    ('claude-haiku-4-5-20251001', None, 'claude-haiku-4-5'),
    ('eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'aws.bedrock', 'regional.anthropic.claude-haiku-4-5-20251001-v1:0'),
    ('gemini-1.5-pro', None, 'gemini-1.5-pro'),
    ('gemini-1.5-pro-002', None, 'gemini-1.5-pro'),
    ('gemini-1.5-flash-latest', None, 'gemini-1.5-flash'),
    ('gemini-1.5-flash-001', None, 'gemini-1.5-flash'),
    ('gemini-2.0-flash', None, 'gemini-2.0-flash'),
    ('gemini-2.0-flash-001', None, 'gemini-2.0-flash'),
    ('gemini/gemini-2.0-flash', None, 'gemini-2.0-flash'),
    ('gemini-2.0-flash-lite', None, 'gemini-2.0-flash-lite'),
    ('gemini-2.0-flash-lite-001', None, 'gemini-2.0-flash-lite'),
    ('gemini-2.5-pro', None, 'gemini-2.5-pro'),
    ('google/gemini-2.5-pro', None, 'gemini-2.5-pro'),
    ('vertex_ai/gemini-2.5-pro', 'gcp.vertex_ai', 'gemini-2.5-pro'),
    ('models/gemini-2.5-flash', None, 'gemini-2.5-flash'),
    ('gemini-2.5-flash-lite', None, 'gemini-2.5-flash-lite'),
    ('mistral-large-latest', None, 'mistral-large-latest'),
    ('mistral/mistral-large-latest', None, 'mistral-large-latest'),
    ('mistral-large-2411', None, 'mistral-large'),
    ('mistral-large-2512', None, 'mistral-large-2512'),
    ('mistralai/mistral-medium-2505', None, 'mistral-medium-3-1'),
    ('mistral-medium-latest', None, 'mistral-medium-latest'),
    ('mistral-small-latest', None, 'mistral-small-latest'),
    ('codestral-latest', None, 'codestral'),
    ('deepseek-chat', None, 'deepseek-chat'),
    ('deepseek/deepseek-reasoner', None, 'deepseek-reasoner'),
    ('moonshot-v1-8k', None, 'moonshot-v1-8k'),
    ('moonshot-v1-32k', None, 'moonshot-v1-32k'),
    ('moonshot-v1-128k', None, 'moonshot-v1-128k'),
    ('kimi-k2-0905-preview', None, 'kimi-k2-0905-preview'),
    ('moonshot/kimi-k2-thinking', None, 'kimi-k2-thinking'),
    ('kimi-k2-turbo-preview', None, 'kimi-k2-turbo-preview'),
    ('kimi-k2-thinking-turbo', None, 'kimi-k2-thinking-turbo'),
]

# Ids that must get no price (cost NULL): fine-tunes of a base the catalogue
# has no fine-tune price for, custom and deployment names, ids with extra
# characters, unknown families and self-hosted models.
UNPRICED_IDS = [
    'my-finetune-v3',
    'ft:gpt-4o-mini:acme::abc',
    'openai/ft:gpt-4o-mini:acme::abc',
    'ft:gpt-4.1-mini-2025-04-14:acme::b1',
    'my-gpt-4o',
    'gpt-4o ',
    ' gpt-4o',
    'gpt-4o\n',
    'gpt-4x1',
    'deepseek-coder',
    'llama-3.1-70b-instruct',
    '',
]

# Ids the hand-copied seed left unpriced and the catalogue prices as themselves,
# never as a neighbouring family (an audio, realtime or fine-tuned model is not
# gpt-4o): (id, family, (input, output) USD per 1M tokens).
OWN_PRICE_IDS = [
    ('ft:gpt-4o-2024-08-06:acme:support:9xyz', 'ft:gpt-4o', (3.75, 15.0)),
    ('ft:gpt-4o-mini-2024-07-18:acme:support-v2:B7x2Qk9L', 'ft:gpt-4o-mini', (0.3, 1.2)),
    ('gpt-4o-audio-preview', 'gpt-4o-audio-preview', (2.5, 10.0)),
    ('gpt-4o-realtime-preview-2024-12-17', 'gpt-4o-realtime-preview', (5.0, 20.0)),
    ('gpt-4o-mini-tts', 'gpt-4o-mini-tts', (0.6, 12.0)),
    ('chatgpt-4o-latest', 'chatgpt-4o-latest', (5.0, 15.0)),
    ('text-embedding-3-small', 'text-embedding-3-small', (0.02, 0.0)),
    ('gpt-4', 'gpt-4', (30.0, 60.0)),
    ('gpt-3.5-turbo-1106', 'gpt-3.5-turbo-1106', (1.0, 2.0)),
    ('o1-pro', 'o1-pro', (150.0, 600.0)),
    ('claude-3-sonnet-20240229', 'claude-3-sonnet', (3.0, 15.0)),
    ('claude-sonnet-4-6', 'claude-sonnet-4-6', (3.0, 15.0)),
    ('gemini-3-pro-preview', 'gemini-3-pro-preview', (2.0, 12.0)),
    ('mistral-large-2407', 'mistral-large', (2.0, 6.0)),
]


def test_enough_real_ids_are_checked():
    assert len(MODEL_IDS) >= 40
    assert len({family for _, _, family in MODEL_IDS}) >= 45


@pytest.mark.parametrize('model, provider, family', MODEL_IDS, ids=[m for m, _, _ in MODEL_IDS])
def test_model_id_matches_its_family(model, provider, family):
    assert best_family(model, datetime(2025, 12, 1), provider) == family


@pytest.mark.parametrize('model', UNPRICED_IDS, ids=repr)
def test_unknown_and_custom_ids_match_nothing(model):
    assert candidates(model) == []


@pytest.mark.parametrize('model, family, expected', OWN_PRICE_IDS, ids=[m for m, _, _ in OWN_PRICE_IDS])
def test_catalogue_prices_models_as_themselves(model, family, expected):
    row = best_price(model, datetime(2025, 12, 1), 'openai' if 'gpt' in model or 'o1' in model else None)
    assert row['model_family'] == family
    assert (num(row['input_usd_per_mtok']), num(row['output_usd_per_mtok'])) == expected


def test_gpt_4o_does_not_match_gpt_4o_mini():
    families = {r['model_family'] for r, _ in candidates('gpt-4o-mini-2024-07-18', provider='openai')
                if r['catalogue_provider'] == 'openai'}
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
    # gpt-3.5-turbo: 0.5/1.5 from 2024-02-16 (Langfuse start_date). The catalogue's first price
    # also applies before its first date (as genai-prices does); no dated source gives the older one.
    ('gpt-3.5-turbo', '2024-02-15', None, (0.5, None, None, 1.5)),
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
    # The catalogue lists the context-cache read price the hand-copied seed lacked.
    ('gemini-1.5-flash', '2024-09-01', None, (0.075, 0.01875, None, 0.3)),
    # deepseek-chat V3 -> V3.1 (2025-09-05) -> V3.2 (2025-09-29); reasoner before V3.1.
    ('deepseek-chat', '2025-08-01', None, (0.27, 0.07, None, 1.1)),
    ('deepseek-chat', '2025-09-15', None, (0.56, 0.07, None, 1.68)),
    ('deepseek-chat', '2025-10-15', None, (0.28, 0.028, None, 0.42)),
    ('deepseek-reasoner', '2025-08-01', None, (0.55, 0.14, None, 2.19)),
    ('deepseek-reasoner', '2025-10-15', None, (0.28, 0.028, None, 0.42)),
    # Mistral -latest aliases before and after the re-point to Large 3 (2512, an override: the
    # catalogue still prices the alias as Large 2). mistral-medium-latest moved on the catalogue's
    # dated change of 2026-06-16 (the hand-copied seed had assumed 2025-12-01).
    ('mistral-large-latest', '2025-06-01', None, (2.0, None, None, 6.0)),
    ('mistral-large-latest', '2026-01-01', None, (0.5, 0.05, None, 1.5)),
    ('mistral-medium-latest', '2025-06-01', None, (0.4, 0.04, None, 2.0)),
    ('mistral-medium-latest', '2026-01-01', None, (0.4, 0.04, None, 2.0)),
    ('mistral-medium-latest', '2026-07-01', None, (1.5, 0.15, None, 7.5)),
    # Provider: the call's own provider first; otherwise the maker's list price.
    ('gemini-2.0-flash-001', '2025-06-01', 'gcp.vertex_ai', (0.15, None, None, 0.6)),
    ('gemini-2.0-flash-001', '2025-06-01', 'gcp.gemini', (0.1, 0.025, None, 0.4)),
    ('gemini-2.0-flash', '2025-06-01', None, (0.1, 0.025, None, 0.4)),
    ('google/gemini-2.0-flash', '2025-06-01', 'openrouter', (0.1, 0.025, None, 0.4)),
    # Bedrock: geographic (us./eu./...) and in-region profiles of Claude 4.5 cost 10% more than
    # the global profile (the catalogue prices them apart; the hand-copied seed had list for all).
    ('us.anthropic.claude-sonnet-4-5-20250929-v1:0', '2025-11-01', 'aws.bedrock', (3.3, 0.33, 4.125, 16.5)),
    ('global.anthropic.claude-sonnet-4-5-20250929-v1:0', '2025-11-01', 'aws.bedrock', (3.0, 0.3, 3.75, 15.0)),
    ('azure/gpt-4o-2024-05-13', '2025-01-01', 'azure.ai.openai', (5.0, None, None, 15.0)),
    # Unknown / fine-tuned: no price at any time.
    ('ft:gpt-4o-mini:acme::abc', '2025-06-01', 'openai', None),
]


@pytest.mark.parametrize('model, at, provider, expected', AS_OF,
                         ids=[f'{m}@{t}:{p}' for m, t, p, _ in AS_OF])
def test_price_as_of(model, at, provider, expected):
    row = best_price(model, datetime.fromisoformat(at), provider)
    assert (None if row is None else prices(row)) == expected


# Every §5 model at 2026-11-01: (input, cached input, cache write, output), hand-copied from §5;
# cache prices the pinned catalogue lists and §5 lacks (gemini 1.5/2.0 flash, mistral-medium, kimi-k2-turbo)
# are the catalogue's, and codestral's cache read (LiteLLM's, not the catalogue's) is gone.
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
    'gemini-1.5-flash': (0.075, 0.01875, None, 0.3),
    'gemini-2.0-flash': (0.1, 0.025, None, 0.4),
    'gemini-2.0-flash-lite': (0.075, None, None, 0.3),
    'gemini-2.5-pro': (1.25, 0.125, None, 10.0),
    'gemini-2.5-flash': (0.3, 0.03, None, 2.5),
    'gemini-2.5-flash-lite': (0.1, 0.01, None, 0.4),
    'mistral-large-latest': (0.5, 0.05, None, 1.5),
    'mistral-large-2411': (2.0, None, None, 6.0),
    'mistral-large-2512': (0.5, 0.05, None, 1.5),
    'mistral-medium-latest': (1.5, 0.15, None, 7.5),
    'mistral-medium-2505': (0.4, 0.04, None, 2.0),
    'mistral-small-latest': (0.15, 0.015, None, 0.6),
    'codestral-latest': (0.3, None, None, 0.9),
    'deepseek-chat': (0.28, 0.028, None, 0.42),
    'deepseek-reasoner': (0.28, 0.028, None, 0.42),
    'moonshot-v1-8k': (0.2, None, None, 2.0),
    'moonshot-v1-32k': (1.0, None, None, 3.0),
    'moonshot-v1-128k': (2.0, None, None, 5.0),
    'kimi-k2-0711-preview': (0.6, 0.15, None, 2.5),
    'kimi-k2-0905-preview': (0.6, 0.15, None, 2.5),
    'kimi-k2-thinking': (0.6, 0.15, None, 2.5),
    'kimi-k2-turbo-preview': (1.15, 0.15, None, 8.0),
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
# not_null / accepted_values / relationships in seeds/_seeds.yml (the seed
# load turns blank and all-space cells into NULL) and
# tests/dbt/assert_model_prices_*.sql (anchored, lower-case, escaped patterns;
# non-overlapping periods). Every column's description is checked by
# test_dbt_build.test_every_model_and_column_is_documented. The catalogue rows
# are also compared with the pinned package in tests/test_price_catalogue.py.

def _seed_doc(name):
    return next(s for s in yaml.safe_load(SEEDS_YML.read_text())['seeds'] if s['name'] == name)


@pytest.mark.parametrize('name, rows, extra', [('model_prices', CATALOGUE_ROWS, []),
                                               ('model_price_overrides', OVERRIDE_ROWS, ['reason'])])
def test_columns_are_typed_and_listed_in_seeds_yml(name, rows, extra):
    header = list(rows[0].keys())
    seed = _seed_doc(name)
    assert list(seed['config']['column_types']) == header
    assert [c['name'] for c in seed['columns']] == header
    assert header[-len(extra):] == extra if extra else True
    for col in PRICE_COLUMNS:
        assert seed['config']['column_types'][col] == 'Nullable(Float64)'
    # Both seeds are unioned column by column.
    assert header[:len(header) - len(extra)] == list(CATALOGUE_ROWS[0].keys())


def test_reasoning_is_billed_as_output_unless_the_catalogue_lists_a_rate():
    """Only Perplexity's sonar-deep-research (direct and via OpenRouter) lists a reasoning rate (3 per 1M)."""
    listed = {(r['catalogue_provider'], r['model_family'], num(r['reasoning_usd_per_mtok']))
              for r in ROWS if r['reasoning_usd_per_mtok'] != ''}
    assert listed == {('perplexity', 'sonar-deep-research', 3.0),
                      ('openrouter', 'perplexity/sonar-deep-research', 3.0)}


def test_prices_are_non_negative_and_overrides_ordered():
    """Every price is >= 0 (0 = not billed: free models, embeddings' output). The
    hand-written overrides also keep the list-price shape: output >= input > 0, a
    cache read below and a cache write at or above the input price."""
    for row in ROWS:
        p = {c: num(row[c]) for c in PRICE_COLUMNS}
        assert all(v is None or v >= 0 for v in p.values()), row
    for row in OVERRIDE_ROWS:
        p = {c: num(row[c]) for c in PRICE_COLUMNS}
        assert p['input_usd_per_mtok'] > 0 and p['output_usd_per_mtok'] >= p['input_usd_per_mtok'], row
        if p['cached_input_usd_per_mtok'] is not None:
            assert p['cached_input_usd_per_mtok'] < p['input_usd_per_mtok'], row
        if p['cache_write_usd_per_mtok'] is not None:
            assert p['cache_write_usd_per_mtok'] >= p['input_usd_per_mtok'], row


def test_tier_prices_need_a_threshold_and_are_not_below_the_base():
    """Above the threshold a price rises (overrides) or stays (a catalogue price without tiers
    keeps its base price when its neighbours are tiered)."""
    for row in ROWS:
        tiers = {c: num(row[c]) for c in TIER_PRICES}
        if row['tier_threshold_tokens'] == '':
            assert all(v is None for v in tiers.values()), row
            continue
        assert int(row['tier_threshold_tokens']) > 0
        for col, value in tiers.items():
            base = num(row[col.removeprefix('tier_')])
            if value is not None and base is not None:
                assert value > base if row['is_override'] else value >= base, (col, row)


def test_derived_prices_say_so_in_source():
    """Prices not printed in §5 come from a rule the reference states, named in `source`."""
    old_haiku = best_price('claude-3-5-haiku', datetime(2024, 12, 1))
    assert 'Anthropic rule' in old_haiku['source']
    # 1.25x input for the 5-minute write, 0.1x for the cache read (rule, checked by hand).
    assert prices(old_haiku) == (1.0, 0.1, 1.25, 5.0)
    old_o1_mini = best_price('o1-mini', datetime(2025, 1, 1))
    assert '50% of input' in old_o1_mini['source']


def test_every_override_says_what_the_catalogue_gets_wrong():
    """An override names its source and a reason that states what the pinned catalogue says."""
    assert OVERRIDE_ROWS
    for row in OVERRIDE_ROWS:
        assert row['source'] and row['reason'], row
        assert 'genai-prices' in row['reason'], row
        # Overrides correct a model the catalogue has: some catalogue row of the same
        # provider prices the override's own family id.
        assert any(r['catalogue_provider'] == row['catalogue_provider'] for r in CATALOGUE_ROWS), row


def test_catalogue_rows_carry_their_catalogue_entry():
    for row in CATALOGUE_ROWS:
        assert row['source'].startswith('genai-prices '), row
        assert row['source'].endswith(f": {row['catalogue_provider']} / {row['model_family']}"), row
        assert row['provider'] == '', row


# ---------------------------------------------------------------------------------------------
# ClickHouse's re2 agrees with the Python matcher above on every id and pattern.

def test_clickhouse_match_agrees_with_python(wh):
    db = 'price_seed_test'
    wh.command(f'create database if not exists {db}')
    wh.command(f'create or replace table {db}.patterns (pattern String) engine = Memory')
    wh.command(f'create or replace table {db}.ids (id String) engine = Memory')
    patterns = sorted({r['model_pattern'] for r in ROWS} | {r['model_exclude_pattern'] for r in ROWS} - {''})
    ids = [m for m, _, _ in MODEL_IDS] + UNPRICED_IDS + [m for m, _, _ in OWN_PRICE_IDS]
    wh.insert('patterns', [[p] for p in patterns], ['pattern'], database=db)
    wh.insert('ids', [[i] for i in ids], ['id'], database=db)
    in_clickhouse = set(wh.rows(f'select id, pattern from {db}.ids cross join {db}.patterns '
                                f'where match(lower(id), pattern)'))
    in_python = {(i, p) for i in ids for p in patterns if re2_match(p, i.lower())}
    assert in_clickhouse == in_python
    assert len(in_python) >= len(MODEL_IDS)
