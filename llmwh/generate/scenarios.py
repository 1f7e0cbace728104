"""The application flavours: what each instrumentation puts on its spans and logs.

One *unit* is a conversation (or a short session of requests) of one flavour:
one or more traces, their logs, and the leaf LLM calls (the truth). Each
flavour function below builds one unit through the SDK (`SdkTelemetry`),
starting at `ctx.anchor` (true time, ns). Attribute names follow
genai_attributes.md per instrumentation and semconv version.

Flavours (ResourceAttributes['llmwh.flavour']):

* librechat      LibreChat (services librechat, librechat-legacy, orders-mcp): one trace per
                 user turn, several LLM calls, MCP `tools/call` spans with a database child span,
                 spendTokens logs (parsed into LogAttributes on `librechat`; raw text on
                 `librechat-legacy`, whose spans carry no conversation id).
* semconv-v1.26  support-bot: gen_ai.system, gen_ai.usage.prompt_tokens/completion_tokens.
* semconv-v1.27  assistant-api: input/output_tokens, operation name, gen_ai.conversation.id,
                 an invoke_agent umbrella span repeating its children's tokens.
* semconv-latest docs-agent: gen_ai.provider.name, cache_read / cache_creation (v1.40) or
                 cache_write (genai repo) input tokens, reasoning.output_tokens, request.stream,
                 response.time_to_first_chunk, invoke_workflow/invoke_agent umbrellas,
                 inference-details and exception events as log records.
* openllmetry    research-agent: workflow/task spans, old and new token names in one trace,
                 traceloop.association.properties.*.
* openinference  rag-api: CHAIN/RETRIEVER/LLM/EVALUATOR spans (rag.retrieve, rag.generate),
                 llm.token_count.*, llm.cost.total, and evaluation results (grounded 0..1, relevance
                 1..5, hallucination) as gen_ai.evaluation.result events, EVALUATOR spans or
                 LLM-as-judge spans, each linked to the evaluated call.
* litellm        copilot-app -> litellm-proxy: proxy spans with "True"/"False" strings, provider
                 slugs, key/team metadata, reported cost; the app's client span repeats the tokens.
"""

import hashlib
import json
import math

from llmwh.generate.catalog import (
    DATED_REQUESTS, FAULT_RATES, FINE_TUNED, LITELLM_KEYS, MODELS, SELF_HOSTED, Model,
)

S = 1_000_000_000
MS = 1_000_000

# USD per 1M tokens: (input, cached input, cache write 5m, output) for reported-cost attributes.
PRICES = {
    'gpt-4o': (2.5, 1.25, 2.5, 10), 'gpt-4o-2024-11-20': (2.5, 1.25, 2.5, 10),
    'gpt-4o-mini': (0.15, 0.075, 0.15, 0.6), 'gpt-4.1': (2, 0.5, 2, 8), 'gpt-4.1-mini': (0.4, 0.1, 0.4, 1.6),
    'gpt-4.1-nano': (0.1, 0.025, 0.1, 0.4), 'o3-mini': (1.1, 0.55, 1.1, 4.4),
    'claude-sonnet-4-5': (3, 0.3, 3.75, 15), 'claude-3-5-haiku': (0.8, 0.08, 1, 4),
    'gemini-2.5-flash': (0.3, 0.03, 0.3, 2.5), 'gemini-2.5-pro': (1.25, 0.125, 1.25, 10),
    FINE_TUNED: (0.3, 0.15, 0.3, 1.2), SELF_HOSTED[1]: (0, 0, 0, 0),
}
ERRORS = {  # provider -> kind -> (error.type, message, http status)
    'openai': {'rate_limit': ('RateLimitError', 'Error code: 429 - Rate limit reached for requests', 429),
               'server': ('InternalServerError', 'Error code: 500 - The server had an error', 500),
               'timeout': ('APITimeoutError', 'Request timed out.', 0)},
    'anthropic': {'rate_limit': ('RateLimitError', 'Error code: 429 - rate_limit_error', 429),
                  'server': ('OverloadedError', 'Error code: 529 - overloaded_error', 529),
                  'timeout': ('APITimeoutError', 'Request timed out.', 0)},
    'gcp.gemini': {'rate_limit': ('429', '429 RESOURCE_EXHAUSTED', 429),
                   'server': ('503', '503 UNAVAILABLE: The model is overloaded', 503),
                   'timeout': ('DeadlineExceeded', '504 Deadline Exceeded', 0)},
}
LITELLM_SLUG = {'openai': 'openai', 'anthropic': 'anthropic', 'gcp.vertex_ai': 'vertex_ai',
                'hosted_vllm': 'hosted_vllm'}
OPENLLMETRY_SYSTEM = {'openai': 'openai', 'anthropic': 'Anthropic'}
USERS = [hashlib.sha256(f'user-{i}'.encode()).hexdigest()[:24] for i in range(400)]


def _pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def _cost(model_key, inp, out, read=0, write=0):
    price = PRICES.get(model_key)
    if price is None:
        return 0.0
    p_in, p_read, p_write, p_out = price
    return round(((inp - read - write) * p_in + read * p_read + write * p_write + out * p_out) / 1e6, 8)


class Call(dict):
    """One leaf LLM call (the unit of truth). Keys documented in manifest.py (CALL_FIELDS)."""


class Ctx:
    """What a flavour function needs: the SDK, a seeded rng, the faults, and recorders."""

    def __init__(self, sdk, rng, faults, fault_rng, eval_rng):
        self.sdk, self.rng, self.faults, self.fault_rng = sdk, rng, faults, fault_rng
        # Evaluation shapes, scales and the bad_evaluations fault draw from their own
        # stream: how results are reported changes nothing else in the data.
        self.eval_rng = eval_rng
        self.seq = {}
        self.reset(0)

    def reset(self, anchor):
        self.anchor = anchor
        self.calls, self.ids = [], []
        self.conversations = {}          # conversation id -> flavour
        self.evaluations = []            # planted evaluation results (_plant)
        self.fault_counts = {}

    # ids that replication must renew (besides SDK trace/span ids)
    def hexid(self, n, prefix=''):
        value = f'{self.rng.getrandbits(4 * n):0{n}x}'
        self.ids.append(value)
        return prefix + value

    def uuid(self):
        h = f'{self.rng.getrandbits(128):032x}'
        value = f'{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}'
        self.ids.append(value)
        return value

    def count(self, fault, n=1):
        self.fault_counts[fault] = self.fault_counts.get(fault, 0) + n

    def on(self, fault, rate=None):
        # its own rng, always drawn: switching a fault off changes nothing else in the data
        x = self.fault_rng.random()
        return fault in self.faults and x < (FAULT_RATES[fault] if rate is None else rate)

    # ------------------------------------------------------------- one LLM call
    def draw(self, alias, start, history=0, prompt_base=800, new_median=300, out_median=280,
             streaming=False, allow_unknown=True, timeout_s=60, cache=None, cache_ttl_1h=False,
             provider=None, snapshot=None):
        """Tokens, latency and outcome of one call; `cache` is a per-conversation dict."""
        rng = self.rng
        model = MODELS.get(alias) or Model(alias, provider, snapshot, 90, 128_000)
        provider = provider or model.provider
        request_model, response_model, price_key = alias, snapshot or model.snapshot, alias
        unknown = allow_unknown and provider == 'openai' and self.on('unknown_models')
        dated = alias in DATED_REQUESTS and self.on('dated_snapshots')
        if unknown:
            request_model = response_model = price_key = FINE_TUNED
            self.count('unknown_models')
        elif dated:
            request_model = DATED_REQUESTS[alias]
            if request_model == 'gpt-4o-2024-11-20':
                response_model = price_key = request_model
            self.count('dated_snapshots')
        new_input = max(5, int(rng.lognormvariate(math.log(new_median), 0.9)))
        inp = prompt_base + history + new_input
        if rng.random() < 0.03:
            inp = int(inp * min(rng.paretovariate(1.3), 40))
        inp = min(inp, int(model.context * 0.9))
        out = max(1, min(16_384, int(rng.lognormvariate(math.log(out_median), 0.85))))
        reasoning = 0
        if model.reasoning and (provider != 'gcp.gemini' or rng.random() < 0.6):
            reasoning = int(rng.lognormvariate(math.log(out * 1.5 + 64), 0.6))
            out = min(out + reasoning, 65_536)
            reasoning = min(reasoning, out - 1)
        read = write = write_1h = 0
        prefix = prompt_base + history
        if model.cache == 'openai' and prefix >= 1024 and history > 0 and rng.random() < 0.8:
            read = min((prefix // 128) * 128, inp)
        elif model.cache == 'anthropic' and cache is not None:
            cached = cache.get('prefix', 0)
            if cached and prefix >= cached:
                read = cached
            write = max(0, min(prefix, inp) - read) if prefix >= 1024 else 0
            cache['prefix'] = prefix if prefix >= 1024 else cached
            if cache_ttl_1h:
                write_1h = write
        elif model.cache == 'gemini' and prefix >= 2048 and rng.random() < 0.3:
            read = (prefix // 2 // 256) * 256
        tps = model.tps * rng.lognormvariate(0, 0.25)
        ttft = rng.lognormvariate(math.log(0.55), 0.5) * (1 + inp / 60_000) + reasoning / (tps * 1.5)
        if rng.random() < 0.02:
            ttft *= min(rng.paretovariate(1.5), 30)
        duration = ttft + (out - reasoning) / tps
        ok, error_kind, billed = True, None, False
        if rng.random() < 0.02:
            ok = False
            error_kind = _pick(rng, [('rate_limit', 50), ('server', 25), ('timeout', 25)])
            if error_kind == 'timeout':
                duration, billed = float(timeout_s), True
            else:
                duration = rng.uniform(0.05, 0.6)
        c = Call(
            t=start, dur=int(duration * S), alias=alias, price_key=price_key, provider=provider,
            request_model=request_model, response_model=response_model, server=model.server,
            input=inp, output=out, cache_read=read, cache_write=write, cache_write_1h=write_1h,
            reasoning=reasoning, ok=ok, error_kind=error_kind, billed_error=billed,
            streaming=streaming, ttft=round(ttft, 4) if streaming else None,
            usage_reported=True, new_input=new_input,
        )
        if not ok:
            etype, emsg, status = ERRORS.get(provider, ERRORS['openai'])[error_kind]
            c.update(error_type=etype, error_message=emsg, http_status=status)
        return c

    def usage_missing(self, c):
        """Fault: a streaming OpenAI call whose client did not ask for usage."""
        if c['ok'] and c['streaming'] and c['provider'] == 'openai' and self.on('usage_missing'):
            c['usage_reported'] = False
            self.count('usage_missing')

    def record(self, c, span, service, flavour, conversation, billing_service, metrics):
        ctx = span.get_span_context()
        metrics = [m if len(m) == 3 else (m[0], m[1], c['usage_reported']) for m in metrics]
        c.update(trace=f'{ctx.trace_id:032x}', span=f'{ctx.span_id:016x}', service=service, flavour=flavour,
                 conversation=conversation, billing_service=billing_service, metrics=metrics)
        self.calls.append(c)

    def error_event(self, c):
        end = c['t'] + c['dur']
        return [('exception', end - MS, {'exception.type': c['error_type'],
                                         'exception.message': c['error_message']})]


def metric_attrs(style, c, service_extra=()):
    """Metric attribute items (sorted pairs) without gen_ai.token.type / error.type."""
    if style == 'semconv':
        items = [('gen_ai.operation.name', 'chat'), ('gen_ai.provider.name', c['provider']),
                 ('gen_ai.request.model', c['request_model']), ('server.address', c['server'] or 'localhost')]
    elif style == 'system':
        items = [('gen_ai.operation.name', 'chat'), ('gen_ai.system', c['provider']),
                 ('gen_ai.request.model', c['request_model'])]
    else:   # litellm
        items = [('gen_ai.operation.name', 'chat'), ('gen_ai.system', LITELLM_SLUG.get(c['provider'], c['provider'])),
                 ('gen_ai.request.model', c['request_model']), ('gen_ai.framework', 'litellm')]
    if c['ok']:
        items.append(('gen_ai.response.model', c['response_model']))
    return tuple(sorted(items + list(service_extra)))


def finish(c, tool=False):
    if c['provider'] == 'anthropic':
        return 'tool_use' if tool else ('max_tokens' if c['output'] >= 16_000 else 'end_turn')
    return 'tool_calls' if tool else ('length' if c['output'] >= 16_000 else 'stop')


def response_id(ctx, c):
    if c['provider'] == 'anthropic':
        return ctx.hexid(24, 'msg_')
    if c['provider'] in ('gcp.gemini', 'gcp.vertex_ai'):
        return ctx.hexid(24, 'resp-')
    return ctx.hexid(24, 'chatcmpl-')


# =============================================================== LibreChat

LIBRECHAT_MODELS = [('gpt-4o', 30), ('gpt-4o-mini', 25), ('gpt-4.1', 10), ('o3-mini', 8),
                    ('claude-sonnet-4-5', 17), ('claude-3-5-haiku', 5), ('gemini-2.5-flash', 5)]
TOOLS = [('query_orders', 'orders', 'SELECT id, status, total FROM orders WHERE customer_id = $1'),
         ('get_customer', 'customers', 'SELECT * FROM customers WHERE id = $1'),
         ('search_products', 'products', 'SELECT id, name FROM products WHERE name ILIKE $1 LIMIT 20')]
HTTP_SCOPE = ('@opentelemetry/instrumentation-http', '0.57.0')
LIBRECHAT_GENAI_SCOPE = ('librechat.agents', '0.7.3')
MCP_CLIENT_SCOPE = ('@modelcontextprotocol/sdk', '1.17.0')
FASTMCP_SCOPE = ('fastmcp', '2.12.0')
DB_SCOPE = ('opentelemetry.instrumentation.asyncpg', '0.57b0')


def librechat(ctx):
    rng, sdk = ctx.rng, ctx.sdk
    seq = ctx.seq['librechat'] = ctx.seq.get('librechat', -1) + 1
    legacy = seq % 5 == 1           # every fifth conversation (the second one first) on the legacy deployment
    service = 'librechat-legacy' if legacy else 'librechat'
    conv = ctx.uuid()
    ctx.conversations[conv] = 'librechat'
    user = rng.choice(USERS)
    alias = _pick(rng, LIBRECHAT_MODELS)
    title_alias = 'claude-3-5-haiku' if MODELS[alias].provider == 'anthropic' else 'gpt-4o-mini'
    mcp_session = ctx.hexid(32)
    turns = min(12, 1 + int(rng.expovariate(1 / 2.2)))
    prompt_base = rng.randint(400, 2500)
    history, cache, t = 0, {}, ctx.anchor
    for turn in range(turns):
        root = sdk.start(service, HTTP_SCOPE, 'POST /api/agents/chat', 'server', t, {
            'http.request.method': 'POST', 'http.route': '/api/agents/chat/:endpoint',
            'url.path': '/api/agents/chat/agents', 'url.scheme': 'https', 'http.response.status_code': 200,
            'user_agent.original': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)'})
        cursor = t + rng.randint(15, 80) * MS
        uses_tool = rng.random() < 0.5
        steps = 1 + (1 if uses_tool else 0) + (1 if uses_tool and rng.random() < 0.2 else 0)
        failed_turn = False
        new_input_total = last_output = 0
        for step in range(steps):
            wants_tool = step < steps - 1
            c = ctx.draw(alias, cursor, history=history + new_input_total, prompt_base=prompt_base,
                         streaming=True, cache=cache)
            ctx.usage_missing(c)
            new_input_total += c['new_input'] if step == 0 else 0
            span = _semconv_span(ctx, service, LIBRECHAT_GENAI_SCOPE, c, root, 'v1.37',
                                 conversation=None if legacy else conv, tool=wants_tool)
            ctx.record(c, span, service, 'librechat', conv, service, [])
            end = c['t'] + c['dur']
            if c['ok']:
                last_output = c['output']
                _spend_tokens_log(ctx, service, c, conv, user, 'message', end + 2 * MS, span, legacy)
            cursor = end + rng.randint(5, 30) * MS
            if not c['ok']:
                failed_turn = True
                break
            if wants_tool:
                history += c['output']
                cursor = _mcp_tool_call(ctx, service, root, cursor, mcp_session)
                history += rng.randint(80, 900)      # the tool result joins the context
        if turn == 0 and not failed_turn:
            c = ctx.draw(title_alias, cursor, prompt_base=120, new_median=80, out_median=12,
                         allow_unknown=False)
            span = _semconv_span(ctx, service, LIBRECHAT_GENAI_SCOPE, c, root, 'v1.37',
                                 conversation=None if legacy else conv)
            ctx.record(c, span, service, 'librechat', conv, service, [])
            if c['ok']:
                _spend_tokens_log(ctx, service, c, conv, user, 'title', c['t'] + c['dur'] + 2 * MS, span, legacy)
            cursor = c['t'] + c['dur']
        end = cursor + rng.randint(3, 20) * MS
        if failed_turn:
            root.set_attribute('http.response.status_code', 500)
            sdk.end(root, end, error='Internal Server Error')
        else:
            sdk.end(root, end)
        history += new_input_total + last_output
        t = end + int(rng.lognormvariate(math.log(60), 0.9) * S)


def _spend_tokens_log(ctx, service, c, conv, user, context, ts, span, legacy):
    structured = c['provider'] == 'anthropic'
    prefix = '[spendStructuredTokens]' if structured else '[spendTokens]'
    message = f'{prefix} conversationId: {conv} | Context: {context} | Token usage: '
    uncached = c['input'] - c['cache_read'] - c['cache_write']
    prompt = ({'input': uncached, 'write': c['cache_write'], 'read': c['cache_read']}
              if structured else c['input'])
    if legacy:
        usage = json.dumps({'promptTokens': prompt, 'completionTokens': c['output']}, separators=(',', ':'))
        ctx.sdk.log(service, ('librechat', ''), ts, message + usage, None, span, 'debug')
        return
    attrs = {'conversationId': conv, 'promptTokens': prompt, 'completionTokens': c['output'],
             'tokenCount': c['input'] + c['output'], 'model': c['request_model'], 'user': user,
             'text': message[:255], 'level': 'debug'}
    ctx.sdk.log(service, ('librechat', ''), ts, message, attrs, span, 'debug')


def _mcp_tool_call(ctx, service, root, start, mcp_session):
    rng, sdk = ctx.rng, ctx.sdk
    tool, table, query = rng.choice(TOOLS)
    failed = rng.random() < 0.04
    rpc_id = str(rng.randint(2, 400))
    common = {'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool',
              'mcp.session.id': mcp_session, 'mcp.protocol.version': '2025-06-18', 'jsonrpc.request.id': rpc_id}
    # The MCP call is part of the chat turn: its client span sits under the turn's root.
    client = sdk.start(service, MCP_CLIENT_SCOPE, f'tools/call {tool}', 'client', start, {
        **common, 'network.transport': 'tcp', 'server.address': 'orders-mcp.internal', 'server.port': 8000},
        parent=root)
    srv_start = start + rng.randint(2, 12) * MS
    server = sdk.start('orders-mcp', FASTMCP_SCOPE, f'tools/call {tool}', 'server', srv_start, {
        **common, 'fastmcp.server.name': 'orders', 'fastmcp.component.type': 'tool',
        'fastmcp.component.key': f'tool:{tool}@', 'network.transport': 'tcp'}, parent=client)
    db_start = srv_start + rng.randint(1, 5) * MS
    db_ms = max(1, int(rng.lognormvariate(math.log(18), 0.9)))
    db = sdk.start('orders-mcp', DB_SCOPE, f'SELECT {table}', 'client', db_start, {
        'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': table,
        'db.namespace': 'shop', 'db.query.text': query, 'server.address': 'pg-orders.internal',
        'server.port': 5432}, parent=server)
    sdk.end(db, db_start + db_ms * MS)
    srv_end = db_start + db_ms * MS + rng.randint(1, 6) * MS
    if failed:
        server.set_attribute('error.type', 'tool_error')
        client.set_attribute('error.type', 'tool_error')
    sdk.end(server, srv_end, error='tool_error' if failed else None)
    end = srv_end + rng.randint(2, 10) * MS
    sdk.end(client, end, error='tool_error' if failed else None)
    return end + rng.randint(5, 20) * MS


def _semconv_span(ctx, service, scope, c, parent, version, conversation=None, tool=False, kind='client',
                  extra=None):
    """A GenAI inference span in one semconv version's names; ends it; returns it.

    version: 'v1.26' (gen_ai.system, prompt/completion_tokens), 'v1.27' (system + input/output),
    'v1.37' (provider.name, v1.40 cache names, v1.41 reasoning/stream/ttft) or
    'latest' (as v1.37 with the genai repo's cache_write name).
    """
    op = 'chat'
    attrs = {}
    if version != 'v1.26':
        attrs['gen_ai.operation.name'] = op
    if version in ('v1.26', 'v1.27'):
        attrs['gen_ai.system'] = c['provider']
    else:
        attrs['gen_ai.provider.name'] = c['provider']
    attrs['gen_ai.request.model'] = c['request_model']
    attrs['gen_ai.request.max_tokens'] = 4096
    attrs['gen_ai.request.temperature'] = 0.7
    if conversation and version != 'v1.26':
        attrs['gen_ai.conversation.id'] = conversation
    if c['server']:
        attrs['server.address'] = c['server']
        attrs['server.port'] = 443
    if c['streaming'] and version in ('v1.37', 'latest'):
        attrs['gen_ai.request.stream'] = True
    attrs.update(extra or {})
    span = ctx.sdk.start(service, scope, f'{op} {c["request_model"]}', kind, c['t'], attrs, parent=parent)
    if c['ok']:
        span.set_attribute('gen_ai.response.model', c['response_model'])
        span.set_attribute('gen_ai.response.id', response_id(ctx, c))
        span.set_attribute('gen_ai.response.finish_reasons', [finish(c, tool)])
        if c['streaming'] and version in ('v1.37', 'latest'):
            span.set_attribute('gen_ai.response.time_to_first_chunk', c['ttft'])
        if c['usage_reported']:
            if version == 'v1.26':
                span.set_attribute('gen_ai.usage.prompt_tokens', c['input'])
                span.set_attribute('gen_ai.usage.completion_tokens', c['output'])
            else:
                span.set_attribute('gen_ai.usage.input_tokens', c['input'])
                span.set_attribute('gen_ai.usage.output_tokens', c['output'])
            if version in ('v1.37', 'latest'):
                if c['cache_read']:
                    span.set_attribute('gen_ai.usage.cache_read.input_tokens', c['cache_read'])
                if c['cache_write']:
                    name = 'cache_write' if version == 'latest' else 'cache_creation'
                    span.set_attribute(f'gen_ai.usage.{name}.input_tokens', c['cache_write'])
                if c['reasoning']:
                    span.set_attribute('gen_ai.usage.reasoning.output_tokens', c['reasoning'])
        ctx.sdk.end(span, c['t'] + c['dur'])
    else:
        span.set_attribute('error.type', c['error_type'])
        ctx.sdk.end(span, c['t'] + c['dur'], error=c['error_message'], events=ctx.error_event(c))
    return span


# =============================================================== OTel GenAI semconv services

def semconv_v126(ctx):
    """support-bot: a short session of independent requests (no conversation id)."""
    rng, sdk = ctx.rng, ctx.sdk
    t = ctx.anchor
    for _ in range(rng.randint(1, 3)):
        alias = _pick(rng, [('gpt-4o-mini', 70), ('gpt-4o', 30)])
        root = sdk.start('support-bot', ('opentelemetry.instrumentation.fastapi', '0.47b0'), 'POST /v1/answer',
                         'server', t, {'http.request.method': 'POST', 'http.route': '/v1/answer',
                                       'http.response.status_code': 200})
        c = ctx.draw(alias, t + rng.randint(5, 40) * MS, prompt_base=rng.randint(300, 1500))
        span = _semconv_span(ctx, 'support-bot', ('opentelemetry.instrumentation.openai_v2', '2.0b0'), c, root,
                             'v1.26')
        ctx.record(c, span, 'support-bot', 'semconv-v1.26', None, 'support-bot',
                   [('support-bot', metric_attrs('system', c))])
        end = c['t'] + c['dur'] + rng.randint(3, 15) * MS
        if not c['ok']:
            root.set_attribute('http.response.status_code', 502)
        sdk.end(root, end, error=None if c['ok'] else 'Bad Gateway')
        t = end + int(rng.lognormvariate(math.log(20), 1.2) * S)


def semconv_v127(ctx):
    """assistant-api: a conversation (gen_ai.conversation.id) of agent turns; the invoke_agent
    span repeats the sum of its chat spans' tokens (double counting if summed)."""
    rng, sdk = ctx.rng, ctx.sdk
    conv = ctx.hexid(24, 'conv_')
    ctx.conversations[conv] = 'semconv-v1.27'
    alias = _pick(rng, [('gpt-4.1', 40), ('gpt-4.1-mini', 35), ('gpt-4.1-nano', 15), ('claude-3-5-haiku', 10)])
    scope = ('opentelemetry.instrumentation.openai_v2', '2.1b0')
    history, t, cache = 0, ctx.anchor, {}
    prompt_base = rng.randint(600, 3000)
    for _ in range(rng.randint(1, 4)):
        root = sdk.start('assistant-api', ('opentelemetry.instrumentation.flask', '0.50b0'), 'POST /v1/assistant',
                         'server', t, {'http.request.method': 'POST', 'http.route': '/v1/assistant',
                                       'http.response.status_code': 200})
        agent_start = t + rng.randint(3, 20) * MS
        agent = sdk.start('assistant-api', scope, 'invoke_agent Planner', 'internal', agent_start, {
            'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Planner',
            'gen_ai.agent.id': 'asst_planner_01', 'gen_ai.system': MODELS[alias].provider,
            'gen_ai.conversation.id': conv}, parent=root)
        cursor, totals, ok = agent_start + 5 * MS, [0, 0], True
        steps = rng.randint(1, 3)
        for step in range(steps):
            c = ctx.draw(alias, cursor, history=history, prompt_base=prompt_base, cache=cache)
            span = _semconv_span(ctx, 'assistant-api', scope, c, agent, 'v1.27', conversation=conv,
                                 tool=step < steps - 1)
            ctx.record(c, span, 'assistant-api', 'semconv-v1.27', conv, 'assistant-api',
                       [('assistant-api', metric_attrs('system', c))])
            cursor = c['t'] + c['dur']
            if not c['ok']:
                ok = False
                break
            totals[0] += c['input']
            totals[1] += c['output']
            history += c['output']
            if step < steps - 1:
                tool = sdk.start('assistant-api', scope, 'execute_tool get_weather', 'internal', cursor + MS, {
                    'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather',
                    'gen_ai.tool.call.id': ctx.hexid(24, 'call_'), 'gen_ai.tool.type': 'function'}, parent=agent)
                cursor += rng.randint(40, 400) * MS
                sdk.end(tool, cursor)
                history += rng.randint(30, 300)
        if ok:
            agent.set_attribute('gen_ai.usage.input_tokens', totals[0])
            agent.set_attribute('gen_ai.usage.output_tokens', totals[1])
        sdk.end(agent, cursor + 2 * MS, error=None if ok else 'agent step failed')
        end = cursor + rng.randint(3, 12) * MS
        sdk.end(root, end)
        history += rng.randint(20, 400)
        t = end + int(rng.lognormvariate(math.log(45), 1.0) * S)


def semconv_latest(ctx):
    """docs-agent: newest names; workflow -> agent -> retrieval + chat calls; event logs."""
    rng, sdk = ctx.rng, ctx.sdk
    conv = ctx.hexid(24, 'conv_')
    ctx.conversations[conv] = 'semconv-latest'
    version = 'latest' if rng.random() < 0.5 else 'v1.37'
    alias = _pick(rng, [('claude-sonnet-4-5', 40), ('gpt-4.1', 20), ('o3-mini', 20), ('gemini-2.5-pro', 20)])
    scope = ('opentelemetry.instrumentation.genai', '0.3b0')
    history, t, cache = 0, ctx.anchor, {}
    prompt_base = rng.randint(1200, 6000)
    for _ in range(rng.randint(1, 4)):
        wf = sdk.start('docs-agent', scope, 'invoke_workflow docs_qa', 'internal', t, {
            'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'docs_qa',
            'gen_ai.conversation.id': conv})
        agent = sdk.start('docs-agent', scope, 'invoke_agent DocsAgent', 'internal', t + MS, {
            'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'DocsAgent',
            'gen_ai.agent.version': '3', 'gen_ai.conversation.id': conv}, parent=wf)
        r_start = t + rng.randint(2, 10) * MS
        retrieval = sdk.start('docs-agent', scope, 'retrieval docs-index', 'client', r_start, {
            'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'docs-index',
            'gen_ai.retrieval.top_k': 8}, parent=agent)
        cursor = r_start + int(rng.lognormvariate(math.log(0.12), 0.5) * S)
        sdk.end(retrieval, cursor)
        history += rng.randint(800, 4000)        # retrieved chunks
        totals, ok = [0, 0], True
        for step in range(rng.randint(1, 2)):
            c = ctx.draw(alias, cursor + MS, history=history, prompt_base=prompt_base, streaming=True,
                         cache=cache)
            ctx.usage_missing(c)
            extra = {'openai.api.type': 'chat_completions'} if c['provider'] == 'openai' else {}
            span = _semconv_span(ctx, 'docs-agent', scope, c, agent, version, conversation=conv, extra=extra)
            ctx.record(c, span, 'docs-agent', 'semconv-latest', conv, 'docs-agent',
                       [('docs-agent', metric_attrs('semconv', c))])
            cursor = c['t'] + c['dur']
            if c['ok'] and rng.random() < 0.3:
                details = {k: v for k, v in span.attributes.items()}
                details['gen_ai.input.messages'] = json.dumps(
                    [{'role': 'user', 'parts': [{'type': 'text', 'content': 'How do I rotate the API key?'}]}])
                details['gen_ai.output.messages'] = json.dumps(
                    [{'role': 'assistant', 'parts': [{'type': 'text', 'content': 'Open Settings > Keys ...'}],
                      'finish_reason': finish(c)}])
                sdk.log('docs-agent', scope, cursor, None, details, span, 'info',
                        event_name='gen_ai.client.inference.operation.details')
            if not c['ok']:
                sdk.log('docs-agent', scope, cursor, None, {
                    'exception.type': c['error_type'], 'exception.message': c['error_message'],
                    'gen_ai.provider.name': c['provider'], 'gen_ai.request.model': c['request_model']},
                    span, 'error', event_name='gen_ai.client.operation.exception')
                ok = False
                break
            if c['usage_reported']:     # the framework only sums the usage it saw
                totals[0] += c['input']
                totals[1] += c['output']
            history += c['output']
        if ok and totals[0]:
            agent.set_attribute('gen_ai.usage.input_tokens', totals[0])
            agent.set_attribute('gen_ai.usage.output_tokens', totals[1])
        sdk.end(agent, cursor + MS, error=None if ok else 'inference failed')
        end = cursor + 2 * MS
        sdk.end(wf, end)
        t = end + int(rng.lognormvariate(math.log(90), 0.8) * S)


# =============================================================== OpenLLMetry

def openllmetry(ctx):
    """research-agent: traceloop workflow/task spans; the Anthropic instrumentation still on the
    old names (gen_ai.system 'Anthropic', prompt/completion_tokens), the OpenAI one on the new."""
    rng, sdk = ctx.rng, ctx.sdk
    session = ctx.hexid(16, 'sess-')
    ctx.conversations[session] = 'openllmetry'
    user = rng.choice(USERS)
    assoc = {'traceloop.association.properties.session_id': session,
             'traceloop.association.properties.user_id': user,
             'traceloop.workflow.name': 'research'}
    sdk_scope = ('traceloop.sdk', '0.62.1')
    t, cache, history = ctx.anchor, {}, 0
    ttl_1h = rng.random() < 0.5
    for _ in range(rng.randint(1, 3)):
        wf = sdk.start('research-agent', sdk_scope, 'research.workflow', 'internal', t, {
            **assoc, 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'research',
            'traceloop.entity.path': ''})
        cursor, totals, ok = t + 2 * MS, [0, 0], True
        plan = [('plan', 'claude-sonnet-4-5'), ('search', 'claude-sonnet-4-5'),
                ('summarize', _pick(rng, [('gpt-4o', 60), ('gpt-4o-mini', 40)]))]
        for task_name, alias in plan[:rng.randint(2, 3)]:
            task = sdk.start('research-agent', sdk_scope, f'{task_name}.task', 'internal', cursor, {
                **assoc, 'traceloop.span.kind': 'task', 'traceloop.entity.name': task_name,
                'traceloop.entity.path': 'research'}, parent=wf)
            c = ctx.draw(alias, cursor + MS, history=history, prompt_base=2500, cache=cache, cache_ttl_1h=ttl_1h)
            if c['provider'] == 'anthropic':
                span = _openllmetry_old(ctx, c, task, assoc)
            else:
                span = _openllmetry_new(ctx, c, task, assoc)
            ctx.record(c, span, 'research-agent', 'openllmetry', session, 'research-agent',
                       [('research-agent', metric_attrs('system', c))])
            cursor = c['t'] + c['dur'] + MS
            sdk.end(task, cursor, error=None if c['ok'] else c['error_type'])
            if not c['ok']:
                ok = False
                break
            totals[0] += c['input']
            totals[1] += c['output']
            history += c['output'] // 2
        if ok:   # the workflow span repeats its children's tokens (new names)
            wf.set_attribute('gen_ai.usage.input_tokens', totals[0])
            wf.set_attribute('gen_ai.usage.output_tokens', totals[1])
        end = cursor + MS
        sdk.end(wf, end, error=None if ok else 'task failed')
        t = end + int(rng.lognormvariate(math.log(300), 0.8) * S)


def _openllmetry_old(ctx, c, parent, assoc):
    attrs = {**assoc, 'gen_ai.system': 'Anthropic', 'llm.request.type': 'chat',
             'gen_ai.request.model': c['request_model'], 'gen_ai.request.max_tokens': 4096,
             'llm.is_streaming': False}
    span = ctx.sdk.start('research-agent', ('opentelemetry.instrumentation.anthropic', '0.47.3'),
                         'anthropic.chat', 'client', c['t'], attrs, parent=parent)
    if c['ok']:
        span.set_attributes({
            'gen_ai.response.model': c['response_model'], 'gen_ai.response.id': response_id(ctx, c),
            'gen_ai.usage.prompt_tokens': c['input'], 'gen_ai.usage.completion_tokens': c['output'],
            'gen_ai.usage.cache_read_input_tokens': c['cache_read'],
            'gen_ai.usage.cache_creation_input_tokens': c['cache_write'],
            'llm.usage.total_tokens': c['input'] + c['output'],
            'gen_ai.completion.0.finish_reason': finish(c), 'gen_ai.completion.0.role': 'assistant'})
        ctx.sdk.end(span, c['t'] + c['dur'])
    else:
        span.set_attribute('error.type', c['error_type'])
        ctx.sdk.end(span, c['t'] + c['dur'], error=c['error_message'], events=ctx.error_event(c))
    return span


def _openllmetry_new(ctx, c, parent, assoc):
    attrs = {**assoc, 'gen_ai.provider.name': c['provider'], 'gen_ai.operation.name': 'chat',
             'gen_ai.request.model': c['request_model'], 'gen_ai.is_streaming': False}
    span = ctx.sdk.start('research-agent', ('opentelemetry.instrumentation.openai', '0.62.1'),
                         'openai.chat', 'client', c['t'], attrs, parent=parent)
    if c['ok']:
        span.set_attributes({
            'gen_ai.response.model': c['response_model'], 'gen_ai.response.id': response_id(ctx, c),
            'gen_ai.usage.input_tokens': c['input'], 'gen_ai.usage.output_tokens': c['output'],
            'gen_ai.usage.total_tokens': c['input'] + c['output'],
            'gen_ai.usage.cache_read.input_tokens': c['cache_read'],
            'gen_ai.usage.reasoning_tokens': c['reasoning'],
            'gen_ai.response.finish_reasons': [finish(c)]})
        ctx.sdk.end(span, c['t'] + c['dur'])
    else:
        span.set_attribute('error.type', c['error_type'])
        ctx.sdk.end(span, c['t'] + c['dur'], error=c['error_message'], events=ctx.error_event(c))
    return span


# =============================================================== OpenInference (RAG + evals)

OI_CHAIN_SCOPE = ('openinference.instrumentation.llama_index', '4.3.0')
RAG_QUESTION = 'What is our refund policy for EU orders?'
OI_SCOPES = {'openai': ('openinference.instrumentation.openai', '0.1.30'),
             'anthropic': ('openinference.instrumentation.anthropic', '0.1.19')}


def openinference(ctx):
    rng, sdk = ctx.rng, ctx.sdk
    session = ctx.hexid(16, 'sess_')
    ctx.conversations[session] = 'openinference'
    user = rng.choice(USERS)
    ids = {'session.id': session, 'user.id': user}
    alias = _pick(rng, [('gpt-4.1-mini', 50), ('gpt-4o-mini', 30), ('claude-3-5-haiku', 20)])
    t, history = ctx.anchor, 0
    for _ in range(rng.randint(1, 4)):
        root = sdk.start('rag-api', OI_CHAIN_SCOPE, 'query', 'internal', t, {
            'openinference.span.kind': 'CHAIN', **ids, 'input.value': RAG_QUESTION,
            'input.mime_type': 'text/plain'})
        r_start = t + 2 * MS
        retrieve = sdk.start('rag-api', OI_CHAIN_SCOPE, 'rag.retrieve', 'internal', r_start, {
            'openinference.span.kind': 'RETRIEVER', **ids, 'retrieval.top_k': 5}, parent=root)
        cursor = r_start + int(rng.lognormvariate(math.log(0.08), 0.6) * S)
        sdk.end(retrieve, cursor)
        gen = sdk.start('rag-api', OI_CHAIN_SCOPE, 'rag.generate', 'internal', cursor + MS, {
            'openinference.span.kind': 'CHAIN', **ids}, parent=root)
        c = ctx.draw(alias, cursor + 2 * MS, history=history, prompt_base=rng.randint(1500, 5000))
        llm = _openinference_llm(ctx, c, gen, ids)
        ctx.record(c, llm, 'rag-api', 'openinference', session, 'rag-api', [])
        cursor = c['t'] + c['dur'] + MS
        if c['ok']:     # the CHAIN span repeats its child's token counts
            gen.set_attributes({'llm.token_count.prompt': c['input'], 'llm.token_count.completion': c['output'],
                                'llm.token_count.total': c['input'] + c['output']})
        sdk.end(gen, cursor, error=None if c['ok'] else c['error_type'])
        if c['ok']:
            cursor = _evaluations(ctx, root, llm, c, cursor, ids)
            history += c['output']
        end = cursor + MS
        sdk.end(root, end, error=None if c['ok'] else c['error_type'])
        t = end + int(rng.lognormvariate(math.log(40), 1.0) * S)


def _openinference_llm(ctx, c, parent, ids, name='ChatCompletion', links=(), keep_open=False):
    """An OpenInference LLM span; keep_open leaves a successful call's span open for more attributes."""
    provider = c['provider']
    attrs = {'openinference.span.kind': 'LLM', **ids, 'llm.provider': provider, 'llm.system': provider,
             'llm.model_name': c['response_model'] if c['ok'] else c['request_model'],
             'llm.invocation_parameters': json.dumps({'model': c['request_model'], 'temperature': 0.2})}
    span = ctx.sdk.start('rag-api', OI_SCOPES.get(provider, OI_SCOPES['openai']), name, 'internal', c['t'],
                         attrs, parent=parent, links=links)
    if c['ok']:
        span.set_attributes({
            'llm.token_count.prompt': c['input'], 'llm.token_count.completion': c['output'],
            'llm.token_count.total': c['input'] + c['output'],
            'llm.token_count.prompt_details.cache_read': c['cache_read'],
            'llm.cost.total': _cost(c['price_key'], c['input'], c['output'], c['cache_read'], c['cache_write']),
            'llm.finish_reason': finish(c), 'output.mime_type': 'text/plain'})
        if c['cache_write']:
            span.set_attribute('llm.token_count.prompt_details.cache_write', c['cache_write'])
        if not keep_open:
            ctx.sdk.end(span, c['t'] + c['dur'], ok=True)
    else:
        span.set_attribute('error.type', c['error_type'])
        ctx.sdk.end(span, c['t'] + c['dur'], error=c['error_message'], events=ctx.error_event(c))
    return span


# Evaluators of the RAG answers, each on its own scale: name -> (low, high).
EVALUATORS = {'grounded': (0.0, 1.0), 'relevance': (1, 5), 'hallucination': (0.0, 1.0)}
# How an instrumentation reports a result: a gen_ai.evaluation.result event on
# the evaluated span, an OpenInference EVALUATOR span linked to it, or the
# judge's own LLM span carrying the result and linked to it.
EVALUATION_SHAPES = ('event', 'evaluator_span', 'judge_span')
JUDGE_ALIAS = 'gpt-4.1-mini'


def _evaluations(ctx, root, evaluated, c_evaluated, cursor, ids):
    """LLM-as-judge: grounded (0..1) and relevance (1..5), one judge call each, plus a
    hallucination flag derived from grounded; each result in one of EVALUATION_SHAPES."""
    rng, erng, sdk = ctx.rng, ctx.eval_rng, ctx.sdk
    grounded_score = None
    for name in ('grounded', 'relevance'):
        shape = EVALUATION_SHAPES[erng.randrange(len(EVALUATION_SHAPES))]
        started = cursor
        link = [(evaluated, {'llmwh.link.type': 'evaluates'})]
        ev = None
        parent = root
        if shape == 'evaluator_span':
            ev = sdk.start('rag-api', OI_CHAIN_SCOPE, f'evaluate {name}', 'internal', cursor, {
                'openinference.span.kind': 'EVALUATOR', **ids, 'metadata.evaluator_name': name},
                parent=root, links=link)
            parent = ev
        else:   # the span id an evaluator span takes, so later spans' ids do not depend on the shape
            sdk.ids.generate_span_id()
        c = ctx.draw(JUDGE_ALIAS, cursor + MS, prompt_base=900, new_median=600, out_median=60,
                     allow_unknown=False)
        judge = _openinference_llm(ctx, c, parent, ids, name='JudgeCompletion',
                                   links=link if shape == 'judge_span' else (), keep_open=shape == 'judge_span')
        ctx.record(c, judge, 'rag-api', 'openinference', ids['session.id'], 'rag-api', [])
        cursor = c['t'] + c['dur'] + MS
        if not c['ok']:
            if ev is not None:
                sdk.end(ev, cursor, error=c['error_type'])
            continue
        judged = min(1.0, max(0.0, rng.betavariate(6, 1.6)))
        if name == 'grounded':
            score = grounded_score = round(judged, 3)
            label = 'pass' if score >= 0.7 else 'fail'
        else:
            score = min(5, max(1, round(1 + 4 * judged + erng.gauss(0, 0.8))))
            label = 'relevant' if score >= 3 else 'irrelevant'
        # Judges quote what they judged: an explanation is content, like the prompt.
        explanation = f'{label}: the answer to "{RAG_QUESTION}" judged for {name} by {JUDGE_ALIAS}'
        if shape == 'event':
            _evaluation_event(ctx, name, score, label, explanation, evaluated, c_evaluated, cursor)
        elif shape == 'judge_span':
            attrs, score_out, label_out, issue = _result_attributes(ctx, 'gen_ai.evaluation.', name, score, label,
                                                                   explanation)
            judge.set_attributes(attrs)
            sdk.end(judge, c['t'] + c['dur'], ok=True)
            _plant(ctx, name, shape, score_out, label_out, issue, evaluated, c_evaluated, c['t'], judge)
        else:
            attrs, score_out, label_out, issue = _result_attributes(ctx, 'metadata.', name, score, label,
                                                                   explanation)
            ev.set_attributes(attrs)
            sdk.end(ev, cursor)
            _plant(ctx, name, shape, score_out, label_out, issue, evaluated, c_evaluated, started, ev)
    if grounded_score is not None:
        hallucinated = grounded_score < 0.7     # the answer failed grounding
        label = 'hallucinated' if hallucinated else 'faithful'
        _evaluation_event(ctx, 'hallucination', 1.0 if hallucinated else 0.0, label,
                          f'the answer to "{RAG_QUESTION}" is '
                          + ('not supported by the retrieved context' if hallucinated else 'supported'),
                          evaluated, c_evaluated, cursor + MS, severity='warn' if hallucinated else 'info')
    return cursor + 2 * MS


def _result_attributes(ctx, prefix, name, score, label, explanation):
    """The result attributes under gen_ai.evaluation.* or OpenInference's metadata.*, with the
    bad_evaluations fault (a score that is not a number, or no label): (attrs, score, label, issue)."""
    erng = ctx.eval_rng
    bad = erng.random() < FAULT_RATES['bad_evaluations'] and 'bad_evaluations' in ctx.faults
    kind = erng.random()            # always drawn: the fault switch changes nothing else
    names = ({'name': 'gen_ai.evaluation.name', 'score': 'gen_ai.evaluation.score.value',
              'label': 'gen_ai.evaluation.score.label', 'explanation': 'gen_ai.evaluation.explanation'}
             if prefix == 'gen_ai.evaluation.' else
             {'name': 'metadata.evaluator_name', 'score': 'metadata.score', 'label': 'metadata.label',
              'explanation': 'metadata.explanation'})
    attrs = {names['name']: name, names['score']: score, names['label']: label,
             names['explanation']: explanation}
    issue = None
    if bad:
        ctx.count('bad_evaluations')
        if kind < 0.5:
            attrs[names['score']], score, issue = 'n/a', None, 'score_not_numeric'
        else:
            del attrs[names['label']]
            label, issue = None, 'label_missing'
    return attrs, score, label, issue


def _evaluation_event(ctx, name, score, label, explanation, evaluated, c_evaluated, at, severity='info'):
    """A gen_ai.evaluation.result event (a log record in the evaluated span's context)."""
    attrs, score, label, issue = _result_attributes(ctx, 'gen_ai.evaluation.', name, score, label, explanation)
    ctx.sdk.log('rag-api', OI_CHAIN_SCOPE, at, None, attrs, evaluated, severity,
                event_name='gen_ai.evaluation.result')
    _plant(ctx, name, 'event', score, label, issue, evaluated, c_evaluated, at, None)


def _plant(ctx, name, shape, score, label, issue, evaluated, c_evaluated, at, result_span):
    """The truth of one evaluation result (manifest.py: truth_evaluations.jsonl)."""
    target = evaluated.get_span_context()
    ctx.evaluations.append({
        'evaluation_name': name, 'shape': shape, 'score_value': score, 'score_label': label, 'issue': issue,
        'trace': f'{target.trace_id:032x}', 'evaluated_span': f'{target.span_id:016x}',
        'result_span': f'{result_span.get_span_context().span_id:016x}' if result_span is not None else None,
        't': at, 'provider': c_evaluated['provider'], 'response_model': c_evaluated['response_model']})


# =============================================================== LiteLLM proxy

LITELLM_ROUTES = [
    # (requested model name, upstream alias, upstream provider (truth), weight)
    ('gpt-4o', 'gpt-4o', 'openai', 25), ('fast', 'gpt-4o-mini', 'openai', 25),
    ('smart', 'claude-sonnet-4-5', 'anthropic', 20), ('gemini-2.5-flash', 'gemini-2.5-flash', 'gcp.vertex_ai', 15),
    ('gpt-4.1', 'gpt-4.1', 'openai', 15),
]
LITELLM_SCOPE = ('litellm', '1.79.0')


def litellm(ctx):
    rng, sdk = ctx.rng, ctx.sdk
    t = ctx.anchor
    key_hash, key_alias, team_id, team_alias = rng.choice(LITELLM_KEYS)
    end_user = rng.choice(USERS)
    via_app = rng.random() < 0.5
    for _ in range(rng.randint(1, 3)):
        requested, alias, provider, _w = _pick(rng, [(r, r[3]) for r in LITELLM_ROUTES])
        snapshot = MODELS[alias].snapshot
        self_hosted = ctx.on('unknown_models')
        streaming = rng.random() < 0.4
        parent, app_span = None, None
        cursor = t
        if via_app:
            app_root = sdk.start('copilot-app', HTTP_SCOPE, 'POST /api/complete', 'server', t, {
                'http.request.method': 'POST', 'http.route': '/api/complete', 'http.response.status_code': 200})
            cursor = t + rng.randint(2, 10) * MS
        c = ctx.draw(alias, cursor + 4 * MS, prompt_base=rng.randint(200, 3000), streaming=streaming,
                     allow_unknown=False, timeout_s=120, provider=provider, snapshot=snapshot)
        if self_hosted:     # same draws as the route it replaces, then re-labelled
            requested = c['alias'] = c['price_key'] = SELF_HOSTED[1]
            provider = c['provider'] = SELF_HOSTED[0]
            c['response_model'] = SELF_HOSTED[2]
            c.update(cache_read=0, cache_write=0, cache_write_1h=0, reasoning=0)
            ctx.count('unknown_models')
        c['request_model'] = requested
        c['server'] = 'litellm-proxy.internal'
        if via_app:   # the app's own OpenAI-compatible client span (semconv), same tokens
            app_span = sdk.start('copilot-app', ('@opentelemetry/instrumentation-openai', '0.4.0'),
                                 f'chat {requested}', 'client', cursor, {
                                     'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
                                     'gen_ai.request.model': requested, 'server.address': 'litellm-proxy.internal',
                                     'server.port': 4000, **({'gen_ai.request.stream': True} if streaming else {})},
                                 parent=app_root)
            parent = app_span
        proxy_start = c['t'] - 3 * MS
        proxy = sdk.start('litellm-proxy', LITELLM_SCOPE, 'Received Proxy Server Request', 'server', proxy_start, {
            'http.request.method': 'POST', 'http.route': '/chat/completions'}, parent=parent)
        request = sdk.start('litellm-proxy', LITELLM_SCOPE, 'litellm_request', 'internal', c['t'], {
            'gen_ai.system': LITELLM_SLUG[provider], 'gen_ai.request.model': requested,
            'llm.request.type': 'acompletion', 'gen_ai.operation.name': 'acompletion',
            'llm.is_streaming': str(streaming), 'gen_ai.request.id': ctx.hexid(32),
            'metadata.user_api_key_hash': key_hash, 'metadata.user_api_key_alias': key_alias,
            'metadata.user_api_key_team_id': team_id, 'metadata.user_api_key_team_alias': team_alias,
            'metadata.user_api_key_end_user_id': end_user, 'metadata.user_api_key_user_id': '',
            'gen_ai.request.max_tokens': 4096}, parent=proxy)
        end = c['t'] + c['dur']
        if c['ok']:
            cost = _cost(c['price_key'], c['input'], c['output'], c['cache_read'], c['cache_write'])
            request.set_attributes({
                'gen_ai.response.model': c['response_model'], 'gen_ai.response.id': response_id(ctx, c),
                'gen_ai.usage.input_tokens': c['input'], 'gen_ai.usage.output_tokens': c['output'],
                'gen_ai.usage.total_tokens': c['input'] + c['output'],
                'gen_ai.response.finish_reasons': json.dumps([finish(c)]),
                'gen_ai.cost.total_cost': cost,
                'hidden_params': json.dumps({'model_id': ctx.hexid(16), 'api_base': f'https://{provider}.upstream',
                                             'response_cost': cost, 'litellm_overhead_time_ms': 3.1},
                                            separators=(',', ':'))})
            sdk.end(request, end, ok=True)
            sdk.end(proxy, end + 2 * MS, ok=True)
        else:
            request.set_attributes({'error.type': c['error_type'], 'error.code': str(c['http_status'] or 408),
                                    'error.message': c['error_message'], 'error.llm_provider': LITELLM_SLUG[provider]})
            sdk.end(request, end, error=f'{c["error_type"]}: {c["error_message"]}', events=ctx.error_event(c))
            sdk.end(proxy, end + 2 * MS, error=c['error_type'])
        metrics = [('litellm-proxy', metric_attrs('litellm', c, (('metadata.user_api_key_team_alias', team_alias),)))]
        if via_app:
            app_c = dict(c, provider='openai', server='litellm-proxy.internal')
            app_usage = True    # the app's stream may lack usage; the proxy span still has it
            if c['ok'] and streaming and ctx.on('usage_missing'):
                app_usage = False
                ctx.count('usage_missing')
            if c['ok']:
                app_span.set_attribute('gen_ai.response.model', c['response_model'])
                app_span.set_attribute('gen_ai.response.finish_reasons', [finish(c)])
                if streaming:
                    app_span.set_attribute('gen_ai.response.time_to_first_chunk', c['ttft'] + 0.004)
                if app_usage:
                    app_span.set_attribute('gen_ai.usage.input_tokens', c['input'])
                    app_span.set_attribute('gen_ai.usage.output_tokens', c['output'])
                sdk.end(app_span, end + 4 * MS)
            else:
                app_span.set_attribute('error.type', str(c['http_status'] or 'timeout'))
                sdk.end(app_span, end + 4 * MS, error=c['error_message'])
            metrics.append(('copilot-app', metric_attrs('semconv', app_c), app_usage))
            sdk.end(app_root, end + 6 * MS)
        ctx.record(c, request, 'litellm-proxy', 'litellm', None, 'litellm-proxy', metrics)
        t = end + int(rng.lognormvariate(math.log(30), 1.2) * S)


FLAVOUR_FUNCTIONS = {
    'librechat': librechat, 'semconv-v1.26': semconv_v126, 'semconv-v1.27': semconv_v127,
    'semconv-latest': semconv_latest, 'openllmetry': openllmetry, 'openinference': openinference,
    'litellm': litellm,
}
