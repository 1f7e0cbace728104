"""OTLP/JSON export requests -> exporter rows, read straight from the decoded JSON.

The same rows as llmwh.otlp.mapping (the reference, which parses with protobuf's
pure-Python json_format and maps the messages), an order of magnitude cheaper:
requests are read as dicts under protobuf's JSON rules (llmwh.otlp.protojson,
tables from the opentelemetry-proto descriptors), and spans, log records and
attribute lists of the usual shape take a short way (llmwh.otlp.shortcuts).
tests/test_otlp_fast.py holds both paths to identical rows and identical
accept/reject decisions.

Rows come in groups that share their resource/scope columns (HEADS), so a
writer builds those once per group (llmwh.otlp.batches); `json_rows` gives
plain rows like mapping.json_rows.
"""

import base64
from typing import Dict, List, Tuple

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmwh.otlp import protojson as pj, shortcuts as short
from llmwh.otlp.mapping import (METRIC_TABLES, SPAN_KINDS, STATUS_CODES, OtlpError, duration_ns,
                                go_json, request_signal, seconds, signed_ns)
from llmwh.otlp.protojson import MAX_DEPTH, ReadError, State, read_message
from llmwh.otlp.shortcuts import double_text, sorted_map

Group = Tuple[tuple, List[tuple]]   # (HEAD values, [ROW values of each row])

# ------------------------------------------------------------ the schema

_MESSAGES = {}
REQUESTS = {
    'traces': pj.message_spec(ExportTraceServiceRequest.DESCRIPTOR, _MESSAGES),
    'logs': pj.message_spec(ExportLogsServiceRequest.DESCRIPTOR, _MESSAGES),
    'metrics': pj.message_spec(ExportMetricsServiceRequest.DESCRIPTOR, _MESSAGES),
}
_P = 'opentelemetry.proto.'
_KEY_VALUE = _MESSAGES[_P + 'common.v1.KeyValue']
_ANY_VALUE = _MESSAGES[_P + 'common.v1.AnyValue']
_EMPTY = {}


# ---------------------------------------------------------- AnyValue

def read_any(js, msg, depth: int, st: State) -> object:
    """An AnyValue as pdata's AsRaw() value: str, bool, int, float, bytes, list, dict or None."""
    if type(js) is dict and len(js) == 1 and depth <= MAX_DEPTH:
        (key, x), = js.items()
        t = type(x)
        if key == 'stringValue':
            if t is str and x.isascii():
                return x
        elif key == 'intValue':
            if t is int and -(1 << 63) <= x < (1 << 63):
                return x
        elif key == 'boolValue':
            if t is bool:
                return x
        elif key == 'doubleValue':
            if t is float and x - x == 0.0:
                return x
    fields = read_message(js, msg, depth, st)
    for name, value in fields.items():   # at most one: all fields are in the `value` oneof
        if name == 'array_value':
            return value.get('values', [])
        if name == 'kvlist_value':
            return {kv.get('key', ''): kv.get('value') for kv in value.get('values', ())}
        return value
    return None


def as_string(raw) -> str:
    """pdata's Value.AsString() of an AsRaw() value (mapping.value_str on a message)."""
    t = type(raw)
    if t is str:
        return raw
    if raw is None:
        return ''
    if t is bool:
        return 'true' if raw else 'false'
    if t is int:
        return str(raw)
    if t is float:
        return double_text(raw)
    if t is bytes:
        return base64.b64encode(raw).decode('ascii')
    try:
        return go_json(raw)
    except ValueError:
        return ''   # NaN/Inf inside: Go's json.Marshal fails, AsString ignores the error


def _pairs(value, f, depth: int, st: State) -> list:
    """(key, AsString) of a repeated KeyValue field, in order (the long way)."""
    if type(value) is not list:
        raise ReadError(f'repeated field {f.key} must be in [] which is {value!r:.40}')
    out = []
    for i, kv in enumerate(value):
        try:
            if kv is None:
                raise ReadError('null is not allowed to be used as an element in a repeated field')
            fields = read_message(kv, _KEY_VALUE, depth + 1, st)
        except ReadError as ex:
            raise ex.at(f'[{i}]')
        out.append((fields.get('key', ''), as_string(fields.get('value'))))
    return out


def read_attributes(value, f, depth: int, st: State) -> dict:
    """An attribute list as the exporter's map values (later keys win; not yet sorted)."""
    if depth + 2 <= MAX_DEPTH:
        out = short.attributes(value)
        if out is not None:
            return out
    return dict(_pairs(value, f, depth, st))


def read_resource_attributes(value, f, depth: int, st: State) -> tuple:
    """(attributes, service.name): pcommon.Map.Get finds the first entry with a key."""
    pairs = _pairs(value, f, depth, st)
    service = next((text for key, text in pairs if key == 'service.name'), '')
    return dict(pairs), service


def _customize():
    """Hook the mapping into the descriptor tables: AnyValues read as raw values, attribute
    lists as maps, spans and log records straight to rows, and OTLP's hex ids."""
    _ANY_VALUE.reader = read_any
    _MESSAGES[_P + 'trace.v1.Span'].reader = read_span
    _MESSAGES[_P + 'logs.v1.LogRecord'].reader = read_log_record
    _MESSAGES[_P + 'metrics.v1.NumberDataPoint'].reader = _short_or_long(short.number_point)
    _MESSAGES[_P + 'metrics.v1.HistogramDataPoint'].reader = _short_or_long(short.histogram_point)
    kv_list = _MESSAGES[_P + 'common.v1.KeyValueList']
    for msg in _MESSAGES.values():
        for f in msg.by_name.values():
            if f.msg is _KEY_VALUE and f.repeated and msg is not kv_list:
                f.read = read_attributes
    _MESSAGES[_P + 'resource.v1.Resource'].by_name['attributes'].read = read_resource_attributes
    # The reference turns these hex ids to bytes before protobuf reads them (mapping._hex_id).
    for owner, names in [('trace.v1.Span', ('trace_id', 'span_id', 'parent_span_id')),
                         ('trace.v1.Span.Link', ('trace_id', 'span_id')),
                         ('logs.v1.LogRecord', ('trace_id', 'span_id')),
                         ('metrics.v1.Exemplar', ('trace_id', 'span_id'))]:
        for name in names:
            f = _MESSAGES[_P + owner].by_name[name]
            f.kind, f.size = pj.HEX_ID, 16 if name == 'trace_id' else 8


# ------------------------------------------------------------- row shapes

# Rows come in groups: the columns of the resource/scope (and metric) they share,
# once per group (HEAD), then each row's own columns (ROW), both as tuples.
TRACE_HEAD = ('ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion')
TRACE_ROW = ('Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind',
             'SpanAttributes', 'Duration', 'StatusCode', 'StatusMessage', 'Events.Timestamp', 'Events.Name',
             'Events.Attributes', 'Links.TraceId', 'Links.SpanId', 'Links.TraceState', 'Links.Attributes')
LOG_HEAD = ('ServiceName', 'ResourceSchemaUrl', 'ResourceAttributes', 'ScopeSchemaUrl', 'ScopeName',
            'ScopeVersion', 'ScopeAttributes')
LOG_ROW = ('Timestamp', 'TraceId', 'SpanId', 'TraceFlags', 'SeverityText', 'SeverityNumber', 'Body',
           'LogAttributes', 'EventName')
METRIC_HEAD = ('ResourceAttributes', 'ResourceSchemaUrl', 'ScopeName', 'ScopeVersion', 'ScopeAttributes',
               'ScopeDroppedAttrCount', 'ScopeSchemaUrl', 'ServiceName', 'MetricName', 'MetricDescription',
               'MetricUnit')
_METRIC_POINT = ('Attributes', 'StartTimeUnix', 'TimeUnix')
_EXEMPLARS = ('Exemplars.FilteredAttributes', 'Exemplars.TimeUnix', 'Exemplars.Value', 'Exemplars.SpanId',
              'Exemplars.TraceId')
_GAUGE_ROW = _METRIC_POINT + ('Value', 'Flags') + _EXEMPLARS
_HISTOGRAM_TAIL = _EXEMPLARS + ('Flags', 'Min', 'Max', 'AggregationTemporality')
HEADS = {'otel_traces': TRACE_HEAD, 'otel_logs': LOG_HEAD, **{t: METRIC_HEAD for t in METRIC_TABLES.values()}}
# The order of llmwh.warehouse.exporter.INSERT_COLUMNS without the head (test_otlp_fast checks it);
# not imported from there: worker processes need no warehouse.
ROWS = {
    'otel_traces': TRACE_ROW, 'otel_logs': LOG_ROW,
    'otel_metrics_gauge': _GAUGE_ROW,
    'otel_metrics_sum': _GAUGE_ROW + ('AggregationTemporality', 'IsMonotonic'),
    'otel_metrics_histogram': _METRIC_POINT + ('Count', 'Sum', 'BucketCounts', 'ExplicitBounds') + _HISTOGRAM_TAIL,
    'otel_metrics_exponential_histogram': _METRIC_POINT + (
        'Count', 'Sum', 'Scale', 'ZeroCount', 'PositiveOffset', 'PositiveBucketCounts', 'NegativeOffset',
        'NegativeBucketCounts') + _HISTOGRAM_TAIL,
    'otel_metrics_summary': _METRIC_POINT + ('Count', 'Sum', 'ValueAtQuantiles.Quantile', 'ValueAtQuantiles.Value',
                                             'Flags'),
}


def _id(raw) -> str:
    """TraceIDToHexOrEmptyString: an all-zero (or absent) id is ''."""
    return raw.hex() if raw and raw.strip(b'\0') else ''


def _exemplar_id(raw, size: int) -> str:
    return raw.hex() if raw else '00' * size


def _resource(holder: dict) -> tuple:
    attrs, service = holder.get('resource', _EMPTY).get('attributes', (_EMPTY, ''))
    return sorted_map(attrs), service


def _scope(holder: dict) -> tuple:
    scope = holder.get('scope', _EMPTY)
    return scope, scope.get('name', ''), scope.get('version', '')


# --------------------------------------------------------------- traces

def _span_row(span: dict) -> tuple:
    """A span read the long way (a dict of proto fields) as its TRACE_ROW values."""
    events, links = span.get('events', ()), span.get('links', ())
    start = span.get('start_time_unix_nano', 0)
    status = span.get('status', _EMPTY)
    return (
        signed_ns(start), _id(span.get('trace_id')), _id(span.get('span_id')),
        _id(span.get('parent_span_id')), span.get('trace_state', ''), span.get('name', ''),
        SPAN_KINDS.get(span.get('kind', 0), ''), sorted_map(span.get('attributes', _EMPTY)),
        duration_ns(start, span.get('end_time_unix_nano', 0)),
        STATUS_CODES.get(status.get('code', 0), ''), status.get('message', ''),
        [signed_ns(e.get('time_unix_nano', 0)) for e in events], [e.get('name', '') for e in events],
        [sorted_map(e.get('attributes', _EMPTY)) for e in events],
        [_id(link.get('trace_id')) for link in links], [_id(link.get('span_id')) for link in links],
        [link.get('trace_state', '') for link in links],
        [sorted_map(link.get('attributes', _EMPTY)) for link in links],
    )


def read_span(js, msg, depth: int, st: State) -> tuple:
    """A span as its TRACE_ROW values: the short way when it has the usual shape."""
    if depth + 4 <= MAX_DEPTH:   # the short way goes down to a link's attribute values
        row = short.span_row(js)
        if row is not None:
            return row
    return _span_row(read_message(js, msg, depth, st))


def trace_groups(req: dict) -> Dict[str, List[Group]]:
    groups = []
    for rs in req.get('resource_spans', ()):
        resource, service = _resource(rs)
        for ss in rs.get('scope_spans', ()):
            spans = ss.get('spans')   # already rows: Span's reader is read_span
            if spans:
                _, name, version = _scope(ss)
                groups.append(((service, resource, name, version), spans))
    return {'otel_traces': groups} if groups else {}


# ----------------------------------------------------------------- logs

def _log_row(r: dict) -> tuple:
    return (
        signed_ns(r.get('time_unix_nano') or r.get('observed_time_unix_nano', 0)),
        _id(r.get('trace_id')), _id(r.get('span_id')), r.get('flags', 0) & 0xFF,
        r.get('severity_text', ''), r.get('severity_number', 0) & 0xFF, as_string(r.get('body')),
        sorted_map(r.get('attributes', _EMPTY)), r.get('event_name', ''),
    )


def read_log_record(js, msg, depth: int, st: State) -> tuple:
    """A log record as its LOG_ROW values: the short way when it has the usual shape."""
    if depth + 3 <= MAX_DEPTH:
        row = short.log_row(js)
        if row is not None:
            # Read last, when nothing else of the record can fail: the body may take the long way.
            body = js.get('body')
            try:
                text = '' if body is None else as_string(read_any(body, _ANY_VALUE, depth + 1, st))
            except ReadError as ex:
                raise ex.at('body')
            return (*row[:6], text, *row[7:])
    return _log_row(read_message(js, msg, depth, st))


def _short_or_long(short_way):
    """A message reader: `short_way`'s dict of proto fields when the message is plain, else the long way."""
    def read(js, msg, depth: int, st: State) -> dict:
        if depth + 4 <= MAX_DEPTH:   # the short way goes down to an exemplar's attribute values
            fields = short_way(js)
            if fields is not None:
                return fields
        return read_message(js, msg, depth, st)
    return read


def log_groups(req: dict) -> Dict[str, List[Group]]:
    groups = []
    for rl in req.get('resource_logs', ()):
        resource, service = _resource(rl)
        for sl in rl.get('scope_logs', ()):
            records = sl.get('log_records')
            if records:
                scope, name, version = _scope(sl)
                head = (service, rl.get('schema_url', ''), resource, sl.get('schema_url', ''), name, version,
                        sorted_map(scope.get('attributes', _EMPTY)))
                groups.append((head, records))   # already rows: LogRecord's reader is read_log_record
    return {'otel_logs': groups} if groups else {}


# -------------------------------------------------------------- metrics

def _number(point: dict) -> float:
    if 'as_double' in point:
        return point['as_double']
    return float(point.get('as_int', 0))


def _exemplars(point: dict) -> tuple:
    ex = point.get('exemplars')
    if not ex:   # the usual case
        return [], [], [], [], []
    return ([sorted_map(e.get('filtered_attributes', _EMPTY)) for e in ex],
            [seconds(e.get('time_unix_nano', 0)) for e in ex], [_number(e) for e in ex],
            [_exemplar_id(e.get('span_id'), 8) for e in ex], [_exemplar_id(e.get('trace_id'), 16) for e in ex])


def _point_row(kind: str, data: dict, p: dict) -> tuple:
    """A data point's ROWS values (its table's column order, after the metric head)."""
    common = (sorted_map(p.get('attributes', _EMPTY)), seconds(p.get('start_time_unix_nano', 0)),
              seconds(p.get('time_unix_nano', 0)))
    flags, temporality = p.get('flags', 0), data.get('aggregation_temporality', 0)
    if kind in ('gauge', 'sum'):
        row = common + (_number(p), flags) + _exemplars(p)
        return row + (temporality, data.get('is_monotonic', False)) if kind == 'sum' else row
    count_sum = (p.get('count', 0), p.get('sum', 0.0))
    if kind == 'summary':
        quantiles = p.get('quantile_values', ())
        return common + count_sum + ([q.get('quantile', 0.0) for q in quantiles],
                                     [q.get('value', 0.0) for q in quantiles], flags)
    tail = _exemplars(p) + (flags, p.get('min', 0.0), p.get('max', 0.0), temporality)
    if kind == 'histogram':
        return common + count_sum + (p.get('bucket_counts', []), p.get('explicit_bounds', [])) + tail
    positive, negative = p.get('positive', _EMPTY), p.get('negative', _EMPTY)
    return common + count_sum + (p.get('scale', 0), p.get('zero_count', 0),
                                 positive.get('offset', 0), positive.get('bucket_counts', []),
                                 negative.get('offset', 0), negative.get('bucket_counts', [])) + tail


_METRIC_KINDS = tuple(METRIC_TABLES)


def _metric_group(metric: dict, scope_head: tuple, where: str) -> tuple:
    """(table, group) of one metric; a metric without data fails the request, as in the exporter."""
    kind = next((k for k in _METRIC_KINDS if k in metric), None)
    if kind is None:
        raise OtlpError(f'{where} ({metric.get("name", "")!r}) has no data: no gauge, sum, histogram, '
                        'exponentialHistogram or summary')
    data = metric[kind]
    head = scope_head + (metric.get('name', ''), metric.get('description', ''), metric.get('unit', ''))
    return METRIC_TABLES[kind], (head, [_point_row(kind, data, p) for p in data.get('data_points', ())])


def metric_groups(req: dict) -> Dict[str, List[Group]]:
    tables = {}
    for ri, rm in enumerate(req.get('resource_metrics', ())):
        resource, service = _resource(rm)
        for si, sm in enumerate(rm.get('scope_metrics', ())):
            scope, name, version = _scope(sm)
            scope_head = (resource, rm.get('schema_url', ''), name, version,
                          sorted_map(scope.get('attributes', _EMPTY)), scope.get('dropped_attributes_count', 0),
                          sm.get('schema_url', ''), service)
            for mi, metric in enumerate(sm.get('metrics', ())):
                where = f'resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}]'
                table, group = _metric_group(metric, scope_head, where)
                groups = tables.setdefault(table, [])
                if group[1]:
                    groups.append(group)
    return {table: groups for table, groups in tables.items() if groups}


# ------------------------------------------------- whole requests, the short way
#
# A request of the plain shape (camelCase keys only, every piece taking its short
# way) is read without the descriptor tables; anything else returns None and the
# whole request takes the long way, which reads it from the start (the short way
# never raises and keeps no state). Most of a request is its containers, so this
# saves the per-message walk of read_message.

_RESOURCE_KEYS = frozenset(['attributes', 'droppedAttributesCount'])
_SCOPE_KEYS = frozenset(['name', 'version', 'attributes', 'droppedAttributesCount'])
_RESOURCE_SPANS_KEYS = frozenset(['resource', 'scopeSpans', 'schemaUrl'])
_SCOPE_SPANS_KEYS = frozenset(['scope', 'spans', 'schemaUrl'])
_RESOURCE_LOGS_KEYS = frozenset(['resource', 'scopeLogs', 'schemaUrl'])
_SCOPE_LOGS_KEYS = frozenset(['scope', 'logRecords', 'schemaUrl'])
_RESOURCE_METRICS_KEYS = frozenset(['resource', 'scopeMetrics', 'schemaUrl'])
_SCOPE_METRICS_KEYS = frozenset(['scope', 'metrics', 'schemaUrl'])
_METRIC_KEYS = frozenset(['name', 'description', 'unit'])
_SHORT_DATA = {   # metric kind -> (keys its data may have, point reader)
    'gauge': (frozenset(['dataPoints']), short.number_point),
    'sum': (frozenset(['dataPoints', 'aggregationTemporality', 'isMonotonic']), short.number_point),
    'histogram': (frozenset(['dataPoints', 'aggregationTemporality']), short.histogram_point),
}
_NOT_PLAIN = object()
_RESOURCES = {}   # JSON text of a plain resource attribute list -> (sorted map, service.name); shared


def _short_text(x):
    """A plain string field ('' when absent or null), else _NOT_PLAIN."""
    if x is None:
        return ''
    return x if short.plain(x) else _NOT_PLAIN


def _short_count(x):
    """A uint32 count field (0 when absent or null), else _NOT_PLAIN."""
    if x is None:
        return 0
    return x if type(x) is int and 0 <= x < 1 << 32 else _NOT_PLAIN


def _short_list(holder: dict, key: str):
    """A repeated field's items (() when absent or null), or None when it is not a list."""
    items = holder.get(key)
    if items is None:
        return ()
    return items if type(items) is list else None


def _short_resource(holder: dict):
    """(sorted attributes, service.name) of a plain resource, or None."""
    resource = holder.get('resource')
    if resource is None:
        return {}, ''
    if (type(resource) is not dict or not _RESOURCE_KEYS.issuperset(resource)
            or _short_count(resource.get('droppedAttributesCount')) is _NOT_PLAIN):
        return None
    listed = resource.get('attributes')
    if listed is None:
        return {}, ''
    # Every request of a process repeats its resource: remembered by the list's JSON text (one
    # text, one value; only plain lists are remembered, and those hold no null, NaN or Infinity,
    # the values that print alike).
    try:
        key = orjson.dumps(listed)
    except TypeError:   # a lone surrogate or an integer beyond 64 bits (decoded by json.loads)
        key = None
    found = _RESOURCES.get(key)
    if found is not None:
        return found
    attrs = short.attributes(listed)
    # A repeated key: the map keeps the last, service.name is the first (the long way sorts that out).
    if attrs is None or len(attrs) != len(listed):
        return None
    found = sorted_map(attrs), attrs.get('service.name', '')
    if key is not None:
        if len(_RESOURCES) >= 1024:
            _RESOURCES.clear()
        _RESOURCES[key] = found
    return found


def _short_scope(holder: dict):
    """(name, version, sorted attributes, dropped attributes count) of a plain scope, or None."""
    scope = holder.get('scope')
    if scope is None:
        return '', '', {}, 0
    if type(scope) is not dict or not _SCOPE_KEYS.issuperset(scope):
        return None
    name, version = _short_text(scope.get('name')), _short_text(scope.get('version'))
    dropped, listed = _short_count(scope.get('droppedAttributesCount')), scope.get('attributes')
    attrs = {} if listed is None else short.attributes(listed)
    if attrs is None or _NOT_PLAIN in (name, version, dropped):
        return None
    return name, version, sorted_map(attrs), dropped


def _short_containers(req: dict, signal_key: str, outer_keys, inner_key: str, inner_keys, items_key: str):
    """(resource, resource schema url, scope, scope schema url, items) of each scope of a plain
    request, or None."""
    if len(req) != 1 or signal_key not in req:   # a proto_name spelling takes the long way
        return None
    outers = _short_list(req, signal_key)
    out = []
    for outer in outers or ():
        if type(outer) is not dict or not outer_keys.issuperset(outer):
            return None
        resource, url, inners = _short_resource(outer), _short_text(outer.get('schemaUrl')), \
            _short_list(outer, inner_key)
        if resource is None or url is _NOT_PLAIN or inners is None:
            return None
        for inner in inners:
            if type(inner) is not dict or not inner_keys.issuperset(inner):
                return None
            scope, scope_url, items = _short_scope(inner), _short_text(inner.get('schemaUrl')), \
                _short_list(inner, items_key)
            if scope is None or scope_url is _NOT_PLAIN or items is None:
                return None
            out.append((resource, url, scope, scope_url, items))
    return None if outers is None else out


def _short_trace_groups(req: dict):
    scopes = _short_containers(req, 'resourceSpans', _RESOURCE_SPANS_KEYS, 'scopeSpans', _SCOPE_SPANS_KEYS,
                               'spans')
    if scopes is None:
        return None
    groups = []
    for (attrs, service), _, (name, version, _, _), _, spans in scopes:
        rows = [short.span_row(span) for span in spans]
        if None in rows:
            return None
        if rows:
            groups.append(((service, attrs, name, version), rows))
    return {'otel_traces': groups} if groups else {}


_BODY_DEPTH = 5   # request, resourceLogs, scopeLogs, logRecords, body


def _short_body(body):
    """AsString of a log body, or None when reading it fails. Structured bodies (GenAI
    events) are read as read_log_record reads them; an error takes the long way for its path."""
    if body is None:
        return ''
    text = short.any_text(body)
    if text is not None:
        return text
    try:
        return as_string(read_any(body, _ANY_VALUE, _BODY_DEPTH, State()))
    except ReadError:
        return None


def _short_log_groups(req: dict):
    scopes = _short_containers(req, 'resourceLogs', _RESOURCE_LOGS_KEYS, 'scopeLogs', _SCOPE_LOGS_KEYS,
                               'logRecords')
    if scopes is None:
        return None
    groups = []
    for (attrs, service), url, (name, version, scope_attrs, _), scope_url, records in scopes:
        rows = []
        for record in records:
            row = short.log_row(record)
            body = None if row is None else _short_body(record.get('body'))
            if body is None:
                return None
            rows.append((*row[:6], body, *row[7:]))
        if rows:
            groups.append(((service, url, attrs, scope_url, name, version, scope_attrs), rows))
    return {'otel_logs': groups} if groups else {}


def _short_metric(metric):
    """(kind, data as proto fields, points as proto fields) of a plain metric, or None."""
    if type(metric) is not dict:
        return None
    kinds = [key for key in metric if key not in _METRIC_KEYS]
    if len(kinds) != 1 or kinds[0] not in _SHORT_DATA:
        return None
    kind = kinds[0]
    data, (data_keys, read_point) = metric[kind], _SHORT_DATA[kind]
    if type(data) is not dict or not data_keys.issuperset(data):
        return None
    temporality, monotonic = data.get('aggregationTemporality', 0), data.get('isMonotonic', False)
    points = _short_list(data, 'dataPoints')
    if type(temporality) is not int or not -(1 << 31) <= temporality < 1 << 31 or type(monotonic) is not bool \
            or points is None:
        return None
    points = [read_point(p) for p in points]
    if None in points:
        return None
    return kind, {'aggregation_temporality': temporality, 'is_monotonic': monotonic}, points


def _short_metric_groups(req: dict):
    scopes = _short_containers(req, 'resourceMetrics', _RESOURCE_METRICS_KEYS, 'scopeMetrics',
                               _SCOPE_METRICS_KEYS, 'metrics')
    if scopes is None:
        return None
    tables = {}
    for (attrs, service), url, (name, version, scope_attrs, dropped), scope_url, metrics in scopes:
        scope_head = (attrs, url, name, version, scope_attrs, dropped, scope_url, service)
        for metric in metrics:
            read = _short_metric(metric)
            if read is None:
                return None
            texts = [_short_text(metric.get(key)) for key in ('name', 'description', 'unit')]
            if _NOT_PLAIN in texts:
                return None
            kind, data, points = read
            groups = tables.setdefault(METRIC_TABLES[kind], [])
            if points:
                groups.append((scope_head + tuple(texts), [_point_row(kind, data, p) for p in points]))
    return {table: groups for table, groups in tables.items() if groups}


# ---------------------------------------------------------------- entry

_GROUPS = {'traces': trace_groups, 'logs': log_groups, 'metrics': metric_groups}
_SHORT_GROUPS = {'traces': _short_trace_groups, 'logs': _short_log_groups, 'metrics': _short_metric_groups}


def short_groups(obj):
    """table -> row groups of a request of the plain shape, or None (then json_groups decides).

    Takes a request decoded by orjson too, which reads an integer literal beyond
    64 bits as a float where json.loads keeps the int: the short way accepts a
    float only where a double goes (the long way's float() of that int is the same
    double) and sends the request the long way at any other number it does not expect."""
    if type(obj) is not dict:
        return None
    try:
        signal = request_signal(obj)
    except OtlpError:
        return None
    return _SHORT_GROUPS[signal](obj)


def json_groups(obj) -> Dict[str, List[Group]]:
    """table -> row groups of one decoded OTLP/JSON request; OtlpError when it is not valid OTLP."""
    signal = request_signal(obj)
    groups = _SHORT_GROUPS[signal](obj)
    if groups is not None:
        return groups
    try:
        req = read_message(obj, REQUESTS[signal], 1, State())
    except ReadError as ex:
        raise OtlpError(str(ex)) from None
    return _GROUPS[signal](req)


def group_rows(table: str, groups: List[Group]) -> List[dict]:
    """Plain rows of a table's groups, keyed in the exporter's INSERT column order."""
    from llmwh.warehouse.exporter import INSERT_COLUMNS   # only here: workers import no warehouse

    head_columns, row_columns, columns = HEADS[table], ROWS[table], INSERT_COLUMNS[table]
    out = []
    for head, rows in groups:
        for row in rows:
            values = dict(zip(head_columns, head))
            values.update(zip(row_columns, row))
            out.append({c: values[c] for c in columns})
    return out


def json_rows(obj) -> Dict[str, List[dict]]:
    """table -> rows of one request, exactly as mapping.json_rows gives them."""
    return {table: group_rows(table, groups) for table, groups in json_groups(obj).items()}


_customize()
