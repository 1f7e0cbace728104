"""The fast OTLP/JSON mapping (llmwh.otlp.fast) gives exactly the reference's rows.

The reference is llmwh.otlp.mapping: protobuf's json_format parses the request
into opentelemetry-proto messages, which are then mapped. Both paths run on the
hand-written fixtures of test_load_otlp, on generated telemetry of every
instrumentation flavour (as written, and respelled the other ways protobuf's
JSON accepts), and on random requests; they must agree on every row, value
types and map key order included, and on which requests are rejected.
"""

import copy
import json
import math
import random

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmwh.generate import GenerateOptions, generate
from llmwh.otlp import fast, mapping, rows, shortcuts
from llmwh.otlp.mapping import OtlpError
from llmwh.warehouse.exporter import INSERT_COLUMNS
from test_load_otlp import LOGS, METRICS, TRACES


def exact(value):
    """A value with its types spelled out, maps as ordered pairs: 1 == 1.0 == True is not enough."""
    if isinstance(value, dict):
        return ('map', [(k, exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ('list', [exact(v) for v in value])
    if isinstance(value, float) and value != value:
        return ('float', 'nan')
    return (type(value).__name__, value)


def outcome(rows_of, request):
    """('rows', exact rows) or ('rejected', message) of one path on a private copy of the request."""
    try:
        return 'rows', exact(rows_of(copy.deepcopy(request)))
    except OtlpError as ex:
        return 'rejected', str(ex)


def reference(request):
    try:
        return outcome(mapping.json_rows, request)
    except (OverflowError, RecursionError) as ex:
        # protobuf lets these escape (an int too big for a double, enum Infinity); fast rejects.
        return 'rejected', repr(ex)


def assert_same(request):
    want, got = reference(request), outcome(fast.json_rows, request)
    assert got[0] == want[0], (want, got)
    if want[0] == 'rows':
        assert got[1] == want[1]
    return got


# ------------------------------------------------------------- fixtures

def test_row_shapes_are_the_exporters_insert_columns():
    for table, columns in INSERT_COLUMNS.items():
        head, row = fast.HEADS[table], fast.ROWS[table]
        assert sorted(head + row) == sorted(columns) and len(set(head + row)) == len(columns)
        assert [c for c in columns if c in row] == list(row)



@pytest.mark.parametrize('request_', [TRACES, LOGS, METRICS], ids=['traces', 'logs', 'metrics'])
def test_the_hand_written_fixtures_map_the_same(request_):
    kind, _ = assert_same(request_)
    assert kind == 'rows'


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    """Every request of one generated day: all instrumentation flavours, logs and all metric kinds."""
    out = tmp_path_factory.mktemp('generated')
    generate(GenerateOptions(out=out, days=1, conversations=40, seed=3), echo=lambda *_: None)
    requests = []
    for path in sorted(out.glob('*.jsonl')):
        if path.name.startswith(('traces', 'logs', 'metrics')):
            requests.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    assert len(requests) > 100
    return requests


def test_generated_telemetry_maps_the_same_request_by_request(generated):
    tables = set()
    for request in generated:
        kind, rows = assert_same(request)
        assert kind == 'rows'
        tables.update(table for table, _ in rows[1])
    assert {'otel_traces', 'otel_logs', 'otel_metrics_sum', 'otel_metrics_histogram'} <= tables


def test_generated_telemetry_takes_the_short_way(generated):
    spans = [span for r in generated for rs in r.get('resourceSpans', ()) for ss in rs['scopeSpans']
             for span in ss['spans']]
    assert spans and all(shortcuts.span_row(span) is not None for span in spans)
    records = [record for r in generated for rl in r.get('resourceLogs', ()) for sl in rl['scopeLogs']
               for record in sl['logRecords']]
    assert records and all(shortcuts.log_row(record) is not None for record in records)
    metrics = [m for r in generated for rm in r.get('resourceMetrics', ()) for sm in rm['scopeMetrics']
               for m in sm['metrics']]
    points = [(kind, p) for m in metrics for kind in ('sum', 'gauge', 'histogram') for p in m.get(kind, {}).get(
        'dataPoints', ())]
    assert {kind for kind, _ in points} == {'sum', 'histogram'}
    for kind, point in points:
        read = shortcuts.histogram_point if kind == 'histogram' else shortcuts.number_point
        assert read(point) is not None, point
    assert any(point.get('exemplars') for _, point in points)   # exemplars take the short way too


def test_generated_requests_take_the_short_way_whole(generated):
    for request in generated:
        signal = mapping.request_signal(request)
        groups = fast._SHORT_GROUPS[signal](copy.deepcopy(request))
        assert groups is not None, request
        long_way = fast._GROUPS[signal](fast.read_message(request, fast.REQUESTS[signal], 1, fast.State()))
        assert exact(groups) == exact(long_way)


@pytest.mark.parametrize('items', [
    ['0', '1', '18446744073709551615'], ['18446744073709551616'], ['-1'], [''], ['1', ''], [' 7'], ['٣'], ['1e3'],
    ['0001'], ['1234567890123456789'], ['12345678901234567890'], [3, '4'], [True], [None], ['1', None], [],
    [2**64], [1.0], ['1', '2' * 20],
])
def test_bucket_counts_read_all_at_once_as_one_by_one(items):
    one_by_one = [shortcuts._u64(x) for x in items]
    assert shortcuts._u64_list(items) == (None if None in one_by_one else one_by_one)


@pytest.mark.parametrize('items', [
    [1.0, 4.5, -0.0], [1e308, 1e308], [float('nan')], [float('inf'), 1.0], [1, 2.5], [2**53 + 1], [True],
    ['1.5'], [None], [], [5e-324, -1e308],
])
def test_bounds_read_all_at_once_as_one_by_one(items):
    one_by_one = [shortcuts._double(x) for x in items]
    got = shortcuts._double_list(items)
    assert exact(got) == exact(None if None in one_by_one else one_by_one)


# --------------------------------------------- the other spellings of the same

SNAKE = {key: ''.join('_' + c.lower() if c.isupper() else c for c in key) for key in [
    'resourceSpans', 'scopeSpans', 'traceId', 'spanId', 'parentSpanId', 'traceState', 'startTimeUnixNano',
    'endTimeUnixNano', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount', 'timeUnixNano',
    'resourceLogs', 'scopeLogs', 'logRecords', 'observedTimeUnixNano', 'severityNumber', 'severityText',
    'eventName', 'resourceMetrics', 'scopeMetrics', 'dataPoints', 'aggregationTemporality', 'isMonotonic',
    'asDouble', 'asInt', 'bucketCounts', 'explicitBounds', 'exponentialHistogram', 'zeroCount',
    'quantileValues', 'filteredAttributes', 'schemaUrl', 'stringValue', 'intValue', 'doubleValue', 'boolValue',
    'arrayValue', 'kvlistValue', 'bytesValue']}
INT_KEYS = {'startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano', 'observedTimeUnixNano', 'intValue',
            'asInt', 'count', 'zeroCount'}
ENUM_NAMES = {'kind': {n: f'SPAN_KIND_{t.upper()}' for n, t in mapping.SPAN_KINDS.items()},
              'code': {0: 'STATUS_CODE_UNSET', 1: 'STATUS_CODE_OK', 2: 'STATUS_CODE_ERROR'},
              'aggregationTemporality': {1: 'AGGREGATION_TEMPORALITY_DELTA',
                                         2: 'AGGREGATION_TEMPORALITY_CUMULATIVE'}}


def respell(value, rng):
    """The same request as protobuf's JSON also reads it: snake_case names, int64 as numbers,
    enums by name, ids in upper case, fields it does not know."""
    if isinstance(value, list):
        return [respell(v, rng) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        v = respell(v, rng)
        if key in INT_KEYS and isinstance(v, str) and rng.random() < 0.5:
            v = int(v)
        elif key in ENUM_NAMES and v in ENUM_NAMES[key] and rng.random() < 0.5:
            v = ENUM_NAMES[key][v]
        elif key in ('traceId', 'spanId', 'parentSpanId') and rng.random() < 0.5:
            v = v.upper()
        out[SNAKE.get(key, key) if rng.random() < 0.3 else key] = v
    if rng.random() < 0.05:
        out['someFutureField'] = {'added': 'in a newer OTLP'}
    return out


def test_generated_telemetry_respelled_maps_the_same(generated):
    rng = random.Random(8)
    for request in generated:
        kind, _ = assert_same(respell(request, rng))
        assert kind == 'rows'


# ---------------------------------------------------------- random input

def mostly(usual, odd, odd_percent=1):
    """Usually a value a writer would send, now and then an odd or invalid one."""
    return st.integers(0, 99).flatmap(lambda n: odd if n < odd_percent else usual)


def _hex_id(usual, size):
    return mostly(st.sampled_from([*usual, '0' * 2 * size, '']),
                  st.sampled_from(['5b8efff798038103d269b633813fc60', 'eee19b7ec3c1b17', 'W4/3l4A4gQPSabYzgT/GDA==',
                                   'zz' * size, 'é' * 2 * size, '0' * size, 7, None, []]), 3)


trace_id = _hex_id(['5B8EFFF798038103D269B633813FC60C', '5b8efff798038103d269b633813fc60c'], 16)
span_id = _hex_id(['eee19b7ec3c1b173', 'EEE19B7EC3C1B174'], 8)
int64 = mostly(st.one_of(st.integers(0, 2**64 - 1).map(str), st.integers(0, 2**63)),
               st.one_of(st.integers(-2**64, 2**65).map(str), st.integers(-2**63 - 2, 2**64 + 2), st.floats(),
                         st.sampled_from(['1e3', '12.0', '1.5', ' 7', '\t7', '0x10', '1_000', '٣', '²', '', 'NaN',
                                          '-0', '007', '1e999']), st.booleans(), st.none(), st.just([])),
               odd_percent=2)
uint32 = mostly(st.integers(0, 2**32 - 1), int64, 3)
int32 = mostly(st.integers(-2**31, 2**31 - 1), int64, 3)
enum = mostly(st.integers(0, 2), st.one_of(
    st.integers(-2**31 - 1, 2**31), st.booleans(), st.floats(),
    st.sampled_from(['SPAN_KIND_CLIENT', 'STATUS_CODE_ERROR', 'SEVERITY_NUMBER_WARN', 'AGGREGATION_TEMPORALITY_DELTA',
                     'BOGUS', '3', '2.0', '', None, []])), odd_percent=4)
text = mostly(st.text(max_size=6), st.one_of(
    st.sampled_from(['\ud800', 'a\udfff', '\u2028', '"<&>"', '\x00\x1f', '\udc00\ud800']), st.integers(0, 9),
    st.none()))
double = mostly(st.floats(allow_nan=False, allow_infinity=False), st.one_of(
    st.floats(), st.integers(-2**70, 2**70), st.booleans(), st.none(),
    st.sampled_from(['NaN', 'Infinity', '-Infinity', 'nan', 'inf', ' 1.5', '1e999', 'x', 10**400])))
usual_scalar = st.one_of(
    st.builds(lambda v: {'stringValue': v}, st.text(max_size=6)),
    st.builds(lambda v: {'intValue': v}, st.one_of(st.integers(-2**63, 2**63 - 1).map(str),
                                                   st.integers(-2**63, 2**63 - 1))),
    st.builds(lambda v: {'doubleValue': v}, st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(lambda v: {'boolValue': v}, st.booleans()))
odd_scalar = st.one_of(
    st.builds(lambda v: {'stringValue': v}, text), st.builds(lambda v: {'intValue': v}, int64),
    st.builds(lambda v: {'doubleValue': v}, double), st.builds(lambda v: {'boolValue': v}, st.one_of(
        st.just('true'), st.none(), st.integers(0, 1))),
    st.builds(lambda v: {'bytesValue': v}, st.sampled_from(['AAECAw==', 'AAECAw', '-_-_', '!!', '', 5])),
    st.builds(lambda v: {'stringValueStrindex': v}, st.integers(-3, 3)),
    st.builds(lambda v: {'doubleValue': v}, st.sampled_from([float('nan'), float('inf'), 'NaN', '-Infinity'])),
    st.sampled_from([{}, {'stringValue': 'a', 'intValue': '1'}, {'string_value': 'snake'}, {'int_value': 5},
                     {'stringValue': 'x', 'string_value': None}, {'intValue': None}, 'stringValue', ['x'], 3,
                     {'stringValue': 'x', 'future': 1}]))
scalar_value = mostly(usual_scalar, odd_scalar, odd_percent=5)


def _key_values(values, size=3):
    return st.lists(st.builds(lambda k, v: {'key': k, 'value': v},
                              mostly(st.text(max_size=4), text), values), max_size=size)


any_value = st.recursive(scalar_value, lambda children: mostly(st.one_of(
    st.builds(lambda vs: {'arrayValue': {'values': vs}}, st.lists(children, max_size=3)),
    st.builds(lambda kvs: {'kvlistValue': {'values': kvs}}, _key_values(children))),
    st.sampled_from([{'arrayValue': {}}, {'kvlistValue': 'abc'}, {'arrayValue': None}, {'kvlistValue': []},
                     {'arrayValue': {'values': [None]}}, {'array_value': {'values': [{'intValue': 1}]}}]),
    odd_percent=10), max_leaves=8)
odd_item = st.sampled_from([{'key': 'k'}, {'value': {'intValue': 1}}, {'key': 'k', 'value': {'intValue': 1}, 'x': 1},
                            None, 'key', {'key': 'k', 'value': None}, {'key': None, 'value': {}}])
attributes = mostly(_key_values(any_value, 5),
                    st.one_of(st.lists(st.one_of(_key_values(usual_scalar, 1).map(lambda kvs: kvs[0] if kvs else {}),
                                                 odd_item), max_size=3), st.none(), st.just({}), st.just('ab')), 2)


def _message(fields, unknown=True, required=()):
    """A JSON object of some of `fields` (name -> strategy; the `required` ones mostly there),
    sometimes snake_cased, with a field protobuf does not know, or (rarely) no object at all."""
    def build(chosen, snake, extra, where):
        items = [(SNAKE.get(key, key) if snake else key, value) for key, value in chosen.items()]
        if extra and unknown:
            items.insert(where % (len(items) + 1), ('unknownField', {'a': 1}))
        return dict(items)
    present = mostly(st.just({k: fields[k] for k in required}), st.just({}), 5)
    chosen = present.flatmap(lambda req: st.fixed_dictionaries(
        req, optional={k: v for k, v in fields.items() if k not in req}))
    obj = st.builds(build, chosen, mostly(st.just(False), st.just(True), 15),
                    mostly(st.just(False), st.just(True), 5), st.integers(0, 9))
    return mostly(obj, st.sampled_from(['', 'ab', [], ['x'], 5, None]), odd_percent=2)


def _items(strategy, size=3):
    return mostly(st.lists(strategy, min_size=1, max_size=size), st.lists(strategy, max_size=size), 10)


def _list(strategy, max_size=2):
    """A repeated field: a list, now and then null or (invalid) no list at all."""
    return mostly(st.lists(strategy, max_size=max_size), st.sampled_from([None, '', 'ab', 0, False, {}, {'a': 1}]), 3)


event = _message({'timeUnixNano': int64, 'name': text, 'attributes': attributes, 'droppedAttributesCount': uint32})
link = _message({'traceId': trace_id, 'spanId': span_id, 'traceState': text, 'attributes': attributes,
                 'flags': uint32})
span = _message({'traceId': trace_id, 'spanId': span_id, 'parentSpanId': span_id, 'name': text, 'kind': enum,
                 'startTimeUnixNano': int64, 'endTimeUnixNano': int64, 'attributes': attributes,
                 'flags': uint32, 'droppedAttributesCount': uint32, 'traceState': text,
                 'events': _list(event), 'links': _list(link),
                 'status': _message({'code': enum, 'message': text})})
resource = _message({'attributes': attributes, 'droppedAttributesCount': uint32})
scope = _message({'name': text, 'version': text, 'attributes': attributes})


def _request(signal, scope_key, items_key, items):
    scopes = _message({'scope': scope, 'schemaUrl': text, items_key: _items(items)}, required=[items_key])
    container = _message({'resource': resource, 'schemaUrl': text, scope_key: _items(scopes, 2)},
                         required=[scope_key])
    return st.builds(lambda rs: {signal: rs}, _items(container, 2))


log_record = _message({'timeUnixNano': int64, 'observedTimeUnixNano': int64, 'severityNumber': enum,
                       'severityText': text, 'body': any_value, 'attributes': attributes, 'flags': uint32,
                       'traceId': trace_id, 'spanId': span_id, 'eventName': text})
number_value = mostly(st.one_of(st.builds(lambda v: {'asDouble': v}, double),
                                st.builds(lambda v: {'asInt': v}, int64), st.just({})),
                      st.builds(lambda d, i: {'asDouble': d, 'asInt': i}, double, int64))


def _with_value(point):
    """A data point or exemplar with its value oneof (usually one of asDouble / asInt)."""
    def merge(obj, value):
        return {**obj, **value} if isinstance(obj, dict) else obj
    return st.builds(merge, point, number_value)


exemplar = _with_value(_message({'filteredAttributes': attributes, 'timeUnixNano': int64, 'traceId': trace_id,
                                 'spanId': span_id}))
number_point = _with_value(_message({'attributes': attributes, 'startTimeUnixNano': int64, 'timeUnixNano': int64,
                                     'exemplars': _list(exemplar), 'flags': uint32}))
histogram_point = _message({'attributes': attributes, 'timeUnixNano': int64, 'count': int64, 'sum': double,
                            'bucketCounts': _list(int64, 3), 'explicitBounds': _list(double, 3),
                            'min': double, 'max': double, 'exemplars': _list(exemplar, 1)})
exp_point = _message({'timeUnixNano': int64, 'count': int64, 'scale': int32, 'zeroCount': int64, 'sum': double,
                      'positive': _message({'offset': int32, 'bucketCounts': _list(int64)}),
                      'negative': _message({'offset': int32}), 'min': double})
summary_point = _message({'timeUnixNano': int64, 'count': int64, 'sum': double, 'quantileValues': _list(
    _message({'quantile': double, 'value': double}))})
DATA = {
    'gauge': _message({'dataPoints': _items(number_point)}, required=['dataPoints']),
    'sum': _message({'dataPoints': _items(number_point), 'aggregationTemporality': enum,
                     'isMonotonic': mostly(st.booleans(), text)}, required=['dataPoints']),
    'histogram': _message({'dataPoints': _items(histogram_point), 'aggregationTemporality': enum},
                          required=['dataPoints']),
    'exponentialHistogram': _message({'dataPoints': _items(exp_point)}, required=['dataPoints']),
    'summary': _message({'dataPoints': _items(summary_point)}, required=['dataPoints']),
}


def _metric():
    """A metric with (usually) one kind of data; a second kind or none is rejected."""
    head = _message({'name': text, 'unit': text, 'description': text})
    kinds = mostly(st.sampled_from(sorted(DATA)).map(lambda k: [k]),
                   st.lists(st.sampled_from(sorted(DATA)), max_size=2, unique=True))

    def merge(obj, data):
        return {**obj, **data} if isinstance(obj, dict) else obj
    data = kinds.flatmap(lambda ks: st.fixed_dictionaries({k: DATA[k] for k in ks}))
    return st.builds(merge, head, data)


metric = _metric()

RANDOM = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RANDOM
@given(_request('resourceSpans', 'scopeSpans', 'spans', span))
def test_random_trace_requests_map_the_same_or_are_rejected_by_both(request_):
    assert_same(request_)


@RANDOM
@given(_request('resourceLogs', 'scopeLogs', 'logRecords', log_record))
def test_random_log_requests_map_the_same_or_are_rejected_by_both(request_):
    assert_same(request_)


@RANDOM
@given(_request('resourceMetrics', 'scopeMetrics', 'metrics', metric))
def test_random_metric_requests_map_the_same_or_are_rejected_by_both(request_):
    assert_same(request_)


@settings(max_examples=300, deadline=None)
@given(any_value)
def test_any_value_trees_print_as_the_reference_prints_them(value):
    request = {'resourceLogs': [{'scopeLogs': [{'logRecords': [
        {'body': value, 'attributes': [{'key': 'k', 'value': value}]}]}]}]}
    assert_same(request)


# ------------------------------------------------------- error messages

@pytest.mark.parametrize('request_, message', [
    ({'resourceSpans': [{'scopeSpans': [{'spans': [{'kind': 'BOGUS'}]}]}]},
     'resourceSpans[0].scopeSpans[0].spans[0].kind: Invalid enum value BOGUS for enum type '
     'opentelemetry.proto.trace.v1.Span.SpanKind'),
    ({'resourceLogs': [{'scopeLogs': [{'logRecords': [{'spanId': 'abc'}]}]}]},
     "resourceLogs[0].scopeLogs[0].logRecords[0].spanId must be 16 hex digits, got 'abc'"),
    ({'resourceSpans': [{'scopeSpans': [{'spans': [{'startTimeUnixNano': '1.5'}]}]}]},
     'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: Couldn\'t parse non-integer string: "1.5"'),
    ({'resourceSpans': {}}, 'resourceSpans: repeated field resourceSpans must be in [] which is {}'),
    ({'resourceMetrics': [{'scopeMetrics': [{'metrics': [{'name': 'm', 'gauge': {}, 'sum': {}}]}]}]},
     'resourceMetrics[0].scopeMetrics[0].metrics[0].sum: Message type "opentelemetry.proto.metrics.v1.Metric" '
     'should not have multiple "data" oneof fields'),
])
def test_errors_say_where_and_why(request_, message):
    with pytest.raises(OtlpError) as err:
        fast.json_rows(request_)
    assert str(err.value) == message


def test_an_unknown_enum_name_is_ignored_only_after_an_unknown_field():
    # The reference parses strictly and retries leniently when the first error is an unknown field.
    after = {'resourceSpans': [{'scopeSpans': [{'spans': [{'x': 1, 'kind': 'BOGUS', 'name': 'n'}]}]}]}
    before = {'resourceSpans': [{'scopeSpans': [{'spans': [{'kind': 'BOGUS', 'x': 1}]}]}]}
    assert assert_same(after)[0] == 'rows'
    assert fast.json_rows(after)['otel_traces'][0]['SpanKind'] == 'Unspecified'
    assert assert_same(before)[0] == 'rejected'


# ------------------------------------------- decoding with orjson (llmwh.otlp.rows)

def decoded_outcome(text):
    """What the loader makes of one request line: rows of every table, or its bad-line error."""
    out = rows.Converted()
    tables = rows._groups([(1, text)], out)
    if out.bad:
        return 'rejected', out.bad[0].error
    return 'rows', exact({table: fast.group_rows(table, groups) for table, groups in tables.items()})


def json_outcome(text):
    """The same through json.loads and the reference mapping (what the loader must match)."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return 'rejected', 'invalid JSON'
    return reference(obj)


def _span_line(attributes, extra=''):
    return ('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},'
            '"scopeSpans":[{"scope":{"name":"n"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
            '"spanId":"eee19b7ec3c1b173","name":"x","kind":3,"startTimeUnixNano":"1","endTimeUnixNano":"2",'
            f'"attributes":[{attributes}]{extra}}}]}}]}}]}}')


HOSTILE = [
    '{"key":"q","value":{"stringValue":"say \\"hi\\" \\\\ back\\\\slash\\n new\\r\\tline \\u0000 nul"}}',
    '{"key":"s","value":{"stringValue":"lone \\ud800 surrogate"}}',
    '{"key":"s","value":{"stringValue":"pair \\ud83d\\ude00 and \\u00e9 é \\u2028"}}',
    '{"key":"i","value":{"intValue":18446744073709551616}}',
    '{"key":"i","value":{"intValue":-9223372036854775809}}',
    '{"key":"i","value":{"intValue":9223372036854775807}}',
    '{"key":"i","value":{"intValue":"123456789012345678901234567890"}}',
    '{"key":"d","value":{"doubleValue":123456789012345678901234567890}}',
    '{"key":"d","value":{"doubleValue":-9223372036854775809}}',
    '{"key":"d","value":{"doubleValue":NaN}}', '{"key":"d","value":{"doubleValue":Infinity}}',
    '{"key":"d","value":{"doubleValue":-Infinity}}', '{"key":"d","value":{"doubleValue":"NaN"}}',
    '{"key":"d","value":{"doubleValue":1e400}}', '{"key":"d","value":{"doubleValue":5e-324}}',
    '{"key":"d","value":{"doubleValue":-0.0}}', '{"key":"d","value":{"doubleValue":0.1e1}}',
    '{"key":"a","value":{"arrayValue":{"values":[{"intValue":18446744073709551616},{"doubleValue":1e308}]}}}',
    '{"key":"k","value":{"kvlistValue":{"values":[{"key":"\\"","value":{"stringValue":"\\\\"}}]}}}',
    '{"key":"dup","value":{"stringValue":"a"},"key":"later"}',
]


@pytest.mark.parametrize('text', [_span_line(a) for a in HOSTILE] + [
    _span_line('', ',"droppedAttributesCount":18446744073709551616'),
    _span_line('', ',"flags":-9223372036854775809'),
    _span_line('', ',"startTimeUnixNano":18446744073709551616'),
    _span_line('', ',"kind":9223372036854775808'),
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","histogram":{"dataPoints":[{"count":'
    '18446744073709551616,"sum":18446744073709551616,"bucketCounts":[1,"2"],"explicitBounds":[1e308,1e308]}]}}]}]}]}',
    '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":'
    '-9223372036854775809,"dataPoints":[{"asDouble":-9223372036854775809,"timeUnixNano":"5"}]}}]}]}]}',
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\\ud800"},"timeUnixNano":"1"}]}]}]}',
    '{"resourceSpans": 18446744073709551616}', '18446744073709551616', '-9223372036854775809', '[]', 'null',
    '{"resourceSpans":[]} x', '{"resourceSpans":[],}', '\ufeff{"resourceSpans":[]}',
])
def test_hostile_lines_load_as_the_reference_reads_them(text):
    assert decoded_outcome(text)[0] == json_outcome(text)[0]
    if json_outcome(text)[0] == 'rows':
        assert decoded_outcome(text) == json_outcome(text)


def _resource_line(attributes):
    return ('{"resourceLogs":[{"resource":{"attributes":[%s]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1"}]}]}]}'
            % attributes)


RESOURCES = [   # values that print alike in some JSON writers, in turn: each maps as the reference maps it
    '{"key":"d","value":{"doubleValue":0.0}}', '{"key":"d","value":{"doubleValue":-0.0}}',
    '{"key":"d","value":{"doubleValue":1e400}}', '{"key":"d","value":{"doubleValue":null}}',
    '{"key":"d","value":{"doubleValue":NaN}}', '{"key":"i","value":{"intValue":1}}',
    '{"key":"i","value":{"intValue":1.0}}', '{"key":"i","value":{"intValue":"1"}}',
    '{"key":"b","value":{"boolValue":true}}', '{"key":"i","value":{"intValue":18446744073709551616}}',
    '{"key":"s","value":{"stringValue":"\\u00e9"}}', '{"key":"s","value":{"stringValue":"é"}}',
    '{"key":"s","value":{"stringValue":"\\ud800"}}',
    '{"key":"service.name","value":{"stringValue":"a"}},{"key":"service.name","value":{"stringValue":"b"}}',
    '{"key":"service.name","value":{"stringValue":"b"}},{"key":"service.name","value":{"stringValue":"a"}}',
]


def test_resources_remembered_map_as_the_reference_maps_them():
    for _ in range(2):   # the second time from what the first remembered
        for attributes in RESOURCES:
            text = _resource_line(attributes)
            assert decoded_outcome(text) == json_outcome(text) or \
                decoded_outcome(text)[0] == json_outcome(text)[0] == 'rejected', attributes


def _exemplar_line(exemplar, kind='histogram'):
    point = '{"count":"2","sum":1.5,"timeUnixNano":"5","exemplars":[%s]}' if kind == 'histogram' else \
        '{"asInt":"3","timeUnixNano":"5","exemplars":[%s]}'
    return ('{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","%s":{"dataPoints":[%s]}}]}]}]}'
            % (kind, point % exemplar))


EXEMPLARS = [   # (exemplar, 'short': read the short way, 'long': the long way, or 'rejected')
    ('{"timeUnixNano":"1795567242067284075","asDouble":1.5,"spanId":"8f46bf20452389ee",'
     '"traceId":"460933b3c75f3ec4f2504697a81ec02f"}', 'short'),
    ('{"asInt":"-922337203685477580","spanId":"8F46BF20452389EE","traceId":"460933B3C75F3EC4F2504697A81EC02F"}',
     'short'),
    ('{"asInt":"-9223372036854775808"}', 'long'),
    ('{"spanId":"0000000000000000","traceId":"00000000000000000000000000000000"}', 'short'),
    ('{"spanId":"","traceId":"","asDouble":null}', 'short'), ('{"timeUnixNano":null}', 'long'),
    ('{"spanId":null,"asInt":9223372036854775807,"filteredAttributes":[{"key":"q\\"\\n\\u0000é",'
     '"value":{"stringValue":"\\\\ \\ud83d\\ude00"}},{"key":"d","value":{"doubleValue":1e21}},'
     '{"key":"d","value":{"intValue":"7"}}]}', 'short'),
    ('{"asDouble":"NaN"}', 'long'), ('{"asDouble":"-Infinity","asInt":null}', 'long'),
    ('{"timeUnixNano":18446744073709551615}', 'short'), ('{"timeUnixNano":"18446744073709551615"}', 'long'),
    ('{"asInt":"18446744073709551616"}', 'rejected'), ('{"asDouble":1.5,"asInt":"1"}', 'rejected'),
    ('{"asDouble":NaN}', 'rejected'), ('{"spanId":"8f46bf20452389e"}', 'rejected'), ('{"traceId":"zz"}', 'rejected'),
    ('{"spanId":"8f46bf20452389eg"}', 'rejected'), ('{"timeUnixNano":"-1"}', 'rejected'),
    ('{"filteredAttributes":[{"key":"s","value":{"stringValue":"\\ud800"}}]}', 'rejected'),
    ('{"filtered_attributes":[],"span_id":"8f46bf20452389ee"}', 'long'), ('{"future":1}', 'long'),
    ('null', 'rejected'), ('{}, 7', 'rejected'), ('{}', 'short'),
]


@pytest.mark.parametrize('kind', ['histogram', 'sum'])
@pytest.mark.parametrize('exemplar, way', EXEMPLARS)
def test_exemplars_load_as_the_reference_reads_them(exemplar, way, kind):
    text = _exemplar_line(exemplar, kind)
    want = json_outcome(text)
    assert want[0] == ('rejected' if way == 'rejected' else 'rows'), want
    assert decoded_outcome(text) == want if way != 'rejected' else decoded_outcome(text)[0] == 'rejected'
    if way != 'rejected':
        assert (fast.short_groups(orjson.loads(text)) is not None) == (way == 'short')


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                 st.integers(-2**80, 2**80).map(str),
                 st.builds(lambda m, e: f'{m}e{e}', st.integers(-10**20, 10**20), st.integers(-330, 310))))
def test_orjson_reads_a_double_as_the_long_way_does(literal):
    # The short way takes orjson's float where the long way takes float() of json.loads's value.
    try:
        want = float(json.loads(literal))
    except OverflowError:
        return
    text = _span_line('{"key":"d","value":{"doubleValue":%s}}' % literal)
    want_kind, want_rows = json_outcome(text)
    assert decoded_outcome(text)[0] == want_kind
    if want_kind == 'rows':
        assert decoded_outcome(text)[1] == want_rows
    if math.isfinite(want):   # a finite double is a valid value
        assert decoded_outcome(text)[0] == 'rows'
