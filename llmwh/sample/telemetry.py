"""A small, fixed sample of LLM telemetry in the exporter's row format.

It covers the shapes the staging models read: a LibreChat chat app (JSON logs
with token counts, a trace per user turn, an MCP tool call), OTel GenAI
semconv v1.26 and v1.27+ spans, OpenLLMetry, OpenInference and LiteLLM proxy
spans, a rate-limited call, `gen_ai.client.token.usage` histograms, and two
evaluation results (an EVALUATOR span and a gen_ai.evaluation.result event).
Timestamps sit on the two days before today so retention never drops them.
Rows carry ResourceAttributes[DATASET_KEY] = 'sample' (llmwh.config).
"""

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

from llmwh.config import DATASET_KEY

DATASET = 'sample'
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864]

# (conversation id, user, turns of (model, prompt tokens, completion tokens, uses tool)).
# The first conversation's logs sum to 790 prompt / 218 completion tokens.
LIBRECHAT_CONVERSATIONS = [
    ('5c7b0e2a-1f4e-4c71-9a51-0d6f1e9b3a10', 'user-ana', [
        ('gpt-4o', 320, 98, False), ('gpt-4o', 470, 120, True)]),
    ('9e2d41c8-6b0a-4f3e-8c2d-7a1b5e4f6d21', 'user-ben', [
        ('gpt-4o-mini', 150, 60, False), ('gpt-4o-mini', 410, 85, False),
        ('gpt-4o-mini', 655, 140, True)]),
]


@dataclass
class Sample:
    rows: dict = field(default_factory=lambda: {
        'otel_traces': [], 'otel_logs': [], 'otel_metrics_histogram': []})


def _ids(rng):
    return lambda n: ''.join(rng.choice('0123456789abcdef') for _ in range(n))


def _resource(service, **extra):
    attrs = {'service.name': service, 'telemetry.sdk.language': 'python',
             'deployment.environment.name': 'prod', DATASET_KEY: DATASET, **extra}
    return dict(sorted(attrs.items()))


def _span(trace_id, span_id, parent, start, duration_ms, name, kind, service, scope, attrs,
          status='Unset', message='', events=(), resource=None):
    return {
        'Timestamp': start, 'TraceId': trace_id, 'SpanId': span_id, 'ParentSpanId': parent,
        'TraceState': '', 'SpanName': name, 'SpanKind': kind, 'ServiceName': service,
        'ResourceAttributes': resource or _resource(service), 'ScopeName': scope[0],
        'ScopeVersion': scope[1], 'SpanAttributes': dict(sorted(attrs.items())),
        'Duration': int(duration_ms * 1_000_000), 'StatusCode': status, 'StatusMessage': message,
        'Events.Timestamp': [e[0] for e in events], 'Events.Name': [e[1] for e in events],
        'Events.Attributes': [e[2] for e in events],
        'Links.TraceId': [], 'Links.SpanId': [], 'Links.TraceState': [], 'Links.Attributes': [],
    }


def _log(ts, trace_id, span_id, service, body, attrs, severity=('info', 9), scope=('', '')):
    return {
        'Timestamp': ts, 'TraceId': trace_id, 'SpanId': span_id, 'TraceFlags': 1,
        'SeverityText': severity[0], 'SeverityNumber': severity[1], 'ServiceName': service,
        'Body': body, 'ResourceSchemaUrl': '', 'ResourceAttributes': _resource(service),
        'ScopeSchemaUrl': '', 'ScopeName': scope[0], 'ScopeVersion': scope[1],
        'ScopeAttributes': {}, 'LogAttributes': dict(sorted(attrs.items())), 'EventName': '',
    }


class _SampleBuilder:
    """Builds the sample one instrumentation flavour at a time (in a fixed order:
    the ids come from one seeded random stream)."""

    def __init__(self, now: datetime, seed: int):
        self.day0 = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) - timedelta(days=2)
        self.rng = random.Random(seed)
        self.hexid = _ids(self.rng)
        self.sample = Sample()
        self.traces, self.logs = self.sample.rows['otel_traces'], self.sample.rows['otel_logs']
        self.usage = {}   # (day, service, provider, model, token type) -> [token counts]

    def record(self, day, service, provider, model, inp, out):
        for kind, n in (('input', inp), ('output', out)):
            self.usage.setdefault((day, service, provider, model, kind), []).append(n)

    def librechat(self):
        """LibreChat: one trace per user turn, semconv v1.27+ LLM span, JSON token logs."""
        rng, hexid, traces, logs, day0 = self.rng, self.hexid, self.traces, self.logs, self.day0
        openai_scope = ('opentelemetry.instrumentation.openai_v2', '2.1b0')
        for c, (conv_id, user, turns) in enumerate(LIBRECHAT_CONVERSATIONS):
            for t, (model, prompt, completion, uses_tool) in enumerate(turns):
                start = day0 + timedelta(hours=9 + 5 * c, minutes=7 * t, seconds=rng.randint(0, 50))
                trace_id, root, llm = hexid(32), hexid(16), hexid(16)
                llm_ms = 900 + rng.randint(0, 2500)
                total_ms = llm_ms + 150 + (400 if uses_tool else 0)
                traces.append(_span(trace_id, root, '', start, total_ms, 'POST /api/agents/chat',
                                    'Server', 'librechat', ('@opentelemetry/instrumentation-http', '0.57.0'),
                                    {'http.request.method': 'POST', 'http.route': '/api/agents/chat',
                                     'http.response.status_code': '200'}))
                attrs = {
                    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
                    'gen_ai.request.model': model,
                    'gen_ai.response.model': f'{model}-2024-08-06' if model == 'gpt-4o' else f'{model}-2024-07-18',
                    'gen_ai.usage.input_tokens': str(prompt), 'gen_ai.usage.output_tokens': str(completion),
                    'gen_ai.response.finish_reasons': '["tool_calls"]' if uses_tool else '["stop"]',
                    'gen_ai.conversation.id': conv_id, 'server.address': 'api.openai.com',
                    'gen_ai.request.stream': 'true', 'gen_ai.response.time_to_first_chunk': '0.41',
                }
                traces.append(_span(trace_id, llm, root, start + timedelta(milliseconds=40), llm_ms,
                                    f'chat {model}', 'Client', 'librechat', openai_scope, attrs))
                self.record(0, 'librechat', 'openai', model, prompt, completion)
                if uses_tool:
                    tool_span = hexid(16)
                    tool_start = start + timedelta(milliseconds=60 + llm_ms)
                    traces.append(_span(trace_id, tool_span, root, tool_start, 380, 'tools/call query_database',
                                        'Client', 'librechat', ('mcp', '1.9.0'),
                                        {'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'query_database',
                                         'gen_ai.operation.name': 'execute_tool', 'mcp.session.id': hexid(32),
                                         'network.transport': 'pipe'}))
                    traces.append(_span(trace_id, hexid(16), tool_span, tool_start + timedelta(milliseconds=20),
                                        300, 'SELECT orders', 'Client', 'orders-mcp', ('sqlalchemy', '0.52b0'),
                                        {'db.system.name': 'postgresql', 'db.operation.name': 'SELECT',
                                         'db.collection.name': 'orders'}))
                # LibreChat's spendTokens log line, parsed by the collector's json_parser.
                log_ts = start + timedelta(milliseconds=total_ms)
                message = f'[spendTokens] conversationId: {conv_id} | Context: message | Token usage: '
                logs.append(_log(log_ts, trace_id, root, 'librechat', message,
                                 {'conversationId': conv_id, 'model': model, 'user': user,
                                  'promptTokens': str(prompt), 'completionTokens': str(completion),
                                  'tokenCount': str(prompt + completion), 'text': message[:255]}))

    def librechat_raw_log(self):
        """A raw LibreChat log without parsed attributes: the id is only in the text."""
        logs, day0 = self.logs, self.day0
        raw_conv = '2a6f9c1e-8d3b-4e5a-b7c9-1f0e2d3c4b5a'
        logs.append(_log(day0 + timedelta(hours=16), '', '', 'librechat',
                         f'[spendTokens] conversationId: {raw_conv} | Context: title | Token usage: ', {}))

    def semconv_v126(self):
        """OTel GenAI semconv v1.26 (prompt/completion_tokens, gen_ai.system)."""
        hexid, traces, day0 = self.hexid, self.traces, self.day0
        start = day0 + timedelta(days=1, hours=10)
        trace_id = hexid(32)
        traces.append(_span(trace_id, hexid(16), '', start, 1730, 'chat gpt-4o-mini', 'Client',
                            'support-bot', ('opentelemetry.instrumentation.openai', '0.47b0'),
                            {'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini',
                             'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
                             'gen_ai.usage.prompt_tokens': '812', 'gen_ai.usage.completion_tokens': '164',
                             'gen_ai.response.finish_reasons': '["stop"]'}))
        self.record(1, 'support-bot', 'openai', 'gpt-4o-mini', 812, 164)

    def openllmetry(self):
        """OpenLLMetry: workflow umbrella span repeating its child's tokens, Anthropic with cache."""
        hexid, traces, day0 = self.hexid, self.traces, self.day0
        start = day0 + timedelta(days=1, hours=11, minutes=30)
        trace_id, wf, child = hexid(32), hexid(16), hexid(16)
        ll_scope = ('opentelemetry.instrumentation.anthropic', '0.62.1')
        common = {'traceloop.association.properties.user_id': 'user-cy',
                  'traceloop.association.properties.session_id': 'sess-417'}
        traces.append(_span(trace_id, wf, '', start, 4200, 'summarize.workflow', 'Internal', 'research-agent',
                            ('traceloop.sdk', '0.62.1'),
                            {**common, 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'summarize',
                             'gen_ai.usage.input_tokens': '5120', 'gen_ai.usage.output_tokens': '730'}))
        traces.append(_span(trace_id, child, wf, start + timedelta(milliseconds=30), 4100, 'anthropic.chat',
                            'Client', 'research-agent', ll_scope,
                            {**common, 'gen_ai.system': 'Anthropic', 'llm.request.type': 'chat',
                             'gen_ai.request.model': 'claude-sonnet-4-5',
                             'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
                             'gen_ai.usage.prompt_tokens': '5120', 'gen_ai.usage.completion_tokens': '730',
                             'gen_ai.usage.cache_read_input_tokens': '4096',
                             'gen_ai.usage.cache_creation_input_tokens': '512',
                             'gen_ai.completion.0.finish_reason': 'end_turn'}))
        self.record(1, 'research-agent', 'anthropic', 'claude-sonnet-4-5', 5120, 730)

    def openinference(self):
        """OpenInference (Arize Phoenix): llm.token_count.*, session.id, user.id."""
        hexid, traces, day0 = self.hexid, self.traces, self.day0
        start = day0 + timedelta(days=1, hours=13)
        self.evaluated = (hexid(32), hexid(16), start)
        traces.append(_span(*self.evaluated[:2], '', start, 2300, 'ChatCompletion', 'Internal', 'rag-api',
                            ('openinference.instrumentation.openai', '0.1.30'),
                            {'openinference.span.kind': 'LLM', 'llm.provider': 'openai', 'llm.system': 'openai',
                             'llm.model_name': 'gpt-4.1-mini-2025-04-14', 'llm.token_count.prompt': '2048',
                             'llm.token_count.completion': '256', 'llm.token_count.total': '2304',
                             'llm.token_count.completion_details.reasoning': '0',
                             'session.id': 'sess-88', 'user.id': 'user-dee', 'llm.cost.total': '0.0012288'}))
        self.record(1, 'rag-api', 'openai', 'gpt-4.1-mini', 2048, 256)

    def evaluations(self):
        """Two results on the OpenInference call: an EVALUATOR span (a heuristic evaluator, no
        judge call) linked to it, and a gen_ai.evaluation.result event in its context."""
        trace_id, span_id, start = self.evaluated
        at = start + timedelta(seconds=3)
        span = _span(trace_id, self.hexid(16), '', at, 40, 'evaluate grounded', 'Internal', 'rag-api',
                     ('openinference.instrumentation.llama_index', '4.3.0'),
                     {'openinference.span.kind': 'EVALUATOR', 'metadata.evaluator_name': 'grounded',
                      'metadata.score': '0.82', 'metadata.label': 'pass'})
        span.update({'Links.TraceId': [trace_id], 'Links.SpanId': [span_id], 'Links.TraceState': [''],
                     'Links.Attributes': [{}]})
        self.traces.append(span)
        event = _log(at + timedelta(seconds=1), trace_id, span_id, 'rag-api', '',
                     {'gen_ai.evaluation.name': 'hallucination', 'gen_ai.evaluation.score.value': '0',
                      'gen_ai.evaluation.score.label': 'faithful'},
                     scope=('openinference.instrumentation.llama_index', '4.3.0'))
        event['EventName'] = 'gen_ai.evaluation.result'
        self.logs.append(event)

    def litellm(self):
        """LiteLLM proxy: "True" strings, key/team attribution, reported cost; one rate-limited call."""
        hexid, traces, day0 = self.hexid, self.traces, self.day0
        for i, (model, inp, out, failed) in enumerate([('gpt-4.1', 1500, 420, False),
                                                       ('gpt-4.1', 900, 0, True)]):
            start = day0 + timedelta(days=1, hours=15, minutes=i)
            attrs = {'gen_ai.system': 'openai', 'gen_ai.request.model': model,
                     'gen_ai.operation.name': 'acompletion', 'llm.is_streaming': 'False',
                     'metadata.user_api_key_alias': 'analytics-key',
                     'metadata.user_api_key_team_alias': 'analytics',
                     'metadata.user_api_key_end_user_id': 'user-eve'}
            if failed:
                attrs['error.type'] = 'RateLimitError'
                events = [(start + timedelta(milliseconds=200), 'exception',
                           {'exception.type': 'litellm.RateLimitError', 'exception.message': '429 rate limit'})]
                traces.append(_span(hexid(32), hexid(16), '', start, 210, 'litellm_request', 'Server',
                                    'litellm-proxy', ('litellm', '1.79.0'), attrs, 'Error',
                                    'RateLimitError: 429', events))
                continue
            attrs.update({'gen_ai.response.model': 'gpt-4.1-2025-04-14', 'gen_ai.usage.input_tokens': str(inp),
                          'gen_ai.usage.output_tokens': str(out), 'gen_ai.usage.total_tokens': str(inp + out),
                          'gen_ai.cost.total_cost': json.dumps(round(inp * 2e-6 + out * 8e-6, 6))})
            traces.append(_span(hexid(32), hexid(16), '', start, 3100, 'litellm_request', 'Server',
                                'litellm-proxy', ('litellm', '1.79.0'), attrs, 'Ok'))
            self.record(1, 'litellm-proxy', 'openai', model, inp, out)

    def token_metrics(self):
        """gen_ai.client.token.usage histograms: one delta point per day, service, model and type."""
        usage, day0, s = self.usage, self.day0, self.sample
        for (day, service, provider, model, kind), counts in sorted(usage.items()):
            ts = day0 + timedelta(days=day, hours=23, minutes=59)
            buckets = [0] * (len(TOKEN_BUCKETS) + 1)
            for n in counts:
                buckets[next((i for i, b in enumerate(TOKEN_BUCKETS) if n <= b), len(TOKEN_BUCKETS))] += 1
            s.rows['otel_metrics_histogram'].append({
                'ResourceAttributes': _resource(service), 'ResourceSchemaUrl': '',
                'ScopeName': 'opentelemetry.instrumentation.genai', 'ScopeVersion': '0.1',
                'ScopeAttributes': {}, 'ScopeDroppedAttrCount': 0, 'ScopeSchemaUrl': '',
                'ServiceName': service, 'MetricName': 'gen_ai.client.token.usage',
                'MetricDescription': 'Measures number of input and output tokens used', 'MetricUnit': '{token}',
                'Attributes': {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider,
                               'gen_ai.request.model': model, 'gen_ai.token.type': kind},
                'StartTimeUnix': ts - timedelta(days=1), 'TimeUnix': ts, 'Count': len(counts),
                'Sum': float(sum(counts)), 'BucketCounts': buckets, 'ExplicitBounds': [float(b) for b in TOKEN_BUCKETS],
                'Exemplars.FilteredAttributes': [], 'Exemplars.TimeUnix': [], 'Exemplars.Value': [],
                'Exemplars.SpanId': [], 'Exemplars.TraceId': [], 'Flags': 0,
                'Min': float(min(counts)), 'Max': float(max(counts)), 'AggregationTemporality': 1,
            })


def build_sample(now: Optional[datetime] = None, seed: int = 7) -> Sample:
    """The sample's rows per table, timed on the two days before `now`."""
    builder = _SampleBuilder(now or datetime.now(timezone.utc), seed)
    for step in (builder.librechat, builder.librechat_raw_log, builder.semconv_v126, builder.openllmetry,
                 builder.openinference, builder.litellm, builder.token_metrics, builder.evaluations):
        step()
    return builder.sample
