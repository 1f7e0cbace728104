"""Fixed facts the scenarios draw from: models, services, billing accounts, faults.

Models and providers follow peers_and_pricing.md §5; provider values are the
semconv `gen_ai.provider.name` values (genai_attributes.md §1.3) except where an
instrumentation writes its own spelling (that spelling is the scenario's job).
"""

import hashlib
from dataclasses import dataclass

from llmwh.config import DATASET_KEY

GENERATOR_VERSION = '1.0'
DATASET = 'generated'          # ResourceAttributes[DATASET_KEY] on every resource
FLAVOUR_KEY = 'llmwh.flavour'  # ResourceAttributes key naming the instrumentation flavour


@dataclass(frozen=True)
class Model:
    alias: str            # what apps usually request
    provider: str         # canonical provider (semconv value) = who bills it
    snapshot: str         # the dated id the provider reports back (and bills under)
    tps: float            # median output tokens per second
    context: int
    reasoning: bool = False
    cache: str = ''       # 'openai' (automatic), 'anthropic' (explicit, writes), 'gemini' (implicit)
    server: str = ''


MODELS = {m.alias: m for m in [
    Model('gpt-4o', 'openai', 'gpt-4o-2024-08-06', 85, 128_000, cache='openai', server='api.openai.com'),
    Model('gpt-4o-mini', 'openai', 'gpt-4o-mini-2024-07-18', 120, 128_000, cache='openai',
          server='api.openai.com'),
    Model('gpt-4.1', 'openai', 'gpt-4.1-2025-04-14', 75, 1_047_576, cache='openai', server='api.openai.com'),
    Model('gpt-4.1-mini', 'openai', 'gpt-4.1-mini-2025-04-14', 110, 1_047_576, cache='openai',
          server='api.openai.com'),
    Model('gpt-4.1-nano', 'openai', 'gpt-4.1-nano-2025-04-14', 160, 1_047_576, cache='openai',
          server='api.openai.com'),
    Model('o3-mini', 'openai', 'o3-mini-2025-01-31', 150, 200_000, reasoning=True, cache='openai',
          server='api.openai.com'),
    Model('claude-sonnet-4-5', 'anthropic', 'claude-sonnet-4-5-20250929', 60, 200_000, cache='anthropic',
          server='api.anthropic.com'),
    Model('claude-3-5-haiku', 'anthropic', 'claude-3-5-haiku-20241022', 110, 200_000, cache='anthropic',
          server='api.anthropic.com'),
    Model('gemini-2.5-flash', 'gcp.gemini', 'gemini-2.5-flash', 180, 1_048_576, reasoning=True,
          cache='gemini', server='generativelanguage.googleapis.com'),
    Model('gemini-2.5-pro', 'gcp.gemini', 'gemini-2.5-pro', 90, 1_048_576, reasoning=True, cache='gemini',
          server='generativelanguage.googleapis.com'),
]}

# Fault `dated_snapshots`: requests naming a dated id directly (some newer than the alias's).
DATED_REQUESTS = {
    'gpt-4o': 'gpt-4o-2024-11-20',
    'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
    'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
    'claude-3-5-haiku': 'claude-3-5-haiku-20241022',
    'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
}
# Fault `unknown_models`: a fine-tuned OpenAI model and a self-hosted model behind LiteLLM.
FINE_TUNED = 'ft:gpt-4o-mini-2024-07-18:acme:support-v2:B7x2Qk9L'
SELF_HOSTED = ('hosted_vllm', 'llama-3.3-70b-instruct', 'meta-llama/Llama-3.3-70B-Instruct')

# Faults: name -> what it does (README and manifest use these texts).
FAULTS = {
    'usage_missing': 'streaming OpenAI calls without stream_options.include_usage: the span has no token '
                     'attributes (the provider still bills; LibreChat still logs its own count)',
    'duplicates': 'collector retries: an export request line is written a second time, byte-identical',
    'late': 'late-arriving data: some traces (and their logs) go to traces.late.jsonl / logs.late.jsonl '
            'with their original (old) timestamps',
    'unknown_models': f'unknown / fine-tuned model ids ({FINE_TUNED}, {SELF_HOSTED[1]} on {SELF_HOSTED[0]})',
    'dated_snapshots': 'requests that name a dated snapshot id (e.g. gpt-4o-2024-11-20) instead of the alias',
    'clock_skew': 'services whose clocks are off: every timestamp they write is shifted',
    'sampling': 'collector-side probabilistic sampling (trace id ratio) of the sampled flavours: only '
                'about 10% of their traces are written; metrics stay unsampled',
    'bad_evaluations': 'evaluation results whose score is not a number (n/a) or that carry no label',
}
FAULT_RATES = {'usage_missing': 0.15, 'duplicates': 0.01, 'late': 0.02, 'unknown_models': 0.04,
               'dated_snapshots': 0.08, 'sampling': 0.10, 'bad_evaluations': 0.10}
CLOCK_SKEW_NS = {'support-bot': -540 * 10**9, 'orders-mcp': 2_500 * 10**6}
SAMPLED_FLAVOURS = ('semconv-v1.26', 'litellm')


@dataclass(frozen=True)
class Service:
    name: str
    flavour: str
    language: str
    sdk_version: str
    metrics: str = ''            # '', 'delta', 'cumulative'
    metric_scope: tuple = ()
    counters: bool = False       # newest genai counters (otel_metrics_sum)


SERVICES = {s.name: s for s in [
    Service('librechat', 'librechat', 'nodejs', '2.0.1'),
    Service('librechat-legacy', 'librechat', 'nodejs', '1.30.1'),
    Service('orders-mcp', 'librechat', 'python', '1.38.0'),
    Service('support-bot', 'semconv-v1.26', 'python', '1.26.0', 'cumulative',
            ('opentelemetry.instrumentation.openai_v2', '2.0b0')),
    Service('assistant-api', 'semconv-v1.27', 'python', '1.30.0', 'cumulative',
            ('opentelemetry.instrumentation.openai_v2', '2.1b0')),
    Service('docs-agent', 'semconv-latest', 'python', '1.41.0', 'delta',
            ('opentelemetry.instrumentation.genai', '0.3b0'), counters=True),
    Service('research-agent', 'openllmetry', 'python', '1.38.0', 'cumulative',
            ('opentelemetry.instrumentation.anthropic', '0.62.1')),
    Service('rag-api', 'openinference', 'python', '1.36.0'),
    Service('copilot-app', 'litellm', 'nodejs', '2.0.1', 'delta',
            ('@opentelemetry/instrumentation-openai', '0.4.0')),
    Service('litellm-proxy', 'litellm', 'python', '1.38.0', 'delta', ('litellm', '1.79.0')),
]}

FLAVOURS = {
    # flavour: (weight, services, the scope names that identify it)
    'librechat': (30, ('librechat', 'librechat-legacy', 'orders-mcp')),
    'semconv-v1.26': (10, ('support-bot',)),
    'semconv-v1.27': (10, ('assistant-api',)),
    'semconv-latest': (12, ('docs-agent',)),
    'openllmetry': (12, ('research-agent',)),
    'openinference': (12, ('rag-api',)),
    'litellm': (14, ('copilot-app', 'litellm-proxy')),
}


def resource_attributes(service: str) -> dict:
    s = SERVICES[service]
    attrs = {
        'service.name': s.name, 'service.namespace': 'llm-apps', 'service.version': '2026.1',
        'deployment.environment.name': 'prod', 'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.language': s.language, 'telemetry.sdk.version': s.sdk_version,
        'host.name': f'{s.name}-7f9c-{_short(s.name, 5)}',
        DATASET_KEY: DATASET, FLAVOUR_KEY: s.flavour,
    }
    return dict(sorted(attrs.items()))




def _short(text, n):
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def _slug(prefix, text, n):
    """Stable, seed-independent ids that look like the provider's (no hex, so never remapped)."""
    alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    digest = hashlib.sha256(text.encode()).digest()
    return prefix + ''.join(alphabet[b % len(alphabet)] for b in digest[:n])


def billing_account(service: str, provider: str) -> dict:
    """Who pays: the OpenAI project / API key or Anthropic workspace / API key a service uses."""
    if provider == 'openai':
        return {'project_id': _slug('proj_', f'{service}/project', 24),
                'api_key_id': _slug('key_', f'{service}/openai-key', 16)}
    if provider == 'anthropic':
        return {'workspace_id': _slug('wrkspc_01', f'{service}/workspace', 22),
                'api_key_id': _slug('apikey_01', f'{service}/anthropic-key', 22)}
    return {}


LITELLM_KEYS = [
    # (key hash (hex, stable), key alias, team id, team alias)
    (hashlib.sha256(b'sk-analytics').hexdigest(), 'analytics-key', 'team-analytics', 'analytics'),
    (hashlib.sha256(b'sk-support').hexdigest(), 'support-key', 'team-support', 'support'),
    (hashlib.sha256(b'sk-growth').hexdigest(), 'growth-key', 'team-growth', 'growth'),
]
