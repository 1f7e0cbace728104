"""The price seeds against the pinned genai-prices catalogue, and the warehouse's costs against genai-prices itself.

- The committed seeds are exactly what scripts/sync_prices.py writes from the
  pinned package (a hand edit or a version bump without a re-sync fails).
- An oracle test: calls of many providers, models, id shapes, usages and
  dates are loaded as OTLP spans and built with dbt; every
  fct_llm_calls.cost_usd equals genai_prices.calc_price(...) for the same
  (provider, model, usage, time), except where an override row says why.
- Coverage: one call per model the catalogue knows; at least 95% of them get
  the catalogue's price in the warehouse.
- `llmwh prices` lists the models left without a price, with call and token counts.

genai-prices is the independent oracle here: the SQL (macro llm_cost_usd and
int_llm_calls_priced) never uses it.
"""

import copy
import importlib.util
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest
from genai_prices import Usage, calc_price
from genai_prices import types as gp_types
from genai_prices.data import providers as CATALOGUE

from conftest import ROOT, dbt, llmwh, warehouse_env
from price_oracle import OVERRIDE_ROWS, cost_usd, price_of_call

PINNED = re.search(r'"genai-prices==([^"]+)"', (ROOT / 'pyproject.toml').read_text()).group(1)


def _sync_module():
    spec = importlib.util.spec_from_file_location('sync_prices', ROOT / 'scripts' / 'sync_prices.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# The seeds are the pinned catalogue.

def test_the_pinned_version_is_installed_and_constrained():
    assert genai_prices.__version__ == PINNED
    assert f'genai-prices=={PINNED}\n' in (ROOT / 'constraints.txt').read_text()


def test_seeds_regenerate_from_the_pinned_package():
    """What the script writes, with the committed rows as history: nothing but the pinned
    catalogue and the history kept by earlier syncs. (Until a sync keeps an in-place change,
    that equals a sync from scratch; it is not required to stay so.)"""
    files, left_out = _sync_module().generate()
    for path, text in files.items():
        assert path.read_text() == text, f'{path.name} differs from genai-prices {PINNED}: run scripts/sync_prices.py'
    # Only models the seed cannot express are left out, each with its reason.
    assert left_out and all(why.startswith(('no token price', 'tiers with several thresholds'))
                            for _, _, why in left_out), left_out


def test_a_catalogue_price_change_is_a_new_period_never_an_edit():
    """Re-syncing after the catalogue changed gpt-4o's price in place (no start date) and
    dropped a model: the committed period ends on the sync day and a new one starts; the
    dropped model keeps its rows; every other row is unchanged."""
    sync = _sync_module()
    previous = sync.committed_rows()
    catalogue = copy.deepcopy(CATALOGUE)
    openai = next(p for p in catalogue if p.id == 'openai')
    gpt_4o = next(m for m in openai.models if m.id == 'gpt-4o')
    gpt_4o.prices.input_mtok = Decimal('2')
    openai.models = [m for m in openai.models if m.id != 'gpt-4-turbo']
    rows, _, _ = sync.build(catalogue, 'next', previous, date(2026, 12, 1))

    def of(model):
        return [(r['valid_from'], r['valid_to'], r['input_usd_per_mtok'], r['source'].split(':')[0])
                for r in rows if r['catalogue_provider'] == 'openai' and r['model_family'] == model]
    assert of('gpt-4o') == [('2023-01-01', '2026-12-01', '2.5', f'genai-prices {PINNED}'),
                            ('2026-12-01', '', '2', 'genai-prices next')]
    assert of('gpt-4-turbo') == [('2023-01-01', '', '10', f'genai-prices {PINNED}')]
    # Dropping a model renumbers its provider's priorities (a matching rule, not a price).
    def rest(rs):
        return sorted(str(dict(r, pattern_priority=None)) for r in rs
                      if (r['catalogue_provider'], r['model_family']) != ('openai', 'gpt-4o'))
    assert rest(rows) == rest(previous)


# ---------------------------------------------------------------------------------------------
# Calls, as OTLP spans.

@dataclass
class Case:
    """One call. `ref`/`catalogue_provider`: what genai-prices is asked (None = the
    call's model and provider as sent). `expect`: catalogue | override | unpriced."""
    name: str
    provider: str
    request_model: str
    at: datetime
    usage: dict
    response_model: str = None
    operation: str = 'chat'
    catalogue_provider: str = None
    ref: str = None
    expect: str = 'catalogue'
    attributes: dict = field(default_factory=dict)


def _u(input_tokens, output_tokens=None, cache_read=None, cache_write=None, reasoning=None):
    usage = {'input_tokens': input_tokens, 'output_tokens': output_tokens, 'cache_read_tokens': cache_read,
             'cache_write_tokens': cache_write, 'output_reasoning_tokens': reasoning}
    return {k: v for k, v in usage.items() if v is not None}


def _t(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


CASES = [
    # OpenAI: snapshot ids, cache reads, reasoning, embeddings, fine-tunes; the response model prices the call.
    Case('openai-snapshot-cached', 'openai', 'gpt-4o', _t('2025-03-01 10:00'), _u(12_000, 900, cache_read=8_000),
         response_model='gpt-4o-2024-08-06'),
    Case('openai-audio-response', 'openai', 'gpt-4o', _t('2025-01-15 10:00'), _u(4_000, 1_000),
         response_model='gpt-4o-audio-preview-2024-12-17'),
    Case('openai-realtime-response', 'openai', 'gpt-4o', _t('2025-01-15 10:00'), _u(4_000, 1_000, cache_read=1_000),
         response_model='gpt-4o-realtime-preview-2024-12-17'),
    Case('openai-fine-tune', 'openai', 'ft:gpt-4o-mini-2024-07-18:acme:support-v2:B7x2Qk9L',
         _t('2025-05-01 10:00'), _u(2_000, 300)),
    Case('openai-embeddings', 'openai', 'text-embedding-3-small', _t('2025-05-01 10:00'), _u(5_000),
         operation='embeddings'),
    Case('openai-reasoning', 'openai', 'o3-mini', _t('2025-05-01 10:00'), _u(3_000, 4_000, reasoning=3_000),
         response_model='o3-mini-2025-01-31'),
    Case('openai-compact-date-route-prefix', 'openai', 'openai/gpt-5.2-20251211', _t('2026-01-10 10:00'),
         _u(1_000, 100), ref='gpt-5.2-20251211'),
    Case('openai-alias-before-oct-2024', 'openai', 'gpt-4o', _t('2024-08-01 10:00'), _u(1_000, 100),
         expect='override'),
    # Anthropic: long-context tier with cache reads and writes; a dated launch price.
    Case('anthropic-long-context', 'anthropic', 'claude-sonnet-4-5', _t('2025-11-01 10:00'),
         _u(250_000, 2_000, cache_read=100_000, cache_write=20_000), response_model='claude-sonnet-4-5-20250929'),
    Case('anthropic-opus', 'anthropic', 'claude-opus-4-1-20250805', _t('2025-11-01 10:00'),
         _u(10_000, 1_000, cache_read=5_000, cache_write=2_000)),
    Case('anthropic-haiku-launch-price', 'anthropic', 'claude-3-5-haiku-20241022', _t('2024-12-01 10:00'),
         _u(10_000, 1_000), expect='override'),
    # Bedrock: regional (+10%) and global profiles, a LiteLLM route prefix.
    Case('bedrock-regional', 'aws.bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', _t('2025-11-01 10:00'),
         _u(10_000, 1_000, cache_read=4_000), catalogue_provider='aws'),
    Case('bedrock-global', 'aws.bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
         _t('2025-11-01 10:00'), _u(10_000, 1_000, cache_read=4_000), catalogue_provider='aws'),
    Case('bedrock-route-prefix', 'aws.bedrock', 'bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0',
         _t('2025-11-01 10:00'), _u(10_000, 1_000), catalogue_provider='aws',
         ref='us.anthropic.claude-haiku-4-5-20251001-v1:0'),
    # Azure OpenAI: Azure's list lacks gpt-4o, so the maker's (OpenAI) price applies, as genai-prices falls back.
    Case('azure-openai', 'azure.ai.openai', 'gpt-4o', _t('2025-03-01 10:00'), _u(10_000, 1_000),
         response_model='gpt-4o-2024-11-20', catalogue_provider='azure'),
    # Google: Gemini API tier, resource-name ids, Vertex AI (Claude on Vertex; an override for 2.0 flash).
    Case('gemini-long-context', 'gcp.gemini', 'gemini-2.5-pro', _t('2025-08-01 10:00'),
         _u(300_000, 5_000, cache_read=50_000), catalogue_provider='google'),
    Case('gemini-resource-name', 'gcp.gemini', 'models/gemini-2.5-flash', _t('2025-08-01 10:00'),
         _u(10_000, 2_000), catalogue_provider='google', ref='gemini-2.5-flash'),
    Case('vertex-claude', 'gcp.vertex_ai', 'publishers/anthropic/models/claude-sonnet-4-5@20250929',
         _t('2025-11-01 10:00'), _u(10_000, 1_000), catalogue_provider='google', ref='claude-sonnet-4-5@20250929'),
    Case('vertex-gemini-2-0-flash', 'gcp.vertex_ai', 'gemini-2.0-flash-001', _t('2025-06-01 10:00'),
         _u(10_000, 1_000), catalogue_provider='google', expect='override'),
    # Mistral: the catalogue's alias price, and an override where the alias moved on.
    Case('mistral-small', 'mistral_ai', 'mistral-small-latest', _t('2025-11-01 10:00'), _u(10_000, 1_000),
         catalogue_provider='mistral'),
    Case('mistral-large-latest-after-large-3', 'mistral_ai', 'mistral-large-latest', _t('2026-01-15 10:00'),
         _u(10_000, 1_000), catalogue_provider='mistral', expect='override'),
    # DeepSeek: the catalogue's V3 price (at peak hours), then V3.2's.
    Case('deepseek-v3', 'deepseek', 'deepseek-chat', _t('2025-08-01 12:00'), _u(10_000, 1_000, cache_read=6_000)),
    Case('deepseek-v3-2', 'deepseek', 'deepseek-chat', _t('2025-10-15 12:00'), _u(10_000, 1_000, cache_read=6_000),
         expect='override'),
    # xAI, Groq, Cohere, Perplexity (a per-request fee; a reasoning rate), Moonshot, OpenRouter.
    Case('xai', 'x_ai', 'grok-3', _t('2025-11-01 10:00'), _u(10_000, 1_000), catalogue_provider='x-ai'),
    Case('groq', 'groq', 'llama-3.3-70b-versatile', _t('2025-11-01 10:00'), _u(10_000, 1_000)),
    Case('cohere', 'cohere', 'command-r-plus', _t('2025-11-01 10:00'), _u(10_000, 1_000)),
    Case('perplexity-request-fee', 'perplexity', 'sonar', _t('2025-11-01 10:00'), _u(1_000, 100)),
    Case('perplexity-reasoning', 'perplexity', 'sonar-deep-research', _t('2025-11-01 10:00'),
         _u(1_000, 5_000, reasoning=4_000)),
    Case('moonshot', 'moonshot_ai', 'kimi-k2-0905-preview', _t('2025-11-01 10:00'), _u(10_000, 1_000),
         catalogue_provider='moonshotai'),
    Case('openrouter', 'openrouter', 'openai/gpt-4o', _t('2025-11-01 10:00'), _u(10_000, 1_000)),
    # No price: a self-hosted model (resellers' Llama prices never apply to another provider's calls),
    # a reported response model the catalogue lacks (the request model's price is not used),
    # an Azure deployment name.
    Case('self-hosted', 'hosted_vllm', 'llama-3.3-70b-instruct', _t('2025-11-01 10:00'), _u(10_000, 1_000),
         response_model='meta-llama/Llama-3.3-70B-Instruct', expect='unpriced'),
    Case('unknown-response-model', 'openai', 'gpt-4o', _t('2025-11-01 10:00'), _u(10_000, 1_000),
         response_model='acme-gpt4o-proxy-v7', expect='unpriced'),
    Case('azure-deployment-name', 'azure.ai.openai', 'my-gpt4o-prod', _t('2025-11-01 10:00'), _u(20_000, 2_000),
         expect='unpriced'),
]

SWEEP_AT = _t('2026-11-16 12:00')
SWEEP_USAGE = _u(10_000, 800, cache_read=2_000, cache_write=1_000)


def _clause_values(clause):
    for attr in ('equals', 'starts_with', 'contains', 'ends_with'):
        if hasattr(clause, attr):
            yield getattr(clause, attr)
    for sub in (getattr(clause, 'or_', None) or []) + (getattr(clause, 'and_', None) or []):
        yield from _clause_values(sub)


def _representative_id(model):
    """An id the catalogue's model matches: its own id, else a literal from its match clause."""
    for candidate in [model.id, *_clause_values(model.match)]:
        if model.is_match(candidate):
            return candidate.lower()
    return None


def sweep_cases():
    """One call per catalogue model, sent under the catalogue's provider id."""
    cases = []
    for provider in CATALOGUE:
        for model in provider.models:
            ref = _representative_id(model)
            cases.append(Case(f'sweep:{provider.id}/{model.id}', provider.id, ref or model.id, SWEEP_AT,
                              SWEEP_USAGE, catalogue_provider=provider.id, expect='sweep' if ref else 'no-id'))
    return cases


def _hex(i, width):
    return format(i, f'0{width}x')


def _attr(key, value):
    kind = 'intValue' if isinstance(value, int) else 'stringValue'
    return {'key': key, 'value': {kind: str(value)}}


def _span(i, case):
    start = int(case.at.timestamp() * 1e9)
    attrs = {'gen_ai.provider.name': case.provider, 'gen_ai.operation.name': case.operation,
             'gen_ai.request.model': case.request_model}
    if case.response_model:
        attrs['gen_ai.response.model'] = case.response_model
    names = {'input_tokens': 'gen_ai.usage.input_tokens', 'output_tokens': 'gen_ai.usage.output_tokens',
             'cache_read_tokens': 'gen_ai.usage.cache_read.input_tokens',
             'cache_write_tokens': 'gen_ai.usage.cache_creation.input_tokens',
             'output_reasoning_tokens': 'gen_ai.usage.reasoning.output_tokens'}
    attrs.update({names[k]: v for k, v in case.usage.items()})
    return {'traceId': _hex(i + 1, 32), 'spanId': _hex(i + 1, 16), 'name': f'{case.operation} {case.request_model}',
            'kind': 3, 'startTimeUnixNano': str(start), 'endTimeUnixNano': str(start + 1_500_000_000),
            'attributes': [_attr(k, v) for k, v in attrs.items()], 'status': {}}


def write_otlp(path: Path, cases):
    with path.open('w') as f:
        for chunk in range(0, len(cases), 500):
            spans = [_span(chunk + i, c) for i, c in enumerate(cases[chunk:chunk + 500])]
            request = {'resourceSpans': [{
                'resource': {'attributes': [_attr('service.name', 'price-oracle')]},
                'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.genai'}, 'spans': spans}]}]}
            f.write(json.dumps(request) + '\n')


@pytest.fixture(scope='module')
def built(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('prices')
    env = warehouse_env(tmp, profiles_dir)
    cases = CASES + sweep_cases()
    write_otlp(tmp / 'traces.jsonl', cases)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    llmwh('load', 'otlp', str(tmp / 'traces.jsonl'), env_extra=env, check=True)
    # The pricing path and the marts that test it; not every mart: 2,300 model families over
    # three years of call dates is no workload for the anomaly baselines.
    dbt('build', '--select', '+fct_llm_calls', '+fct_traces', '+dim_models', '--indirect-selection', 'cautious',
        env_extra=env, check=True)
    out = llmwh('sql', 'select call_id, cost_usd, priced_model from llm.fct_llm_calls', '--format', 'json',
                env_extra=env, check=True).stdout
    calls = {int(r['call_id'], 16) - 1: r for r in map(json.loads, out.splitlines())}
    assert len(calls) == len(cases)
    return env, [(case, calls[i]) for i, case in enumerate(cases)]


def catalogue_price(case):
    """genai_prices.calc_price for the call, in USD; None when the catalogue has no price."""
    ref = case.ref or case.response_model or case.request_model
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        try:
            return float(calc_price(Usage(**case.usage), ref, provider_id=case.catalogue_provider or case.provider,
                                    genai_request_timestamp=case.at).total_price)
        except LookupError:
            return None


def _equal(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(abs(b), 1e-6)


OVERRIDE_PATTERNS = {r['model_pattern'] for r in OVERRIDE_ROWS}


@pytest.mark.parametrize('name', [c.name for c in CASES])
def test_cost_equals_genai_prices_except_where_an_override_says_why(built, name):
    case, call = next((c, r) for c, r in built[1] if c.name == name)
    theirs = catalogue_price(case)
    if case.expect == 'catalogue':
        assert theirs is not None and theirs > 0
        assert _equal(call['cost_usd'], theirs), (call, theirs)
        assert call['priced_model'] not in OVERRIDE_PATTERNS
    elif case.expect == 'override':
        # The override's own price (recomputed from the seed by the Python oracle), not the catalogue's.
        row = price_of_call(case.response_model, case.request_model, case.provider, case.at.replace(tzinfo=None))
        assert row['is_override'] and row['reason'] and call['priced_model'] == row['model_pattern']
        u = case.usage
        expected = cost_usd(row, u.get('input_tokens'), u.get('output_tokens'), u.get('cache_read_tokens'),
                            u.get('cache_write_tokens'), u.get('output_reasoning_tokens'))
        assert _equal(call['cost_usd'], expected) and not _equal(call['cost_usd'], theirs), (call, expected, theirs)
    else:
        assert call['cost_usd'] is None and call['priced_model'] is None, call


def test_the_oracle_cases_span_providers_and_features():
    providers = {c.catalogue_provider or c.provider for c in CASES if c.expect != 'unpriced'}
    assert len(providers) >= 8, providers
    assert {c.expect for c in CASES} == {'catalogue', 'override', 'unpriced'}


def test_most_models_the_catalogue_knows_are_priced_at_its_price(built):
    """One call per catalogue model: priced by the warehouse at genai-prices' price (or by a sourced override)."""
    sweep = [(c, r) for c, r in built[1] if c.name.startswith('sweep:')]
    assert len(sweep) == sum(len(p.models) for p in CATALOGUE)
    outcome = {}
    for case, call in sweep:
        theirs = catalogue_price(case) if case.expect == 'sweep' else None
        if _equal(call['cost_usd'], theirs):
            outcome[case.name] = 'catalogue price'
        elif call['cost_usd'] is not None and call['priced_model'] in OVERRIDE_PATTERNS:
            outcome[case.name] = 'override'
        elif call['cost_usd'] is None:
            outcome[case.name] = 'unpriced'
        else:
            outcome[case.name] = f'differs: {call["cost_usd"]} vs {theirs}'
    priced = sum(v in ('catalogue price', 'override') for v in outcome.values())
    print(f'\ncatalogue coverage: {priced} of {len(sweep)} models priced '
          f'({priced / len(sweep):.1%}); unpriced: {sum(v == "unpriced" for v in outcome.values())}')
    assert priced / len(sweep) >= 0.95
    # Nothing is priced differently from the catalogue without an override saying why.
    assert [(k, v) for k, v in outcome.items() if v.startswith('differs')] == []


def test_llmwh_prices_lists_unpriced_models_with_counts(built):
    env = built[0]
    proc = llmwh('prices', env_extra=env, check=True)
    lines = proc.stdout.splitlines()
    assert re.match(r'[\d,]+ LLM calls of [\d,]+ models: [\d,]+ with a cost, [\d,]+ without a price, '
                    r'0 without usage\.$', lines[0]), lines[0]
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in lines[2:-1]}
    # Provider, the id prices are matched on (response model, else request model), calls, calls with
    # usage, input and output tokens.
    assert rows[('azure.ai.openai', 'my-gpt4o-prod')][:4] == ['1', '1', '20,000', '2,000']
    assert rows[('openai', 'acme-gpt4o-proxy-v7')][:4] == ['1', '1', '10,000', '1,000']
    assert rows[('hosted_vllm', 'meta-llama/Llama-3.3-70B-Instruct')][:4] == ['1', '1', '10,000', '1,000']
    assert ('openai', 'gpt-4o') not in rows
    # The list is ordered by input tokens and can be cut and filtered by day.
    limited = llmwh('prices', '--limit', '1', env_extra=env, check=True).stdout.splitlines()
    assert len(limited) == 4 and limited[2].split()[1] == 'my-gpt4o-prod'
    recent = llmwh('prices', '--since', '2026-11-01', env_extra=env, check=True).stdout
    assert 'my-gpt4o-prod' not in recent and 'whisper-1' in recent


def test_llmwh_prices_before_any_build_is_a_clear_error(tmp_path, profiles_dir):
    env = warehouse_env(tmp_path, profiles_dir)
    llmwh('init', env_extra=env, check=True)
    proc = llmwh('prices', env_extra=env)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert proc.stderr.startswith('llmwh: error: ') and 'dbt build' in proc.stderr, proc.stderr
