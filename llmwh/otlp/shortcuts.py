"""The short way through the usual OTLP/JSON shapes, for llmwh.otlp.fast.

Each function here takes a piece of decoded JSON and returns its row values
(for data points: its fields, as the long way reads them) only when the piece
has the plain shape SDKs and collectors write (camelCase keys, ids as hex,
int64 as decimal strings, scalar attribute values), and None for anything else. It never raises, never records state and reads nothing
twice, so the caller can always fall back to the long way (llmwh.otlp.protojson
and the descriptors), which applies every rule and error of protobuf's JSON
reading. Whatever passes here is a value the long way would read the same.
"""

import binascii
import math
from binascii import unhexlify
from typing import Optional

from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from llmwh.otlp.mapping import SPAN_KINDS, STATUS_CODES, json_string, duration_ns, format_double, signed_ns
from llmwh.otlp.protojson import UNPAIRED_SURROGATE

_U32, _U64, _I32, _I64 = 1 << 32, 1 << 64, 1 << 31, 1 << 63
_F64_EXACT = 1 << 53   # integers a double holds exactly
_SPAN_KIND_NUMBERS = {v.name: v.number for v in Span.SpanKind.DESCRIPTOR.values}
_STATUS_NUMBERS = {v.name: v.number for v in Status.StatusCode.DESCRIPTOR.values}
_SPAN_KEYS = frozenset([
    'traceId', 'spanId', 'parentSpanId', 'traceState', 'name', 'kind', 'startTimeUnixNano',
    'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount',
    'links', 'droppedLinksCount', 'status', 'flags'])
_SPAN_COUNTS = ('flags', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount')
_SPAN_USUAL = _SPAN_KEYS.difference(_SPAN_COUNTS)
_EVENT_COUNTS = ('droppedAttributesCount',)
_EVENT_KEYS = frozenset(['timeUnixNano', 'name', 'attributes', *_EVENT_COUNTS])
_LINK_COUNTS = ('droppedAttributesCount', 'flags')
_LINK_KEYS = frozenset(['traceId', 'spanId', 'traceState', 'attributes', *_LINK_COUNTS])
_STATUS_KEYS = frozenset(['code', 'message'])
_LOG_KEYS = frozenset(['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'body',
                       'attributes', 'droppedAttributesCount', 'flags', 'traceId', 'spanId', 'eventName'])
_SEVERITY_NUMBERS = {v.name: v.number for v in SeverityNumber.DESCRIPTOR.values}
_POINT_COUNTS = ('flags',)
_POINT_KEYS = ('attributes', 'startTimeUnixNano', 'timeUnixNano', 'exemplars', *_POINT_COUNTS)
_NUMBER_POINT_KEYS = frozenset([*_POINT_KEYS, 'asDouble', 'asInt'])
_HISTOGRAM_POINT_KEYS = frozenset([*_POINT_KEYS, 'count', 'sum', 'bucketCounts', 'explicitBounds', 'min', 'max'])
_EXEMPLAR_KEYS = frozenset(['filteredAttributes', 'timeUnixNano', 'asDouble', 'asInt', 'spanId', 'traceId'])
_ZERO_TRACE, _ZERO_SPAN = '0' * 32, '0' * 16
_NO_FIELDS, _NO_ITEMS = {}, []
# SpanKind by number or name; True and 1.0 find 1 as protobuf's int() reads them.
_SPAN_KIND_TEXTS = {**SPAN_KINDS, **{name: SPAN_KINDS[n] for name, n in _SPAN_KIND_NUMBERS.items()}}
_DOUBLE_TEXT = {}
_U64_LISTS = {}   # bucket count strings -> their values (shared: rows only read them)
_FLOAT = {float}


def double_text(x: float) -> str:
    """format_double, remembered: the same few doubles (temperatures, prices) repeat."""
    text = _DOUBLE_TEXT.get(x)
    if text is None:
        text = format_double(x)
        if x and len(_DOUBLE_TEXT) < 4096:   # 0.0 == -0.0 as keys, so zero is not kept
            _DOUBLE_TEXT[x] = text
    return text


def sorted_map(attrs: dict) -> dict:
    """The exporter sorts map keys (Go sorts bytes; UTF-8 keeps code point order)."""
    if len(attrs) < 2:
        return attrs if attrs else {}
    return {k: attrs[k] for k in sorted(attrs)}


def plain(x) -> bool:
    """A string protobuf takes as it is (no unpaired surrogate)."""
    return type(x) is str and (x.isascii() or not UNPAIRED_SURROGATE.search(x))


def scalar_text(key: str, x) -> Optional[str]:
    """AsString of a one-key AnyValue holding a plain scalar; None for anything else."""
    t = type(x)
    if key == 'stringValue':
        if t is str and (x.isascii() or not UNPAIRED_SURROGATE.search(x)):
            return x
    elif key == 'intValue':
        if t is str:
            # Canonical decimal text (no sign, no leading zero, < 19 digits) is its own AsString.
            digits = x[1:] if x[:1] == '-' else x
            if digits.isdigit() and digits.isascii() and len(digits) < 19 and (digits[0] != '0' or x == '0'):
                return x
        elif t is int and -_I64 <= x < _I64:
            return str(x)
    elif key == 'doubleValue':
        if t is float and x - x == 0.0:
            return double_text(x)
        if t is int and -_F64_EXACT <= x <= _F64_EXACT:
            return double_text(float(x))
    elif key == 'boolValue':
        if t is bool:
            return 'true' if x else 'false'
    elif key == 'arrayValue':
        return _array_text(x)
    elif key == 'kvlistValue':
        return _kvlist_text(x)
    return None


def _json_scalar(item):
    """Go JSON of a one-key AnyValue holding a plain scalar, inside an array or kvlist."""
    if type(item) is not dict or len(item) != 1:
        return None
    (key, x), = item.items()
    if key == 'stringValue':
        return json_string(x) if plain(x) else None
    if key in ('arrayValue', 'kvlistValue'):
        return None
    return scalar_text(key, x)   # int, double, bool: the same text inside JSON


def _values(holder):
    """The `values` list of an ArrayValue / KeyValueList object ({} has none), or None."""
    if type(holder) is not dict:
        return None
    if not holder:
        return ()
    values = holder.get('values')
    return values if len(holder) == 1 and type(values) is list else None


def _array_text(array):
    """Go JSON of an ArrayValue of plain scalars (["stop"], [1,2.5,true]); None otherwise."""
    items = _values(array)
    if items is None:
        return None
    parts = []
    for item in items:
        text = _json_scalar(item)
        if text is None:
            return None
        parts.append(text)
    return '[' + ','.join(parts) + ']'


def _kvlist_text(kvlist):
    """Go JSON of a KeyValueList of plain scalars: an object, keys sorted, later keys win."""
    items = _values(kvlist)
    if items is None:
        return None
    fields = {}
    for kv in items:
        if type(kv) is not dict or len(kv) != 2:
            return None
        key, text = kv.get('key'), _json_scalar(kv.get('value'))
        if text is None or not plain(key):
            return None
        fields[key] = text
    return '{' + ','.join(json_string(k) + ':' + fields[k] for k in sorted(fields)) + '}'


def _other_text(v):
    """AsString of an AnyValue that is not a plain ASCII string, or None."""
    if len(v) != 1:
        return None
    (kind, x), = v.items()
    return scalar_text(kind, x)


def any_text(v) -> Optional[str]:
    """AsString of an AnyValue holding one plain scalar (or a list/kvlist of them), or None."""
    return _other_text(v) if type(v) is dict else None


def attributes(value) -> Optional[dict]:
    """The map (later keys win, unsorted) of a list of {key, value: {one plain scalar}}.

    Item and value types are checked by the operations themselves: decoded JSON
    holds dicts, lists, strings, numbers, booleans and None, and of those only a
    dict has .get and only a str has .isascii; any other shape raises and is not
    plain."""
    if type(value) is not list:
        return None
    out = {}
    try:
        for kv in value:
            key, v = kv['key'], kv['value']
            x = v.get('stringValue')
            if x is not None:
                if x.isascii() and key.isascii() and len(v) == 1 and len(kv) == 2:
                    out[key] = x    # the most common case, inline
                    continue
            elif len(v) == 1 and len(kv) == 2 and key.isascii():
                # The next ones (token counts, temperatures), inline too: a canonical non-negative
                # decimal string is its own AsString; a finite double prints as pdata prints it.
                x = v.get('intValue')
                if type(x) is str and len(x) < 19 and x.isdigit() and x.isascii() and (x[0] != '0' or len(x) == 1):
                    out[key] = x
                    continue
                x = v.get('doubleValue')
                if type(x) is float and x - x == 0.0:
                    out[key] = double_text(x)
                    continue
            if len(kv) != 2 or not key.isascii() and UNPAIRED_SURROGATE.search(key):
                return None
            x = _other_text(v)
            if x is None:
                return None
            out[key] = x
    except (KeyError, TypeError, AttributeError):
        return None
    return out


def _u64(x):
    if type(x) is str:
        if x.isdigit() and x.isascii() and len(x) <= 19:
            return int(x)
    elif type(x) is int and 0 <= x < _U64:
        return x
    return None


def _u32_ok(x) -> bool:
    return type(x) is int and 0 <= x < _U32


def _enum(x, names: dict):
    if type(x) is int and -_I32 <= x < _I32:
        return x
    return names.get(x) if type(x) is str else None


def _hex_id(x, size: int):
    """Row text of a hex id ('' for all zeros), None when it is not `size` bytes of hex."""
    if type(x) is not str:
        return None
    if not x:
        return ''
    if len(x) != 2 * size:
        return None
    try:
        raw = binascii.unhexlify(x)
    except ValueError:
        return None
    return raw.hex() if raw.strip(b'\0') else ''


def _map(attrs):
    """The sorted map of an attribute list (absent and null are empty), None when not plain."""
    if attrs is None:
        return {}
    attrs = attributes(attrs)
    return None if attrs is None else sorted_map(attrs)


def _counts_ok(js: dict, keys) -> bool:
    """The uint32 fields (flags, dropped counts) the row does not use are valid."""
    return all(_u32_ok(js[key]) for key in keys if key in js)


def _events(events):
    """(times, names, attribute maps) of plain span events."""
    times, names, maps = [], [], []
    if events is None:
        return times, names, maps
    if type(events) is not list:
        return None
    for e in events:
        if type(e) is not dict or not _EVENT_KEYS.issuperset(e):
            return None
        time, name, attrs = _u64(e.get('timeUnixNano', 0)), e.get('name', ''), _map(e.get('attributes'))
        if time is None or attrs is None or not plain(name) or not _counts_ok(e, _EVENT_COUNTS):
            return None
        times.append(signed_ns(time))
        names.append(name)
        maps.append(attrs)
    return times, names, maps


def _links(links):
    """(trace ids, span ids, trace states, attribute maps) of plain span links."""
    trace_ids, span_ids, states, maps = [], [], [], []
    if links is None:
        return trace_ids, span_ids, states, maps
    if type(links) is not list:
        return None
    for link in links:
        if type(link) is not dict or not _LINK_KEYS.issuperset(link):
            return None
        get = link.get
        trace_id, span_id, state = _hex_id(get('traceId', ''), 16), _hex_id(get('spanId', ''), 8), get('traceState', '')
        attrs = _map(get('attributes'))
        if (trace_id is None or span_id is None or attrs is None or not plain(state)
                or not _counts_ok(link, _LINK_COUNTS)):
            return None
        trace_ids.append(trace_id)
        span_ids.append(span_id)
        states.append(state)
        maps.append(attrs)
    return trace_ids, span_ids, states, maps


def _status(status):
    """(StatusCode, StatusMessage) of a plain span status (absent and null are the default)."""
    if status is None or status == _NO_FIELDS:
        return 'Unset', ''
    if type(status) is not dict or not _STATUS_KEYS.issuperset(status):
        return None
    code, message = _enum(status.get('code', 0), _STATUS_NUMBERS), status.get('message', '')
    if code is None or not plain(message):
        return None
    return STATUS_CODES.get(code, ''), message


def _span_ids(get):
    """(TraceId, SpanId, ParentSpanId) of the usual full-length hex ids, else per id."""
    trace_id, span_id, parent = get('traceId', ''), get('spanId', ''), get('parentSpanId', '')
    try:
        if len(trace_id) == 32 and len(span_id) == 16 and len(parent) in (0, 16) and type(parent) is str:
            # Hex of the bytes is lowercase; all-zero ids are ''.
            return (unhexlify(trace_id).hex() if trace_id != _ZERO_TRACE else '',
                    unhexlify(span_id).hex() if span_id != _ZERO_SPAN else '',
                    unhexlify(parent).hex() if parent and parent != _ZERO_SPAN else '')
    except (ValueError, TypeError):
        return None
    ids = _hex_id(trace_id, 16), _hex_id(span_id, 8), _hex_id(parent, 8)
    return None if None in ids else ids


def _times(start, end):
    """(start, end) of decimal strings (or numbers) that are valid fixed64 values."""
    if (type(start) is str and type(end) is str and len(start) <= 19 and len(end) <= 19
            and start.isdigit() and end.isdigit() and start.isascii() and end.isascii()):
        return int(start), int(end)
    start, end = _u64(start), _u64(end)
    return None if start is None or end is None else (start, end)


def span_row(js) -> Optional[tuple]:
    """A span's TRACE_ROW values (as fast._span_row gives them), or None when it is not plain."""
    if type(js) is not dict or not _SPAN_KEYS.issuperset(js):
        return None
    get = js.get
    ids, times = _span_ids(get), _times(get('startTimeUnixNano', 0), get('endTimeUnixNano', 0))
    name, state, kind = get('name', ''), get('traceState', ''), get('kind', 0)
    kind = _SPAN_KIND_TEXTS.get(kind) if type(kind) in (int, str) else None
    if kind is None:   # another number: pdata's String() of an unknown kind is ''
        kind = _enum(get('kind', 0), _SPAN_KIND_NUMBERS)
        kind = None if kind is None else SPAN_KINDS.get(kind, '')
    if (ids is None or times is None or kind is None or not plain(name) or not plain(state)
            or not _SPAN_USUAL.issuperset(js) and not _counts_ok(js, _SPAN_COUNTS)):
        return None
    attrs, status, events, links = _map(get('attributes')), _status(get('status')), get('events'), get('links')
    events = ([], [], []) if events is None or events == _NO_ITEMS else _events(events)
    links = ([], [], [], []) if links is None or links == _NO_ITEMS else _links(links)
    if attrs is None or status is None or events is None or links is None:
        return None
    start, end = times
    # Nanoseconds below 2**63 are the same signed; the duration of start <= end needs no wrapping.
    duration = end - start if start <= end < _I64 else duration_ns(start, end)
    return (start if start < _I64 else signed_ns(start), *ids, state, name, kind, attrs, duration,
            *status, *events, *links)


def _record_ids(get):
    """(TraceId, SpanId) of a log record: both full-length hex, or both absent, else per id."""
    trace_id, span_id = get('traceId', ''), get('spanId', '')
    if trace_id == '' and span_id == '':
        return '', ''
    ids = _hex_id(trace_id, 16), _hex_id(span_id, 8)
    return None if None in ids else ids


def log_row(js) -> Optional[tuple]:
    """A log record's LOG_ROW values without the Body (None in its place), or None when
    it is not plain. The caller reads the body last: it may take the long way."""
    if type(js) is not dict or not _LOG_KEYS.issuperset(js):
        return None
    get = js.get
    ids, times = _record_ids(get), _times(get('timeUnixNano', 0), get('observedTimeUnixNano', 0))
    severity, flags, attrs = _enum(get('severityNumber', 0), _SEVERITY_NUMBERS), get('flags', 0), _map(get('attributes'))
    text, event = get('severityText', ''), get('eventName', '')
    if (ids is None or times is None or severity is None or attrs is None or not _u32_ok(flags)
            or not _u32_ok(get('droppedAttributesCount', 0)) or not plain(text) or not plain(event)):
        return None
    time = times[0] or times[1]
    return (time if time < _I64 else signed_ns(time), *ids, flags & 0xFF, text, severity & 0xFF, None, attrs,
            event)


def _double(x):
    """A JSON number as protobuf reads a double: finite floats, and integers a double holds exactly."""
    if type(x) is float:
        return x if x - x == 0.0 else None
    return float(x) if type(x) is int and -_F64_EXACT <= x <= _F64_EXACT else None


def _exemplar_id(x, size: int):
    """The bytes of an exemplar's hex id as the long way reads them (b'' when absent), None when not plain."""
    if x is None or x == '':
        return b''
    if type(x) is not str or len(x) != 2 * size:
        return None
    try:
        return binascii.unhexlify(x)
    except ValueError:
        return None


def _exemplar(js) -> Optional[dict]:
    """An exemplar of the usual shape as the long way's dict of proto fields, or None."""
    if type(js) is not dict or not _EXEMPLAR_KEYS.issuperset(js):
        return None
    get = js.get
    time, attrs = _u64(get('timeUnixNano', 0)), get('filteredAttributes')
    attrs = {} if attrs is None else attributes(attrs)
    span_id, trace_id = _exemplar_id(get('spanId'), 8), _exemplar_id(get('traceId'), 16)
    as_double, as_int = get('asDouble'), get('asInt')
    if time is None or attrs is None or span_id is None or trace_id is None or (
            as_double is not None and as_int is not None):
        return None
    out = {'filtered_attributes': attrs, 'time_unix_nano': time, 'span_id': span_id, 'trace_id': trace_id}
    if as_double is not None:
        out['as_double'] = as_double = _double(as_double)
        return None if as_double is None else out
    if as_int is not None:
        out['as_int'] = as_int = _int64(as_int)
        return None if as_int is None else out
    return out


def _point_common(js: dict, get) -> Optional[dict]:
    """The fields every data point has, read as the long way gives them (proto names)."""
    if not _counts_ok(js, _POINT_COUNTS):
        return None
    times = _times(get('startTimeUnixNano', 0), get('timeUnixNano', 0))
    attrs = get('attributes')
    attrs = {} if attrs is None else attributes(attrs)
    if times is None or attrs is None:
        return None
    point = {'attributes': attrs, 'start_time_unix_nano': times[0], 'time_unix_nano': times[1]}
    if 'flags' in js:
        point['flags'] = js['flags']
    exemplars = get('exemplars')
    if exemplars is not None and exemplars != _NO_ITEMS:
        if type(exemplars) is not list:
            return None
        exemplars = [_exemplar(e) for e in exemplars]
        if None in exemplars:
            return None
        point['exemplars'] = exemplars
    return point


def number_point(js) -> Optional[dict]:
    """A NumberDataPoint of the usual shape as a dict of proto fields (like the long way), or None."""
    if type(js) is not dict or not _NUMBER_POINT_KEYS.issuperset(js):
        return None
    get = js.get
    point = _point_common(js, get)
    as_double, as_int = get('asDouble'), get('asInt')
    if point is None or as_double is not None and as_int is not None:
        return None
    if as_double is not None:
        point['as_double'] = _double(as_double)
        return None if point['as_double'] is None else point
    if as_int is not None:
        point['as_int'] = _int64(as_int)
        return None if point['as_int'] is None else point
    return point


def _u64_list(xs: list):
    """[_u64(x) for x in xs], or None when one is not a uint64. Bucket counts are
    decimal strings: checked all at once, that is a few C calls per list, and the
    same few lists repeat (remembered by their strings)."""
    try:
        joined = ''.join(xs)   # TypeError unless every item is a str
    except TypeError:
        joined = None
    if joined and joined.isdigit() and joined.isascii():
        key = tuple(xs)
        out = _U64_LISTS.get(key)
        if out is None and min(map(len, xs)) and max(map(len, xs)) <= 19:
            out = list(map(int, xs))
            if len(_U64_LISTS) >= 4096:
                _U64_LISTS.clear()
            _U64_LISTS[key] = out
        if out is not None:
            return out
    out = [_u64(x) for x in xs]
    return None if None in out else out


def _double_list(xs: list):
    """[_double(x) for x in xs], or None when one is not a double: finite floats pass as they are."""
    # A sum of finite doubles is finite unless it overflows (then the item by item way decides).
    if set(map(type, xs)) == _FLOAT and math.isfinite(sum(xs)):
        return list(xs)
    out = [_double(x) for x in xs]
    return None if None in out else out


def _int64(x):
    if type(x) is str:
        digits = x[1:] if x[:1] == '-' else x
        return int(x) if digits.isdigit() and digits.isascii() and len(digits) < 19 else None
    return x if type(x) is int and -_I64 <= x < _I64 else None


def histogram_point(js) -> Optional[dict]:
    """A HistogramDataPoint of the usual shape as a dict of proto fields, or None."""
    if type(js) is not dict or not _HISTOGRAM_POINT_KEYS.issuperset(js):
        return None
    get = js.get
    point = _point_common(js, get)
    count, counts, bounds = _u64(get('count', 0)), get('bucketCounts'), get('explicitBounds')
    if point is None or count is None:
        return None
    point['count'] = count
    if counts is not None:
        if type(counts) is not list:
            return None
        point['bucket_counts'] = counts = _u64_list(counts)
        if counts is None:
            return None
    if bounds is not None:
        if type(bounds) is not list:
            return None
        point['explicit_bounds'] = bounds = _double_list(bounds)
        if bounds is None:
            return None
    for key in ('sum', 'min', 'max'):
        if get(key) is not None:
            point[key] = _double(js[key])
            if point[key] is None:
                return None
    return point
