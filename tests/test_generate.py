"""`llmwh generate`: determinism, OTLP/JSON validity, flavour coverage, and the manifest's
truth recomputed here from the files (spans, logs, metric points, billing exports)."""

import base64
import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from conftest import llmwh
from llmwh.generate import GenerateOptions, generate, parse_faults

START = '2026-03-02'
START_DT = datetime(2026, 3, 2, tzinfo=timezone.utc)
TOKEN_KEYS = (('gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'),
              ('gen_ai.usage.prompt_tokens', 'gen_ai.usage.completion_tokens'),
              ('llm.token_count.prompt', 'llm.token_count.completion'))
SEMCONV_TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                        16777216, 67108864]
SEMCONV_DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                           40.96, 81.92]
HEX32, HEX16 = re.compile(r'^[0-9a-f]{32}$'), re.compile(r'^[0-9a-f]{16}$')


def run(out, **kw):
    opts = dict(out=Path(out), days=3, start=START_DT, seed=7, conversations=40, metric_interval_s=21600)
    opts.update(kw)
    return generate(GenerateOptions(**opts), echo=lambda m: None)


# ------------------------------------------------------------------ reading the files (independently)

def _lines(path):
    path = Path(path)
    if not path.exists():
        path = Path(str(path) + '.gz')
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rt') as fh:
        return [line for line in fh.read().splitlines() if line]


def _b64_ids(obj, keys=('traceId', 'spanId', 'parentSpanId')):
    for k in keys:
        if obj.get(k):
            obj[k] = base64.b64encode(bytes.fromhex(obj[k])).decode()


def parse_otlp(line, cls):
    """OTLP/JSON (hex ids) -> proto via json_format, after the hex -> base64 id fix-up."""
    doc = json.loads(line)
    for rs in doc.get('resourceSpans', ()):
        for ss in rs.get('scopeSpans', ()):
            for span in ss.get('spans', ()):
                _b64_ids(span)
                for link in span.get('links', ()):
                    _b64_ids(link)
    for rl in doc.get('resourceLogs', ()):
        for sl in rl.get('scopeLogs', ()):
            for rec in sl.get('logRecords', ()):
                _b64_ids(rec)
    for rm in doc.get('resourceMetrics', ()):
        for sm in rm.get('scopeMetrics', ()):
            for m in sm.get('metrics', ()):
                for kind in ('histogram', 'sum'):
                    for p in m.get(kind, {}).get('dataPoints', ()):
                        for ex in p.get('exemplars', ()):
                            _b64_ids(ex)
    return json_format.ParseDict(doc, cls())


def value(v):
    kind = v.get('stringValue'), v.get('intValue'), v.get('doubleValue'), v.get('boolValue')
    if 'stringValue' in v:
        return v['stringValue']
    if 'intValue' in v:
        return int(v['intValue'])
    if 'doubleValue' in v:
        return float(v['doubleValue'])
    if 'boolValue' in v:
        return v['boolValue']
    if 'arrayValue' in v:
        return [value(x) for x in v['arrayValue'].get('values', [])]
    if 'kvlistValue' in v:
        return {kv['key']: value(kv['value']) for kv in v['kvlistValue'].get('values', [])}
    return kind


def attrs(obj):
    return {kv['key']: value(kv['value']) for kv in obj.get('attributes', [])}


def spans(out, files=('traces.jsonl', 'traces.late.jsonl')):
    rows = []
    for name in files:
        for line in _lines(Path(out) / name):
            for rs in json.loads(line)['resourceSpans']:
                res = attrs(rs['resource'])
                for ss in rs['scopeSpans']:
                    for s in ss['spans']:
                        rows.append(dict(s, res=res, scope=ss['scope'].get('name'), a=attrs(s), line=line))
    return rows


def logs(out, files=('logs.jsonl', 'logs.late.jsonl')):
    rows = []
    for name in files:
        for line in _lines(Path(out) / name):
            for rl in json.loads(line)['resourceLogs']:
                res = attrs(rl['resource'])
                for sl in rl['scopeLogs']:
                    for r in sl['logRecords']:
                        rows.append(dict(r, res=res, a=attrs(r), body=value(r.get('body', {}))))
    return rows


def metric_points(out):
    rows = []
    for line in _lines(Path(out) / 'metrics.jsonl'):
        for rm in json.loads(line)['resourceMetrics']:
            res = attrs(rm['resource'])
            for sm in rm['scopeMetrics']:
                for m in sm['metrics']:
                    for kind in ('histogram', 'sum', 'gauge'):
                        for p in m.get(kind, {}).get('dataPoints', []):
                            rows.append(dict(p, res=res, name=m['name'], kind=kind,
                                             temporality=m[kind].get('aggregationTemporality'), a=attrs(p)))
    return rows


def unique(rows):
    """One delivery per (traceId, spanId): collector retries wrote some twice."""
    seen = {}
    for s in rows:
        seen.setdefault((s['traceId'], s['spanId']), s)
    return list(seen.values())


def tokens(a):
    for inp, out in TOKEN_KEYS:
        if inp in a:
            return a[inp], a[out]
    return None


def leaf_token_spans(rows):
    """Spans reporting tokens with no descendant reporting tokens (the leaf inference calls)."""
    by_id = {(s['traceId'], s['spanId']): s for s in rows}
    has_token_descendant = set()
    for s in rows:
        if tokens(s['a']) is None:
            continue
        parent = s.get('parentSpanId')
        while parent:
            key = (s['traceId'], parent)
            has_token_descendant.add(key)
            parent = by_id[key].get('parentSpanId') if key in by_id else None
    return [s for s in rows if tokens(s['a']) is not None and (s['traceId'], s['spanId']) not in has_token_descendant]


def truth_conversations(out):
    return {row['conversation_id']: row for row in map(json.loads, _lines(Path(out) / 'truth_conversations.jsonl'))}


def day_of(ns):
    return datetime.fromtimestamp(int(ns) / 1e9, timezone.utc).strftime('%Y-%m-%d')


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope='module')
def full(tmp_path_factory):
    """All faults on, produced through the CLI."""
    out = tmp_path_factory.mktemp('gen_full')
    proc = llmwh('generate', '--out', str(out), '--days', '3', '--start', START, '--seed', '7',
                 '--conversations', '70', '--metric-interval', '21600', check=True)
    assert 'Wrote' in proc.stderr
    return out, json.loads((out / 'manifest.json').read_text())


@pytest.fixture(scope='module')
def unsampled(tmp_path_factory):
    """Every fault except sampling: every trace is written, so span sums are exact."""
    out = tmp_path_factory.mktemp('gen_unsampled')
    return out, run(out, conversations=60, faults=parse_faults(None, ['sampling']))


@pytest.fixture(scope='module')
def replicated(tmp_path_factory):
    """A small SDK budget, the rest replicated; duplicates off so ids must be unique."""
    out = tmp_path_factory.mktemp('gen_replicated')
    return out, run(out, conversations=150, sdk_spans=400, faults=parse_faults(None, ['duplicates']))


# ------------------------------------------------------------------ determinism

def test_same_seed_and_start_give_identical_files_and_another_seed_does_not(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    for out, seed in ((a, 3), (b, 3), (c, 4)):
        run(out, seed=seed, conversations=20, sdk_spans=60)
    files = sorted(p.relative_to(a) for p in a.rglob('*') if p.is_file())
    assert {str(f) for f in files} >= {'traces.jsonl', 'logs.jsonl', 'metrics.jsonl', 'manifest.json',
                                       'billing/openai_usage_completions.jsonl'}
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / 'traces.jsonl').read_bytes() != (c / 'traces.jsonl').read_bytes()
    assert json.loads((a / 'manifest.json').read_text())['paths']['replicated_units'] > 0


def _ids(out):
    """Span, trace and conversation (uuid) ids found in a run's trace and log files."""
    text = ''.join((Path(out) / f).read_text() for f in ('traces.jsonl', 'logs.jsonl'))
    return (set(re.findall(r'"spanId": ?"([0-9a-f]{16})"', text))
            | set(re.findall(r'"traceId": ?"([0-9a-f]{32})"', text))
            | set(re.findall(r'[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}', text)))


def test_another_start_or_days_gives_new_ids(tmp_path):
    """`make demo` on a later day (same seed) must not reuse an earlier run's ids."""
    later = datetime(2026, 3, 3, tzinfo=timezone.utc)
    for name, kw in (('a', {}), ('a_again', {}), ('later', {'start': later}), ('longer', {'days': 4})):
        run(tmp_path / name, conversations=5, sdk_spans=30, **kw)
    base = _ids(tmp_path / 'a')
    assert len(base) > 20
    assert not base & _ids(tmp_path / 'later')
    assert not base & _ids(tmp_path / 'longer')
    # The same options: the same files, byte for byte.
    for f in ('traces.jsonl', 'logs.jsonl', 'metrics.jsonl', 'truth_conversations.jsonl'):
        assert hashlib.md5((tmp_path / 'a' / f).read_bytes()).digest() == \
            hashlib.md5((tmp_path / 'a_again' / f).read_bytes()).digest(), f


def test_gzip_output_is_deterministic_and_holds_the_same_lines(tmp_path):
    run(tmp_path / 'plain', conversations=10)
    run(tmp_path / 'gz1', conversations=10, gzip=True)
    run(tmp_path / 'gz2', conversations=10, gzip=True)
    assert (tmp_path / 'gz1/traces.jsonl.gz').read_bytes() == (tmp_path / 'gz2/traces.jsonl.gz').read_bytes()
    assert _lines(tmp_path / 'gz1/traces.jsonl.gz') == _lines(tmp_path / 'plain/traces.jsonl')


# ------------------------------------------------------------------ OTLP/JSON validity

def test_every_line_is_otlp_json_with_hex_ids_and_string_int64(full):
    out, _ = full
    n = 0
    for name, cls in (('traces.jsonl', ExportTraceServiceRequest), ('traces.late.jsonl', ExportTraceServiceRequest),
                      ('logs.jsonl', ExportLogsServiceRequest), ('logs.late.jsonl', ExportLogsServiceRequest),
                      ('metrics.jsonl', ExportMetricsServiceRequest)):
        for line in _lines(out / name):
            msg = parse_otlp(line, cls)
            n += 1
            assert msg.ByteSize() > 0
    assert n > 100
    rows = spans(out)
    for s in rows:
        assert HEX32.match(s['traceId']) and HEX16.match(s['spanId'])
        assert s.get('parentSpanId', '') == '' or HEX16.match(s['parentSpanId'])
        assert isinstance(s['startTimeUnixNano'], str) and isinstance(s['kind'], int)
        for ev in s.get('events', []):
            assert isinstance(ev['timeUnixNano'], str)
    links = [link for s in rows for link in s.get('links', [])]
    assert links and all(HEX32.match(l['traceId']) and HEX16.match(l['spanId']) for l in links)
    by_id = {(s['traceId'], s['spanId']) for s in rows}
    assert all((l['traceId'], l['spanId']) in by_id for l in links)     # evaluations link the evaluated call
    for r in logs(out):
        assert HEX32.match(r['traceId']) and HEX16.match(r['spanId'])
    exemplars = [ex for p in metric_points(out) for ex in p.get('exemplars', [])]
    assert exemplars and all(HEX32.match(ex['traceId']) and HEX16.match(ex['spanId']) for ex in exemplars)


# ------------------------------------------------------------------ coverage of the flavours

def test_each_instrumentation_flavour_is_present_and_tagged(full):
    out, manifest = full
    rows = unique(spans(out))
    by_flavour = defaultdict(list)
    for s in rows:
        by_flavour[s['res']['llmwh.flavour']].append(s)
    assert set(by_flavour) == {'librechat', 'semconv-v1.26', 'semconv-v1.27', 'semconv-latest', 'openllmetry',
                               'openinference', 'litellm'} == set(manifest['flavours'])
    keys = {f: set().union(*(s['a'] for s in group)) for f, group in by_flavour.items()}

    v126 = [s['a'] for s in by_flavour['semconv-v1.26'] if 'gen_ai.usage.prompt_tokens' in s['a']]
    assert v126 and all('gen_ai.system' in a and 'gen_ai.operation.name' not in a for a in v126)
    assert {'gen_ai.system', 'gen_ai.operation.name', 'gen_ai.usage.input_tokens',
            'gen_ai.conversation.id'} <= keys['semconv-v1.27']
    assert {'gen_ai.provider.name', 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.request.stream',
            'gen_ai.response.time_to_first_chunk'} <= keys['semconv-latest']
    all_keys = set().union(*keys.values())
    assert {'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write.input_tokens',
            'gen_ai.usage.reasoning.output_tokens', 'gen_ai.conversation.id'} <= all_keys
    finish = [s['a']['gen_ai.response.finish_reasons'] for s in rows if 'gen_ai.response.finish_reasons' in s['a']]
    assert any(isinstance(f, list) for f in finish)                # string[] attribute
    assert any(s['a'].get('gen_ai.request.stream') is True for s in rows)

    # OpenLLMetry: workflow/task spans, old and new token names in one trace.
    oll = by_flavour['openllmetry']
    assert {'workflow', 'task'} <= {s['a'].get('traceloop.span.kind') for s in oll}
    names_per_trace = defaultdict(set)
    for s in oll:
        names_per_trace[s['traceId']] |= set(s['a'])
    assert any({'gen_ai.usage.prompt_tokens', 'gen_ai.usage.input_tokens',
                'traceloop.association.properties.session_id'} <= k for k in names_per_trace.values())

    # OpenInference: RAG stages, token counts, cost, session/user, evaluations.
    oi = by_flavour['openinference']
    assert {'rag.retrieve', 'rag.generate'} <= {s['name'] for s in oi}
    assert {'llm.token_count.prompt', 'llm.model_name', 'llm.provider', 'openinference.span.kind', 'session.id',
            'user.id', 'llm.cost.total', 'gen_ai.evaluation.name', 'gen_ai.evaluation.score.value'} <= keys['openinference']
    eval_logs = [r for r in logs(out) if r.get('eventName') == 'gen_ai.evaluation.result']
    assert {'grounded', 'relevance', 'hallucination'} <= {r['a']['gen_ai.evaluation.name'] for r in eval_logs}

    # LiteLLM: "True"/"False" strings, slugs, key/team attribution, reported cost, acompletion.
    proxy = [s['a'] for s in by_flavour['litellm'] if s['name'] == 'litellm_request']
    assert proxy and {a['llm.is_streaming'] for a in proxy} <= {'True', 'False'}
    assert all(a['gen_ai.operation.name'] == 'acompletion' and 'metadata.user_api_key_team_alias' in a for a in proxy)
    assert any('gen_ai.cost.total_cost' in a for a in proxy)

    # Umbrella spans repeating their children's tokens (double counting if summed).
    leaves = {(s['traceId'], s['spanId']) for s in leaf_token_spans(rows)}
    umbrellas = [s for s in rows if tokens(s['a']) and (s['traceId'], s['spanId']) not in leaves]
    assert {'invoke_agent Planner', 'research.workflow', 'rag.generate'} <= {s['name'] for s in umbrellas}

    # Errors: status Error with error.type and an exception event.
    errors = [s for s in rows if s.get('status', {}).get('code') == 2 and 'error.type' in s['a']]
    assert any(ev['name'] == 'exception' for s in errors for ev in s.get('events', []))


def test_librechat_turns_mcp_tool_calls_and_both_log_forms(full):
    out, _ = full
    rows = unique(spans(out))
    by_id = {(s['traceId'], s['spanId']): s for s in rows}
    lc = [s for s in rows if s['res']['service.name'] in ('librechat', 'librechat-legacy')]
    roots = [s for s in lc if s['name'] == 'POST /api/agents/chat']
    llm_per_trace = Counter(s['traceId'] for s in lc if s['name'].startswith('chat '))
    assert roots and max(llm_per_trace.values()) >= 2
    db = [s for s in rows if 'db.system.name' in s['a']]
    assert db
    for s in db:        # db span -> MCP server span -> MCP client span tools/call
        server = by_id[(s['traceId'], s['parentSpanId'])]
        client = by_id[(s['traceId'], server['parentSpanId'])]
        for mcp in (server, client):
            assert mcp['name'] == f'tools/call {mcp["a"]["gen_ai.tool.name"]}'
            assert mcp['a']['mcp.method.name'] == 'tools/call' and HEX32.match(mcp['a']['mcp.session.id'])
    records = logs(out)
    parsed = [r for r in records if r['res']['service.name'] == 'librechat' and 'conversationId' in r['a']]
    assert parsed and all({'promptTokens', 'completionTokens', 'tokenCount', 'text', 'model'} <= set(r['a'])
                          for r in parsed)
    raw = [r for r in records if r['res']['service.name'] == 'librechat-legacy']
    assert raw and all(not r['a'] and re.search(r'conversationId: [0-9a-f-]{36} \| Context: ', r['body'])
                       for r in raw)
    legacy_llm = [s for s in rows if s['res']['service.name'] == 'librechat-legacy' and s['name'].startswith('chat ')]
    assert legacy_llm and not any('gen_ai.conversation.id' in s['a'] for s in legacy_llm)


def test_metrics_semconv_histograms_both_temporalities_and_counters(full):
    out, _ = full
    points = metric_points(out)
    token = [p for p in points if p['name'] == 'gen_ai.client.token.usage']
    assert {p['a']['gen_ai.token.type'] for p in token} == {'input', 'output'}
    assert all(p['explicitBounds'] == SEMCONV_TOKEN_BOUNDS for p in token)
    for name in ('gen_ai.client.operation.duration', 'gen_ai.client.operation.time_to_first_chunk'):
        hist = [p for p in points if p['name'] == name]
        assert hist and all(p['explicitBounds'] == SEMCONV_DURATION_BOUNDS for p in hist)
    assert {p['temporality'] for p in token} == {1, 2}
    assert any(p['kind'] == 'sum' and p['name'] == 'gen_ai.client.inference.usage.input_tokens' for p in points)
    for p in token:
        assert sum(int(c) for c in p['bucketCounts']) == int(p['count'])


# ------------------------------------------------------------------ manifest counts vs files

def test_manifest_counts_equal_the_records_in_the_files(full):
    out, m = full
    n_spans = {name: sum(len(ss['spans']) for line in _lines(out / name)
                         for rs in json.loads(line)['resourceSpans'] for ss in rs['scopeSpans'])
               for name in ('traces.jsonl', 'traces.late.jsonl')}
    n_logs = {name: sum(len(sl['logRecords']) for line in _lines(out / name)
                        for rl in json.loads(line)['resourceLogs'] for sl in rl['scopeLogs'])
              for name in ('logs.jsonl', 'logs.late.jsonl')}
    points = Counter(p['kind'] for p in metric_points(out))
    assert m['tables']['otel_traces'] == sum(n_spans.values())
    assert m['tables']['otel_logs'] == sum(n_logs.values())
    assert m['tables']['otel_metrics_histogram'] == points['histogram']
    assert m['tables']['otel_metrics_sum'] == points['sum']
    for name, n in {**n_spans}.items():
        assert m['files'][name]['spans'] == n
    for name, n in n_logs.items():
        assert m['files'][name]['log_records'] == n
    assert m['faults']['late']['spans'] == n_spans['traces.late.jsonl'] > 0
    generated = m['paths']['sdk_spans'] + m['paths']['replicated_spans']
    assert m['tables']['otel_traces'] == (generated - m['faults']['sampling']['spans']
                                          + m['faults']['duplicates']['spans'])


def test_duplicates_are_identical_and_counted(full, replicated):
    out, m = full
    rows = spans(out)
    deliveries = Counter((s['traceId'], s['spanId']) for s in rows)
    extra = sum(n - 1 for n in deliveries.values())
    assert extra == m['faults']['duplicates']['spans'] > 0
    content = defaultdict(set)
    for s in rows:
        content[(s['traceId'], s['spanId'])].add(json.dumps({k: v for k, v in s.items() if k != 'line'},
                                                            sort_keys=True))
    assert all(len(v) == 1 for v in content.values())
    log_keys = Counter(json.dumps({k: r[k] for k in ('timeUnixNano', 'spanId', 'body', 'a')}, sort_keys=True)
                       for r in logs(out))
    assert sum(n - 1 for n in log_keys.values()) == m['faults']['duplicates']['logs']
    out_r, m_r = replicated          # duplicates switched off
    assert m_r['faults']['duplicates'] == {**m_r['faults']['duplicates'], 'enabled': False, 'count': 0}
    assert max(Counter((s['traceId'], s['spanId']) for s in spans(out_r)).values()) == 1


def test_switching_faults_off_removes_them_and_keeps_the_traffic(tmp_path, full):
    out_all, m_all = full
    out = tmp_path / 'none'
    m = llmwh('generate', '--out', str(out), '--days', '3', '--start', START, '--seed', '7', '--conversations',
              '70', '--metric-interval', '21600', '--faults', 'none', check=True)
    m = json.loads((out / 'manifest.json').read_text())
    assert all(not f['enabled'] and f['count'] == 0 for f in m['faults'].values())
    assert all(f['enabled'] for f in m_all['faults'].values())
    assert all(m_all['faults'][k]['count'] > 0 for k in m_all['faults'])
    assert m['truth']['totals']['calls'] == m_all['truth']['totals']['calls']    # same traffic
    rows = spans(out)
    assert not _lines(out / 'traces.late.jsonl') and not _lines(out / 'logs.late.jsonl')
    models = {s['a'].get('gen_ai.request.model') for s in rows} | {s['a'].get('gen_ai.response.model') for s in rows}
    assert not any(str(x).startswith('ft:') or x == 'gpt-4o-2024-11-20' for x in models)
    assert any(str(x).startswith('ft:') for s in spans(out_all) for x in s['a'].values())
    totals = m['truth']['totals']
    assert totals['emitted_calls'] == totals['ok_calls']          # nothing sampled out
    for row in m['truth']['by_day_provider_model']:
        assert row['emitted_with_usage'] == row['emitted']       # no usage missing
    ok = [s for s in unique(rows) if s['name'].startswith('chat ') and 'gen_ai.response.model' in s['a']]
    assert ok and all(tokens(s['a']) is not None for s in ok)


def test_sampling_drops_traces_but_not_metrics_or_billing(full):
    out, m = full
    s = m['faults']['sampling']
    assert s['traces'] > 0 and s['spans'] > 0
    kept = {(sp['res']['llmwh.flavour'], sp['traceId']) for sp in spans(out)}
    per_flavour = Counter(f for f, _ in kept)
    made = m['flavours']
    for flavour in s['flavours']:
        assert per_flavour[flavour] < 0.5 * made[flavour]['traces']
    totals = m['truth']['totals']
    assert totals['emitted']['input_tokens'] < totals['true']['input_tokens']
    billed = sum(r['input_tokens'] for p in map(json.loads, _lines(out / 'billing/openai_usage_completions.jsonl'))
                 for b in p['data'] for r in b['results'])
    emitted_openai = sum(r['emitted']['input_tokens'] for r in m['truth']['by_day_provider_model']
                         if r['provider'] == 'openai')
    assert billed > emitted_openai


def test_usage_missing_count_equals_successful_llm_spans_without_tokens(unsampled):
    out, m = unsampled
    rows = unique(spans(out))
    missing = [s for s in rows if s['name'].startswith('chat ') and 'gen_ai.response.model' in s['a']
               and tokens(s['a']) is None]
    assert len(missing) == m['faults']['usage_missing']['count'] > 0


def test_clock_skew_shifts_the_skewed_services(unsampled):
    out, m = unsampled
    skew = {k: int(v) for k, v in m['faults']['clock_skew']['services'].items()}
    rows = unique(spans(out))
    by_id = {(s['traceId'], s['spanId']): s for s in rows}
    mcp_server = [s for s in rows if s['res']['service.name'] == 'orders-mcp' and s['kind'] == 2]
    assert mcp_server and skew['orders-mcp'] > 0
    for s in mcp_server:    # the MCP server's clock is ahead: its span starts late by at least the skew
        client = by_id[(s['traceId'], s['parentSpanId'])]
        assert int(s['startTimeUnixNano']) - int(client['startTimeUnixNano']) >= skew['orders-mcp']
    skewed_logs = {json.dumps(r, sort_keys=True) for r in logs(out) if r['res']['service.name'] in skew}
    assert m['faults']['clock_skew']['count'] == sum(1 for s in rows if s['res']['service.name'] in skew) + len(
        skewed_logs) > 0


# ------------------------------------------------------------------ truth recomputed from the data

def test_librechat_conversation_truth_equals_the_spend_tokens_logs(full):
    out, _ = full
    truth = truth_conversations(out)
    seen, sums = set(), defaultdict(lambda: [0, 0])
    for r in logs(out):
        if r['res']['service.name'] not in ('librechat', 'librechat-legacy'):
            continue
        key = json.dumps({k: r[k] for k in ('timeUnixNano', 'spanId', 'body', 'a')}, sort_keys=True)
        if key in seen:
            continue                      # a collector retry
        seen.add(key)
        if r['a']:
            conv, prompt, completion = r['a']['conversationId'], r['a']['promptTokens'], r['a']['completionTokens']
        else:
            match = re.match(r'\[spend\w*Tokens\] conversationId: ([0-9a-f-]{36}) \| .* Token usage: (\{.*\})$',
                             r['body'])
            usage = json.loads(match.group(2))
            conv, prompt, completion = match.group(1), usage['promptTokens'], usage['completionTokens']
        if isinstance(prompt, dict):      # spendStructuredTokens: {input, write, read}
            prompt = prompt['input'] + prompt['write'] + prompt['read']
        sums[conv][0] += prompt
        sums[conv][1] += completion
    librechat = {k: v for k, v in truth.items() if v['flavour'] == 'librechat'}
    assert sums and set(sums) <= set(librechat)
    for conv, row in librechat.items():
        assert sums.get(conv, [0, 0]) == [row['input_tokens'], row['output_tokens']], conv


def test_conversation_truth_counts_the_traces_written(full):
    """`traces` per conversation is the number of distinct traces written for it. The
    current deployment marks every span with the conversation; the legacy one only its
    token logs, so a legacy turn whose call failed (no log) is written but unmarked."""
    out, _ = full
    truth = truth_conversations(out)
    traces, legacy = defaultdict(set), set()
    for s in spans(out):
        conv = s['a'].get('gen_ai.conversation.id')
        if conv:
            traces[conv].add(s['traceId'])
    for r in logs(out):
        match = re.search(r'conversationId: ([0-9a-f-]{36})', r['body'] if isinstance(r['body'], str) else '')
        conv = r['a'].get('conversationId') or (match.group(1) if match else None)
        if conv and r.get('traceId'):
            traces[conv].add(r['traceId'])
            if r['res']['service.name'] == 'librechat-legacy':
                legacy.add(conv)
    librechat = {k: v for k, v in truth.items() if v['flavour'] == 'librechat'}
    assert librechat and any(row['traces'] > 1 for row in librechat.values())
    assert legacy and set(librechat) - legacy
    for conv, row in librechat.items():
        if conv in legacy:
            assert 0 < len(traces[conv]) <= row['traces'], conv
        else:
            assert row['traces'] == len(traces[conv]), conv


def test_conversation_truth_equals_leaf_spans(unsampled):
    out, _ = unsampled
    truth = truth_conversations(out)
    sums = defaultdict(lambda: [0, 0])
    for s in leaf_token_spans(unique(spans(out))):
        a = s['a']
        conv = a.get('gen_ai.conversation.id') or a.get('session.id') or \
            a.get('traceloop.association.properties.session_id')
        if conv and s['res']['llmwh.flavour'] in ('semconv-v1.27', 'openllmetry', 'openinference'):
            inp, outp = tokens(a)
            sums[conv][0] += inp
            sums[conv][1] += outp
    expected = {k: [v['input_tokens'], v['output_tokens']] for k, v in truth.items()
                if v['flavour'] in ('semconv-v1.27', 'openllmetry', 'openinference')}
    assert expected and {k: v for k, v in expected.items() if v != [0, 0]} == dict(sums)


def test_day_model_truth_equals_leaf_spans(unsampled):
    out, m = unsampled
    skew = m['faults']['clock_skew']['services']
    sums = defaultdict(lambda: [0, 0, 0])
    for s in leaf_token_spans(unique(spans(out))):
        a = s['a']
        model = a.get('gen_ai.response.model') or a.get('llm.model_name')
        start = int(s['startTimeUnixNano']) - int(skew.get(s['res']['service.name'], 0))
        inp, outp = tokens(a)
        row = sums[(day_of(start), model)]
        row[0] += 1
        row[1] += inp
        row[2] += outp
    expected = defaultdict(lambda: [0, 0, 0])
    for r in m['truth']['by_day_provider_model']:
        e = r['emitted_with_usage']
        if e['calls']:
            row = expected[(r['day'], r['response_model'])]
            row[0] += e['calls']
            row[1] += e['input_tokens']
            row[2] += e['output_tokens']
    assert dict(sums) == dict(expected)


def test_metric_points_add_up_to_the_recorded_truth(full, replicated):
    for out, m in (full, replicated):
        delta, last = defaultdict(float), {}
        for p in metric_points(out):
            if p['kind'] != 'histogram' or p['name'] != 'gen_ai.client.token.usage':
                continue
            key = (p['res']['service.name'], p['a']['gen_ai.token.type'])
            if p['temporality'] == 1:
                delta[key] += p['sum']
            else:
                series = (key, tuple(sorted(p['a'].items())))
                if series not in last or int(p['timeUnixNano']) > last[series][0]:
                    last[series] = (int(p['timeUnixNano']), p['sum'])
        for (key, _), (_, total) in last.items():
            delta[key] += total
        expected = {(r['service'], r['token_type']): r['sum'] for r in m['truth']['metrics']
                    if r['metric'] == 'gen_ai.client.token.usage'}
        assert expected and {k: round(v) for k, v in delta.items()} == {k: round(v) for k, v in expected.items()}
    assert replicated[1]['paths']['replicated_metric_measurements'] > 0


def test_billing_exports_equal_truth_plus_billed_failures(full):
    out, m = full
    expected = defaultdict(lambda: Counter())
    for r in m['truth']['by_day_provider_model']:
        t, b = r['true'], r['billed_errors']
        e = expected[(r['provider'], r['day'], r['response_model'])]
        e['requests'] += r['ok_calls'] + b['calls']
        for f in ('input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_write_input_tokens',
                  'cache_write_1h_input_tokens'):
            e[f] += t[f] + b[f]
    got = defaultdict(lambda: Counter())
    for page in map(json.loads, _lines(out / 'billing/openai_usage_completions.jsonl')):
        assert page['object'] == 'page'
        for bucket in page['data']:
            assert bucket['end_time'] - bucket['start_time'] == 86400
            for r in bucket['results']:
                g = got[('openai', day_of(bucket['start_time'] * 10**9), r['model'])]
                g['requests'] += r['num_model_requests']
                g['input_tokens'] += r['input_tokens']
                g['output_tokens'] += r['output_tokens']
                g['cache_read_input_tokens'] += r['input_cached_tokens']
                assert r['project_id'].startswith('proj_') and r['api_key_id'].startswith('key_')
    for page in map(json.loads, _lines(out / 'billing/anthropic_usage_messages.jsonl')):
        for bucket in page['data']:
            for r in bucket['results']:
                g = got[('anthropic', bucket['starting_at'][:10], r['model'])]
                writes = r['cache_creation']['ephemeral_5m_input_tokens'] + r['cache_creation']['ephemeral_1h_input_tokens']
                g['input_tokens'] += r['uncached_input_tokens'] + r['cache_read_input_tokens'] + writes
                g['output_tokens'] += r['output_tokens']
                g['cache_read_input_tokens'] += r['cache_read_input_tokens']
                g['cache_write_input_tokens'] += writes
                g['cache_write_1h_input_tokens'] += r['cache_creation']['ephemeral_1h_input_tokens']
    for key in set(expected) | set(got):
        provider = key[0]
        if provider not in ('openai', 'anthropic'):
            assert key not in got
            continue
        fields = ['input_tokens', 'output_tokens', 'cache_read_input_tokens']
        fields += ['requests'] if provider == 'openai' else ['cache_write_input_tokens', 'cache_write_1h_input_tokens']
        assert {f: got[key][f] for f in fields} == {f: expected[key][f] for f in fields}, key
    assert any(k[2].startswith('ft:') for k in got)


def test_replicas_get_new_ids_and_conversations(replicated):
    out, m = replicated
    p = m['paths']
    assert p['replicated_units'] > p['sdk_units'] > 0 and p['replicated_spans'] > 0
    rows = spans(out)
    assert len({(s['traceId'], s['spanId']) for s in rows}) == len(rows)
    truth = truth_conversations(out)
    assert len(truth) == m['truth']['conversations']['count']
    lc = {r['a']['conversationId'] for r in logs(out) if 'conversationId' in r['a']}
    assert lc <= set(truth) and len(lc) > 1
    assert m['tables']['otel_traces'] == p['sdk_spans'] + p['replicated_spans'] - m['faults']['sampling']['spans']


# ------------------------------------------------------------------ the CLI

@pytest.mark.parametrize('args, message', [
    (['--days', '0'], '--days'),
    (['--start', '2026-13-01'], 'YYYY-MM-DD'),
    (['--faults', 'usage_missing,bogus'], "unknown fault 'bogus'"),
    (['--no-fault', 'nope'], "unknown fault 'nope'"),
    (['--conversations', '5', '--spans', '100'], 'only one of'),
    (['--metric-interval', '7'], '--metric-interval'),
])
def test_bad_options_are_one_clear_error(tmp_path, args, message):
    proc = llmwh('generate', '--out', str(tmp_path / 'x'), *args)
    assert proc.returncode != 0
    assert message in proc.stderr and 'Traceback' not in proc.stderr


def test_late_arrivals_keep_their_logs_with_them_and_old_timestamps(full):
    out, m = full
    late_traces = {s['traceId'] for s in spans(out, ('traces.late.jsonl',))}
    late_logs = logs(out, ('logs.late.jsonl',))
    assert late_traces and m['faults']['late']['traces'] == len(late_traces)
    assert {r['traceId'] for r in late_logs} <= late_traces
    end = datetime.fromisoformat(m['end'].replace('Z', '+00:00')).timestamp() * 1e9
    assert all(int(s['startTimeUnixNano']) < end for s in spans(out, ('traces.late.jsonl',)))


def test_spans_target_is_met_through_replication(tmp_path):
    m = run(tmp_path / 's', spans=3000, conversations=None, sdk_spans=800)
    p = m['paths']
    assert p['sdk_spans'] >= 800 and p['replicated_units'] > 0
    assert 0.85 * 3000 <= p['sdk_spans'] + p['replicated_spans'] <= 1.15 * 3000


def test_help_names_every_fault():
    from llmwh.generate import FAULTS
    proc = llmwh('generate', '--help', check=True)
    text = ' '.join(proc.stdout.split())
    assert all(name in text for name in FAULTS)
