"""OTLP/JSON export requests -> rows exactly as the collector's ClickHouse exporter writes them.

The reference mapping. Pure functions, no I/O. Parsing is protobuf's own
(opentelemetry-proto messages and `json_format`); the mapping follows the
exporter's code (contrib v0.161/v0.162: exporter_traces.go, exporter_logs.go,
internal/metrics) and pdata's `Value.AsString`. Column lists:
llmwh/warehouse/exporter.py. The loader uses llmwh.otlp.fast, which gives the
same rows without protobuf messages (tests/test_otlp_fast.py compares them).

Row values are plain Python: DateTime64(9) columns hold int nanoseconds since
the epoch, DateTime (metrics) columns int seconds, maps are dicts with keys in
sorted order (the exporter sorts them, which keeps cityHash64(Attributes) stable).
"""

import base64
import binascii
import json
import math
import re

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


class OtlpError(ValueError):
    """The JSON is not a valid OTLP export request; the message says where and why."""


# Top-level key (protobuf JSON accepts both spellings) -> signal.
SIGNAL_KEYS = {
    'resourceSpans': 'traces', 'resource_spans': 'traces',
    'resourceLogs': 'logs', 'resource_logs': 'logs',
    'resourceMetrics': 'metrics', 'resource_metrics': 'metrics',
}
REQUESTS = {
    'traces': ExportTraceServiceRequest,
    'logs': ExportLogsServiceRequest,
    'metrics': ExportMetricsServiceRequest,
}
# pdata's SpanKind.String() / StatusCode.String(); an unknown number gives ''.
SPAN_KINDS = {0: 'Unspecified', 1: 'Internal', 2: 'Server', 3: 'Client', 4: 'Producer', 5: 'Consumer'}
STATUS_CODES = {0: 'Unset', 1: 'Ok', 2: 'Error'}
METRIC_TABLES = {
    'gauge': 'otel_metrics_gauge',
    'sum': 'otel_metrics_sum',
    'histogram': 'otel_metrics_histogram',
    'exponential_histogram': 'otel_metrics_exponential_histogram',
    'summary': 'otel_metrics_summary',
}
_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


# ---------------------------------------------------------------- parsing

def request_signal(obj) -> str:
    """'traces', 'logs' or 'metrics': the one signal a decoded export request holds."""
    if not isinstance(obj, dict):
        kind = {list: 'array', str: 'string', bool: 'boolean', type(None): 'null'}.get(type(obj), 'number')
        raise OtlpError(f'not an OTLP export request: a JSON {kind}, not an object')
    signals = {SIGNAL_KEYS[k] for k in obj if k in SIGNAL_KEYS}
    if not signals:
        if 'resourceProfiles' in obj or 'resource_profiles' in obj:
            raise OtlpError('profiles are not supported (only traces, logs and metrics)')
        raise OtlpError('not an OTLP export request: no resourceSpans, resourceLogs or resourceMetrics')
    if len(signals) > 1:
        raise OtlpError(f'one request holds one signal, this one mixes {", ".join(sorted(signals))}')
    return signals.pop()


def parse_request(obj):
    """(signal, protobuf request) for one decoded OTLP/JSON export request."""
    signal = request_signal(obj)
    # OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads
    # bytes as base64 and would silently turn hex into other bytes.
    _IDS_TO_BASE64[signal](obj)
    try:
        return signal, json_format.ParseDict(obj, REQUESTS[signal]())
    except json_format.ParseError as ex:
        if 'has no field named' not in str(ex):
            raise OtlpError(_parse_error(ex)) from ex
    # OTLP receivers ignore fields they do not know (newer OTLP versions add
    # some). Parsed strictly first because the lenient mode would also let
    # unknown enum names (kind "BOGUS") through, which the collector rejects.
    try:
        return signal, json_format.ParseDict(obj, REQUESTS[signal](), ignore_unknown_fields=True)
    except json_format.ParseError as ex:
        raise OtlpError(_parse_error(ex)) from ex


def _parse_error(ex) -> str:
    """json_format's message on one line: 'a.b.c: why' for its nested 'Failed to parse a field: ...'."""
    text = ' '.join(str(ex).split()).rstrip('.')
    fields = re.match(r'(?:Failed to parse \w+ field: )+', text)
    if not fields:
        return text
    names = re.findall(r'Failed to parse (\w+) field: ', fields.group(0))
    return '.'.join(names) + ': ' + text[fields.end():]


def _items(parent, camel, snake, path):
    for key in (camel, snake) if snake else (camel,):
        value = parent.get(key)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield f'{path}.{key}[{i}]' if path else f'{key}[{i}]', item


def _hex_id(holder, camel, snake, size, path):
    for key in (camel, snake):
        value = holder.get(key)
        if not isinstance(value, str) or not value:
            continue   # absent/empty is a zero id; other types fail in json_format
        if len(value) != 2 * size:
            raise OtlpError(f'{path}.{key} must be {2 * size} hex digits, got {value!r}')
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            raise OtlpError(f'{path}.{key} must be {2 * size} hex digits, got {value!r}') from None
        holder[key] = base64.b64encode(raw).decode('ascii')


def _trace_ids(holder, path, parent=False):
    _hex_id(holder, 'traceId', 'trace_id', 16, path)
    _hex_id(holder, 'spanId', 'span_id', 8, path)
    if parent:
        _hex_id(holder, 'parentSpanId', 'parent_span_id', 8, path)


def _span_ids_to_base64(req):
    for rp, rs in _items(req, 'resourceSpans', 'resource_spans', ''):
        for sp, ss in _items(rs, 'scopeSpans', 'scope_spans', rp):
            for p, span in _items(ss, 'spans', None, sp):
                _trace_ids(span, p, parent=True)
                for lp, link in _items(span, 'links', None, p):
                    _trace_ids(link, lp)


def _log_ids_to_base64(req):
    for rp, rl in _items(req, 'resourceLogs', 'resource_logs', ''):
        for sp, sl in _items(rl, 'scopeLogs', 'scope_logs', rp):
            for p, record in _items(sl, 'logRecords', 'log_records', sp):
                _trace_ids(record, p)


def _exemplar_ids_to_base64(req):
    for rp, rm in _items(req, 'resourceMetrics', 'resource_metrics', ''):
        for sp, sm in _items(rm, 'scopeMetrics', 'scope_metrics', rp):
            for mp, metric in _items(sm, 'metrics', None, sp):
                for kind in ('gauge', 'sum', 'histogram', 'exponentialHistogram', 'exponential_histogram'):
                    data = metric.get(kind)
                    if not isinstance(data, dict):
                        continue
                    for dp_path, dp in _items(data, 'dataPoints', 'data_points', f'{mp}.{kind}'):
                        for ep, exemplar in _items(dp, 'exemplars', None, dp_path):
                            _trace_ids(exemplar, ep)


_IDS_TO_BASE64 = {'traces': _span_ids_to_base64, 'logs': _log_ids_to_base64,
                  'metrics': _exemplar_ids_to_base64}


# ------------------------------------------------------- pdata AsString

def format_double(f: float) -> str:
    """pdata's float64AsString: Go's JSON (ES6) number format.

    Shortest round-trip digits, plain decimal for 1e-6 <= |f| < 1e21, else
    exponent form without zero padding (1e+21, 1.5e-7). NaN/Inf are what the
    Go code returns for them.
    """
    if math.isnan(f):
        return 'json: unsupported value: NaN'
    if math.isinf(f):
        return 'json: unsupported value: ' + ('+Inf' if f > 0 else '-Inf')
    if f == 0:
        return '-0' if math.copysign(1.0, f) < 0 else '0'
    sign = '-' if f < 0 else ''
    # Python's repr is also the shortest string that round-trips.
    mantissa, _, exp = repr(abs(f)).partition('e')
    whole, _, frac = mantissa.partition('.')
    digits = (whole + frac).lstrip('0')
    exp10 = (int(exp) if exp else 0) - len(frac)          # value = int(digits) * 10**exp10
    stripped = digits.rstrip('0')
    exp10 += len(digits) - len(stripped)
    digits = stripped
    a = abs(f)
    if 1e-6 <= a < 1e21:
        if exp10 >= 0:
            return sign + digits + '0' * exp10
        point = len(digits) + exp10
        if point > 0:
            return sign + digits[:point] + '.' + digits[point:]
        return sign + '0.' + '0' * -point + digits
    sci = len(digits) - 1 + exp10
    head = digits[0] + ('.' + digits[1:] if len(digits) > 1 else '')
    return f'{sign}{head}e{"-" if sci < 0 else "+"}{abs(sci)}'


def json_string(s: str) -> str:
    # Go's encoding/json with SetEscapeHTML(false), which pdata's AsString uses
    # since collector issue #14662 (2026; older collectors wrote < > & as
    # \u003c \u003e \u0026): the escapes Python's writes, plus U+2028/U+2029.
    out = json.dumps(s, ensure_ascii=False)
    if '\u2028' in out or '\u2029' in out:
        out = out.replace('\u2028', '\\u2028').replace('\u2029', '\\u2029')
    return out


def go_json(raw) -> str:
    """encoding/json of pdata's AsRaw() value (map keys sorted, no HTML escaping)."""
    if raw is None:
        return 'null'
    if raw is True:
        return 'true'
    if raw is False:
        return 'false'
    if isinstance(raw, str):
        return json_string(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            raise ValueError('json: unsupported value')
        return format_double(raw)
    if isinstance(raw, bytes):
        return '"' + base64.b64encode(raw).decode('ascii') + '"'
    if isinstance(raw, dict):
        return '{' + ','.join(json_string(k) + ':' + go_json(raw[k]) for k in sorted(raw)) + '}'
    return '[' + ','.join(go_json(v) for v in raw) + ']'


def raw_value(v):
    """pdata's Value.AsRaw(): the Python value of an AnyValue (maps: later keys win)."""
    kind = v.WhichOneof('value')
    if kind is None:
        return None
    if kind == 'kvlist_value':
        return {kv.key: raw_value(kv.value) for kv in v.kvlist_value.values}
    if kind == 'array_value':
        return [raw_value(item) for item in v.array_value.values]
    return getattr(v, kind)


def value_str(v) -> str:
    """pdata's Value.AsString() of an AnyValue."""
    kind = v.WhichOneof('value')
    if kind == 'string_value':
        return v.string_value
    if kind is None:
        return ''
    if kind == 'int_value':
        return str(v.int_value)
    if kind == 'double_value':
        return format_double(v.double_value)
    if kind == 'bool_value':
        return 'true' if v.bool_value else 'false'
    if kind == 'bytes_value':
        return base64.b64encode(v.bytes_value).decode('ascii')
    try:
        return go_json(raw_value(v))
    except ValueError:
        return ''   # Go's json.Marshal fails on NaN/Inf; AsString ignores the error


def attributes(kvs) -> dict:
    """The exporter's attribute map: AsString values, keys sorted."""
    pairs = {kv.key: value_str(kv.value) for kv in kvs}
    return {k: pairs[k] for k in sorted(pairs)}


def service_name(kvs) -> str:
    for kv in kvs:   # pcommon.Map.Get: the first entry with the key
        if kv.key == 'service.name':
            return value_str(kv.value)
    return ''


# ----------------------------------------------------------- ids, times

def hex_or_empty(raw: bytes) -> str:
    """TraceIDToHexOrEmptyString / SpanIDToHexOrEmptyString: an all-zero id is ''."""
    return raw.hex() if raw.strip(b'\0') else ''


def hex_exemplar(raw: bytes, size: int) -> str:
    """Exemplar ids: the hex of the fixed-size id, zeros included."""
    return raw.hex() if raw else '00' * size


def signed_ns(ts: int) -> int:
    """pcommon.Timestamp.AsTime(): time.Unix(0, int64(ts))."""
    return ts - _U64 if ts > _I64_MAX else ts


def seconds(ts: int) -> int:
    """A Go time in a DateTime column: uint32(t.Unix())."""
    return (signed_ns(ts) // 1_000_000_000) % (1 << 32)


def duration_ns(start: int, end: int) -> int:
    """uint64(end.Sub(start).Nanoseconds()): Sub saturates, uint64 wraps negatives."""
    d = signed_ns(end) - signed_ns(start)
    d = max(-(1 << 63), min(_I64_MAX, d))
    return d % _U64


# --------------------------------------------------------------- traces

def trace_rows(req):
    rows = []
    for rs in req.resource_spans:
        res_attrs = rs.resource.attributes
        resource, service = attributes(res_attrs), service_name(res_attrs)
        for ss in rs.scope_spans:
            scope_name, scope_version = ss.scope.name, ss.scope.version
            for span in ss.spans:
                events, links, status = span.events, span.links, span.status
                start = span.start_time_unix_nano
                rows.append({
                    'Timestamp': signed_ns(start),
                    'TraceId': hex_or_empty(span.trace_id),
                    'SpanId': hex_or_empty(span.span_id),
                    'ParentSpanId': hex_or_empty(span.parent_span_id),
                    'TraceState': span.trace_state,
                    'SpanName': span.name,
                    'SpanKind': SPAN_KINDS.get(span.kind, ''),
                    'ServiceName': service,
                    'ResourceAttributes': resource,
                    'ScopeName': scope_name,
                    'ScopeVersion': scope_version,
                    'SpanAttributes': attributes(span.attributes),
                    'Duration': duration_ns(start, span.end_time_unix_nano),
                    'StatusCode': STATUS_CODES.get(status.code, ''),
                    'StatusMessage': status.message,
                    'Events.Timestamp': [signed_ns(e.time_unix_nano) for e in events],
                    'Events.Name': [e.name for e in events],
                    'Events.Attributes': [attributes(e.attributes) for e in events],
                    'Links.TraceId': [hex_or_empty(link.trace_id) for link in links],
                    'Links.SpanId': [hex_or_empty(link.span_id) for link in links],
                    'Links.TraceState': [link.trace_state for link in links],
                    'Links.Attributes': [attributes(link.attributes) for link in links],
                })
    return {'otel_traces': rows} if rows else {}


# ----------------------------------------------------------------- logs

def log_rows(req):
    rows = []
    for rl in req.resource_logs:
        res_attrs = rl.resource.attributes
        resource, service = attributes(res_attrs), service_name(res_attrs)
        for sl in rl.scope_logs:
            scope = sl.scope
            scope_attrs = attributes(scope.attributes)
            for r in sl.log_records:
                ts = r.time_unix_nano or r.observed_time_unix_nano
                rows.append({
                    'Timestamp': signed_ns(ts),
                    'TraceId': hex_or_empty(r.trace_id),
                    'SpanId': hex_or_empty(r.span_id),
                    'TraceFlags': r.flags & 0xFF,
                    'SeverityText': r.severity_text,
                    'SeverityNumber': r.severity_number & 0xFF,
                    'ServiceName': service,
                    'Body': value_str(r.body),
                    'ResourceSchemaUrl': rl.schema_url,
                    'ResourceAttributes': resource,
                    'ScopeSchemaUrl': sl.schema_url,
                    'ScopeName': scope.name,
                    'ScopeVersion': scope.version,
                    'ScopeAttributes': scope_attrs,
                    'LogAttributes': attributes(r.attributes),
                    'EventName': r.event_name,
                })
    return {'otel_logs': rows} if rows else {}


# -------------------------------------------------------------- metrics

def _number(point) -> float:
    kind = point.WhichOneof('value')
    if kind == 'as_double':
        return point.as_double
    if kind == 'as_int':
        return float(point.as_int)
    return 0.0


def _exemplars(point) -> dict:
    ex = point.exemplars
    return {
        'Exemplars.FilteredAttributes': [attributes(e.filtered_attributes) for e in ex],
        'Exemplars.TimeUnix': [seconds(e.time_unix_nano) for e in ex],
        'Exemplars.Value': [_number(e) for e in ex],
        'Exemplars.SpanId': [hex_exemplar(e.span_id, 8) for e in ex],
        'Exemplars.TraceId': [hex_exemplar(e.trace_id, 16) for e in ex],
    }


def _optional(point, field) -> float:
    return getattr(point, field) if point.HasField(field) else 0.0


def _point_columns(kind, data, p) -> dict:
    if kind in ('gauge', 'sum'):
        row = {'Value': _number(p), 'Flags': p.flags, **_exemplars(p)}
        if kind == 'sum':
            row.update(AggregationTemporality=data.aggregation_temporality, IsMonotonic=data.is_monotonic)
        return row
    if kind == 'histogram':
        return {'Count': p.count, 'Sum': _optional(p, 'sum'), 'BucketCounts': list(p.bucket_counts),
                'ExplicitBounds': list(p.explicit_bounds), **_exemplars(p), 'Flags': p.flags,
                'Min': _optional(p, 'min'), 'Max': _optional(p, 'max'),
                'AggregationTemporality': data.aggregation_temporality}
    if kind == 'exponential_histogram':
        return {'Count': p.count, 'Sum': _optional(p, 'sum'), 'Scale': p.scale, 'ZeroCount': p.zero_count,
                'PositiveOffset': p.positive.offset, 'PositiveBucketCounts': list(p.positive.bucket_counts),
                'NegativeOffset': p.negative.offset, 'NegativeBucketCounts': list(p.negative.bucket_counts),
                **_exemplars(p), 'Flags': p.flags, 'Min': _optional(p, 'min'), 'Max': _optional(p, 'max'),
                'AggregationTemporality': data.aggregation_temporality}
    return {'Count': p.count, 'Sum': p.sum,
            'ValueAtQuantiles.Quantile': [q.quantile for q in p.quantile_values],
            'ValueAtQuantiles.Value': [q.value for q in p.quantile_values], 'Flags': p.flags}


def metric_rows(req):
    tables = {}
    for ri, rm in enumerate(req.resource_metrics):
        res_attrs = rm.resource.attributes
        resource, service = attributes(res_attrs), service_name(res_attrs)
        for si, sm in enumerate(rm.scope_metrics):
            scope = sm.scope
            head = {
                'ResourceAttributes': resource, 'ResourceSchemaUrl': rm.schema_url,
                'ScopeName': scope.name, 'ScopeVersion': scope.version,
                'ScopeAttributes': attributes(scope.attributes),
                'ScopeDroppedAttrCount': scope.dropped_attributes_count,
                'ScopeSchemaUrl': sm.schema_url, 'ServiceName': service,
            }
            for mi, metric in enumerate(sm.metrics):
                kind = metric.WhichOneof('data')
                if kind is None:
                    # The exporter rejects the whole request ("metrics type is unset").
                    raise OtlpError(f'resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}] '
                                    f'({metric.name!r}) has no data: no gauge, sum, histogram, '
                                    'exponentialHistogram or summary')
                data = getattr(metric, kind)
                rows = tables.setdefault(METRIC_TABLES[kind], [])
                for p in data.data_points:
                    rows.append({
                        **head, 'MetricName': metric.name, 'MetricDescription': metric.description,
                        'MetricUnit': metric.unit, 'Attributes': attributes(p.attributes),
                        'StartTimeUnix': seconds(p.start_time_unix_nano), 'TimeUnix': seconds(p.time_unix_nano),
                        **_point_columns(kind, data, p),
                    })
    return {table: rows for table, rows in tables.items() if rows}


_ROWS = {'traces': trace_rows, 'logs': log_rows, 'metrics': metric_rows}


def request_rows(signal, req) -> dict:
    """table -> rows (dicts keyed by the exporter's INSERT columns) of one request."""
    return _ROWS[signal](req)


def json_rows(obj) -> dict:
    """table -> rows of one decoded OTLP/JSON request."""
    signal, req = parse_request(obj)
    return request_rows(signal, req)
