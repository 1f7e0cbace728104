"""Issue 10, reliability: bad values never stop the build, nothing is counted twice.

One warehouse, one `dbt build`: the built-in sample plus a batch of hostile
spans drawn from Hypothesis strategies (derandomized, so the batch is the same
on every run) and a few hand-picked ones, all loaded through `llmwh load otlp`.
"""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import dbt, llmwh, warehouse_env, sql_rows as q

TOKEN_KEYS = {
    'input_tokens': 'gen_ai.usage.input_tokens',
    'output_tokens': 'gen_ai.usage.output_tokens',
    'cache_read_tokens': 'gen_ai.usage.cache_read.input_tokens',
    'cache_write_tokens': 'gen_ai.usage.cache_creation.input_tokens',
    'reasoning_tokens': 'gen_ai.usage.reasoning.output_tokens',
    'total_tokens': 'gen_ai.usage.total_tokens',
}
TOKEN_COLUMNS = list(TOKEN_KEYS)
# Yesterday noon: inside every table's retention.
BASE_NS = int((datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
               - timedelta(days=1)).timestamp()) * 10**9
MB = 1 << 20
HOSTILE_TRACE = 'feedfacefeedfacefeedfacefeedface'

# Values a token-count attribute can carry on the wire.
token_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.text(max_size=12),
    st.sampled_from(['', ' ', ' 5', '5 ', '+5', '-0', '1e3', '0x10', '5.0', 'NaN', 'inf', '٣', '５',
                     '9223372036854775807', '9223372036854775808', '18446744073709551616',
                     '99999999999999999999999', 'null', '[1]', '{"a":1}']),
)
finish_reasons = st.one_of(
    st.text(max_size=12), st.sampled_from(['["stop"', '[', '[]', '[1,2]', '{"x":', 'null', '"stop"', '["\\u0000"]']))
hex_id = st.sampled_from('0123456789abcdef')


def kv(key, value):
    return {'key': key, 'value': {'stringValue': value}}


def span(span_id, attrs, start_ns=BASE_NS, end_ns=BASE_NS + 10**9, trace_id=HOSTILE_TRACE):
    return {'traceId': trace_id, 'spanId': span_id, 'name': 'chat gpt-4o', 'kind': 3,
            'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(end_ns),
            'attributes': [kv('gen_ai.operation.name', 'chat'), kv('gen_ai.provider.name', 'openai'),
                           kv('gen_ai.request.model', 'gpt-4o')] + attrs}


@st.composite
def hostile_spans(draw):
    tokens = draw(st.dictionaries(st.sampled_from(TOKEN_COLUMNS), token_values, max_size=6))
    attrs = [kv(TOKEN_KEYS[c], v) for c, v in tokens.items()]
    attrs.append(kv('gen_ai.response.finish_reasons', draw(finish_reasons)))
    attrs += [kv(k, v) for k, v in draw(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8),
                                                        max_size=3)).items()]
    zero = draw(st.booleans())
    trace_id = '0' * 32 if zero else ''.join(draw(st.lists(hex_id, min_size=32, max_size=32)))
    span_id = '0' * 16 if zero else ''.join(draw(st.lists(hex_id, min_size=16, max_size=16)))
    start = BASE_NS + draw(st.integers(0, 3600 * 10**9))
    end = start + draw(st.integers(-10**12, 10**12))
    service = draw(st.one_of(st.none(), st.text(max_size=10)))
    return service, tokens, span(span_id, attrs, start, end, trace_id)


def hypothesis_batch(n=60):
    batch = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_spans())
    def collect(item):
        batch.append(item)

    collect()
    return batch


# Hand-picked: span id -> input_tokens value, and what staging must make of it. The ids sort
# before random hex ones, so they lead a day's example ids in fct_data_quality_issues.
PICKED = {
    '0000000000000001': ('-5', None),
    '0000000000000002': ('1.5', None),
    '0000000000000003': ('abc', None),
    '0000000000000004': ('', None),
    '0000000000000005': ('9223372036854775808', None),
    '0000000000000006': ('٣', None),
    '0000000000000007': ('x' * MB, None),
    '0000000000000008': ('9223372036854775807', None),
    '000000000000000b': ('999999999999', 999999999999),
    '000000000000000c': ('000042', 42),
    '0000000000000009': ('42', 42),
    '000000000000000a': ('-0', None),
}


def metric_point(provider, model, token_type, start_ns, time_ns, total, count=1):
    attrs = [kv('gen_ai.operation.name', 'chat'), kv('gen_ai.provider.name', provider),
             kv('gen_ai.request.model', model), kv('gen_ai.token.type', token_type)]
    return {'attributes': attrs, 'startTimeUnixNano': str(start_ns), 'timeUnixNano': str(time_ns),
            'count': str(count), 'sum': total, 'bucketCounts': [str(count), '0'], 'explicitBounds': [10000]}


def token_usage(temporality, *points):
    return {'resourceMetrics': [{
        'resource': {'attributes': [kv('service.name', 'metric-dup-app')]},
        'scopeMetrics': [{'scope': {'name': 'opentelemetry.instrumentation.genai'}, 'metrics': [
            {'name': 'gen_ai.client.token.usage', 'unit': '{token}',
             'histogram': {'aggregationTemporality': temporality, 'dataPoints': list(points)}}]}]}]}


# A delta point retried by the collector (the identical line twice), and a
# cumulative series whose second point is retried: 1000 + 200 delta tokens
# for openai, 250 cumulative input tokens for anthropic.
MINUTE = 60 * 10**9
DELTA_INPUT = token_usage(1, metric_point('openai', 'gpt-4o', 'input', BASE_NS, BASE_NS + MINUTE, 1000))
DELTA_OUTPUT = token_usage(1, metric_point('openai', 'gpt-4o', 'output', BASE_NS, BASE_NS + MINUTE, 200))
CUMULATIVE_1 = token_usage(2, metric_point('anthropic', 'claude-sonnet-4-5', 'input', BASE_NS, BASE_NS + MINUTE, 100))
CUMULATIVE_2 = token_usage(2, metric_point('anthropic', 'claude-sonnet-4-5', 'input', BASE_NS,
                                           BASE_NS + 2 * MINUTE, 250, count=2))
METRICS = [DELTA_INPUT, DELTA_OUTPUT, CUMULATIVE_1, CUMULATIVE_2, DELTA_INPUT, CUMULATIVE_2]


def valid_count(value):
    return bool(re.fullmatch(r'0*[0-9]{1,12}', value))


def valid_finish_reasons(value):
    """A JSON array of strings: how the exporter writes a string-array attribute."""
    def no_constants(name):
        raise ValueError(name)
    try:
        parsed = json.loads(value, parse_constant=no_constants)
    except ValueError:
        return False
    return isinstance(parsed, list) and all(isinstance(v, str) for v in parsed)


def attribute(span_json, key):
    return next((a['value']['stringValue'] for a in span_json['attributes'] if a['key'] == key), None)


def ends_before_start(span_json):
    return int(span_json['endTimeUnixNano']) < int(span_json['startTimeUnixNano'])


def resource_spans(service, spans):
    attrs = [] if service is None else [kv('service.name', service)]
    return {'resource': {'attributes': attrs},
            'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': spans}]}


@pytest.fixture(scope='module')
def hostile(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('reliability')
    env = warehouse_env(tmp, profiles_dir)
    batch = hypothesis_batch()
    picked = [span(sid, [kv('gen_ai.usage.input_tokens', value), kv('gen_ai.usage.output_tokens', '7'),
                         kv('junk.' + 'k' * 100, 'v' * MB)],
                   end_ns=BASE_NS - 10**9 if sid.endswith('1') else BASE_NS + 10**9)
              for sid, (value, _) in PICKED.items()]
    requests = [{'resourceSpans': [resource_spans('hostile-app', picked)]}]
    requests += [{'resourceSpans': [resource_spans(service, [s])]} for service, _, s in batch]
    # A collector retry: the same span delivered again.
    requests.append({'resourceSpans': [resource_spans('hostile-app', picked[-2:-1])]})
    path = tmp / 'hostile_traces.jsonl'
    path.write_text(''.join(json.dumps(r) + '\n' for r in requests))
    metrics = tmp / 'duplicate_metrics.jsonl'
    metrics.write_text(''.join(json.dumps(r) + '\n' for r in METRICS))
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'sample', env_extra=env, check=True)
    llmwh('load', 'otlp', str(path), str(metrics), env_extra=env, check=True)
    build = dbt('build', env_extra=env)
    invalid = {c: sum(1 for _, tokens, _ in batch if tokens.get(c, '') != '' and not valid_count(tokens[c]))
               for c in TOKEN_COLUMNS}
    invalid['input_tokens'] += sum(1 for value, _ in PICKED.values() if value != '' and not valid_count(value))
    invalid['duration'] = sum(1 for _, _, s in batch if ends_before_start(s)) + sum(map(ends_before_start, picked))
    reasons = [attribute(s, 'gen_ai.response.finish_reasons') for _, _, s in batch]
    invalid['finish_reasons'] = sum(1 for r in reasons if r and not valid_finish_reasons(r))
    assert invalid['duration'] and invalid['finish_reasons'] and any(r and valid_finish_reasons(r) for r in reasons)
    return env, build, invalid


def test_hostile_values_never_stop_the_build(hostile):
    _, build, _ = hostile
    assert build.returncode == 0, build.stdout[-4000:]
    assert 'assert_no_data_quality_issues' in build.stdout and 'WARN' in build.stdout


@pytest.mark.parametrize('relation', ['llm_staging.stg_otel__spans', 'llm.fct_llm_calls', 'llm.fct_traces'])
def test_token_columns_are_null_or_non_negative(hostile, relation):
    env, _, _ = hostile
    columns = [c for c in TOKEN_COLUMNS if q(env, f"select count() as n from system.columns where "
                                                  f"database || '.' || table = '{relation}' and name = '{c}'")[0]['n']]
    assert columns
    bad = ' or '.join(f'{c} < 0' for c in columns)
    assert q(env, f'select count() as n from {relation} where {bad}') == [{'n': 0}]


def test_bad_token_counts_become_null_and_the_row_is_kept(hostile):
    env, _, _ = hostile
    rows = q(env, "select span_id, input_tokens, output_tokens from llm_staging.stg_otel__spans "
                  f"where trace_id = '{HOSTILE_TRACE}' order by span_id")
    assert {r['span_id']: r['input_tokens'] for r in rows} == {sid: want for sid, (_, want) in PICKED.items()}
    assert {r['output_tokens'] for r in rows} == {7}
    calls = q(env, f"select call_id, input_tokens from llm.fct_llm_calls where trace_id = '{HOSTILE_TRACE}'")
    assert {r['call_id']: r['input_tokens'] for r in calls} == {sid: want for sid, (_, want) in PICKED.items()}


def test_every_nulled_token_count_is_counted_as_a_data_quality_issue(hostile):
    env, _, invalid = hostile
    rows = q(env, "select rule_name, sum(issue_rows) as n from llm.fct_data_quality_issues "
                  "where source_table = 'otel_traces' and startsWith(rule_name, 'invalid_') group by rule_name")
    assert {r['rule_name']: int(r['n']) for r in rows} == {f'invalid_{c}': n for c, n in invalid.items() if n}
    assert {'invalid_duration', 'invalid_finish_reasons'} <= {r['rule_name'] for r in rows}
    examples = q(env, "select example_ids from llm.fct_data_quality_issues "
                      "where rule_name = 'invalid_input_tokens'")
    assert '0000000000000001' in {i for r in examples for i in r['example_ids']}


@pytest.mark.parametrize('relation', ['llm_staging.stg_otel__spans', 'llm.fct_llm_calls'])
def test_a_span_ending_before_its_start_has_a_null_duration_and_is_kept(hostile, relation):
    env, _, invalid = hostile
    key = 'span_id' if 'stg' in relation else 'call_id'
    rows = q(env, f"select duration_ms from {relation} where {key} = '0000000000000001'")
    assert rows == [{'duration_ms': None}]
    # Never negative or wrapped to centuries; NULL exactly for the spans that end before they start.
    assert q(env, f'select count() as n from {relation} where duration_ms < 0 or duration_ms > 1e9') == [{'n': 0}]
    if 'stg' in relation:
        nulls = q(env, f'select count() as n from {relation} where duration_ms is null')
        assert int(nulls[0]['n']) == invalid['duration']


def test_malformed_finish_reasons_are_not_read(hostile):
    env, _, _ = hostile
    rows = q(env, "select span_attributes['gen_ai.response.finish_reasons'] as sent, finish_reason_raw "
                  f"from llm_staging.stg_otel__spans where trace_id != '{HOSTILE_TRACE}' "
                  "and span_attributes['gen_ai.response.finish_reasons'] != ''")
    assert rows
    for r in rows:
        want = (json.loads(r['sent']) or [None])[0] or None if valid_finish_reasons(r['sent']) else None
        assert r['finish_reason_raw'] == want, r


def test_duplicate_span_deliveries_are_counted(hostile):
    env, _, _ = hostile
    rows = q(env, "select sum(issue_rows) as n from llm.fct_data_quality_issues "
                  "where source_table = 'otel_traces' and rule_name = 'duplicate_delivery'")
    raw = q(env, "select count() - uniqExact(toDate(Timestamp), TraceId, SpanId) as n from otel.otel_traces")
    assert int(rows[0]['n']) == int(raw[0]['n']) > 0


def test_a_retried_metric_point_counts_once(hostile):
    env, _, _ = hostile
    rows = q(env, "select provider, sum(metric_input_tokens) as input, sum(metric_output_tokens) as output, "
                  "sum(metric_calls) as calls from llm_intermediate.int_token_usage_metrics_summed_to_days "
                  "where service_name = 'metric-dup-app' group by provider order by provider")
    assert [(r['provider'], r['input'], r['output'], r['calls']) for r in rows] == [
        ('anthropic', 250, 0, 2), ('openai', 1000, 200, 1)]
    dropped = q(env, "select sum(issue_rows) as n from llm.fct_data_quality_issues "
                     "where source_table = 'otel_metrics_histogram' and rule_name = 'duplicate_delivery'")
    assert int(dropped[0]['n']) == 2
