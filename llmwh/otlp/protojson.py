"""protobuf's JSON reading rules (`json_format.ParseDict`) on plain dicts, without messages.

The fast OTLP mapping (llmwh.otlp.fast) reads decoded OTLP/JSON straight into
rows. This module gives it the acceptance rules of the reference path
(llmwh.otlp.mapping, which parses with protobuf), so both accept and reject the
same requests and read the same values:

- a field is named by its JSON name or its proto name (`traceId`, `trace_id`);
  when both appear the later one wins, as protobuf assigns them in turn;
- integers arrive as numbers or strings (`"1e3"` is 1000, as protobuf reads it)
  and are range-checked for their proto type; doubles also as "NaN"/"Infinity";
- enums by name or number; null clears a field; two members of a oneof are an error;
- a message may also be given as a string or array (protobuf iterates it as
  field names), a quirk kept so that both paths agree on it;
- unknown fields are ignored (OTLP receivers ignore newer fields). The reference
  parses strictly first and re-parses leniently only when the first error is an
  unknown field, so an unknown enum name is ignored only after an unknown field
  (in document order) and rejected otherwise. `State.lenient` replays that.

Messages are read into dicts keyed by proto field name; an absent key is the
field's default. Field tables come from the opentelemetry-proto descriptors, so
a field added in a newer OTLP version is validated the way the reference
validates it. Errors are ReadError; the caller adds the request-level context.
"""

import base64
import binascii
import re
from typing import Callable, Optional

from google.protobuf.descriptor import FieldDescriptor

MAX_DEPTH = 100   # json_format's default max_recursion_depth
SKIP = object()   # a converter's "leave the field as it is"

# Field kinds (plain ints: compared on every field read).
INT, DOUBLE, BOOL, STRING, BYTES, ENUM, MESSAGE, HEX_ID = range(8)

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: 32, FieldDescriptor.TYPE_SINT32: 32, FieldDescriptor.TYPE_SFIXED32: 32,
    FieldDescriptor.TYPE_INT64: 64, FieldDescriptor.TYPE_SINT64: 64, FieldDescriptor.TYPE_SFIXED64: 64,
    FieldDescriptor.TYPE_UINT32: -32, FieldDescriptor.TYPE_FIXED32: -32,
    FieldDescriptor.TYPE_UINT64: -64, FieldDescriptor.TYPE_FIXED64: -64,
}
_EXTENSION_NAME = re.compile(r'\[[a-zA-Z0-9\._]*\]$')   # json_format's _VALID_EXTENSION_NAME
UNPAIRED_SURROGATE = re.compile(
    '[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]')


class ReadError(Exception):
    """Why a value was rejected, and where: path segments collected innermost first."""

    def __init__(self, why: str, sep: str = ': '):
        super().__init__(why)
        self.why, self.sep = why, sep
        self.path = []

    def at(self, segment: str) -> 'ReadError':
        self.path.append(segment)
        return self

    def where(self) -> str:
        out = ''
        for segment in reversed(self.path):
            out += segment if not out or segment.startswith('[') else '.' + segment
        return out

    def __str__(self) -> str:
        where = self.where()
        return f'{where}{self.sep}{self.why}' if where else self.why


class State:
    """Per request: whether an unknown field was seen yet (see the module doc)."""
    __slots__ = ('lenient',)

    def __init__(self):
        self.lenient = False


class Field:
    __slots__ = ('name', 'key', 'kind', 'repeated', 'oneof', 'lo', 'hi', 'enum', 'enum_name',
                 'msg', 'size', 'read')

    def __init__(self, fd: FieldDescriptor, messages: dict):
        self.name, self.key = fd.name, fd.json_name
        self.repeated = fd.is_repeated
        self.oneof = fd.containing_oneof.name if fd.containing_oneof is not None else None
        self.lo = self.hi = self.enum = self.enum_name = self.msg = self.size = None
        self.read: Optional[Callable] = None   # (value, field, depth, state) -> value; set by Message
        t = fd.type
        if t in _INT_RANGES:
            bits = _INT_RANGES[t]
            self.kind = INT
            self.lo, self.hi = (0, (1 << -bits) - 1) if bits < 0 else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        elif t == FieldDescriptor.TYPE_DOUBLE:
            self.kind = DOUBLE
        elif t == FieldDescriptor.TYPE_BOOL:
            self.kind = BOOL
        elif t == FieldDescriptor.TYPE_STRING:
            self.kind = STRING
        elif t == FieldDescriptor.TYPE_BYTES:
            self.kind = BYTES
        elif t == FieldDescriptor.TYPE_ENUM:
            if fd.enum_type.is_closed:
                raise NotImplementedError(f'closed enum {fd.enum_type.full_name}')   # OTLP is proto3
            self.kind = ENUM
            self.lo, self.hi = -(1 << 31), (1 << 31) - 1
            self.enum = {v.name: v.number for v in fd.enum_type.values}
            self.enum_name = fd.enum_type.full_name
        elif t == FieldDescriptor.TYPE_MESSAGE:
            self.kind = MESSAGE
            self.msg = message_spec(fd.message_type, messages)
        else:   # float, group: not in OTLP
            raise NotImplementedError(f'{fd.full_name}: field type {t}')


class Message:
    """A message type's fields by both spellings, and the function that reads it."""

    def __init__(self, descriptor, messages: dict):
        messages[descriptor.full_name] = self
        self.full_name = descriptor.full_name
        self.by_name = {}
        self.fields = {}
        self.reader: Callable = read_message
        for fd in descriptor.fields:
            f = Field(fd, messages)
            f.read = read_list if f.repeated else read_submessage if f.kind == MESSAGE else read_scalar
            self.by_name[fd.name] = f
        # json_format looks a key up by JSON name first, then by proto name.
        self.fields.update((f.name, f) for f in self.by_name.values())
        self.fields.update((f.key, f) for f in self.by_name.values())


def message_spec(descriptor, messages: dict) -> Message:
    """The Message for a descriptor, built once per type (messages: full name -> Message)."""
    return messages.get(descriptor.full_name) or Message(descriptor, messages)


# ------------------------------------------------------------------ messages

def unknown_field(name, msg: Message, st: State):
    """A name that is no field of `msg`: ignored, except extension syntax (always an error)."""
    if type(name) is not str:
        raise ReadError(f'expected a field name of {msg.full_name}, got {_json_type(name)} {name!r}')
    if name[:1] == '[' and _EXTENSION_NAME.match(name):
        raise ReadError(f'Message type {msg.full_name} does not have extensions')
    st.lenient = True


def non_object(js, msg: Message, st: State) -> dict:
    """A message given as a string or array: protobuf reads its items as field names."""
    if type(js) is str or type(js) is list:
        for name in js:
            if type(name) is str and name in msg.fields:
                raise ReadError(f'expected an object for {msg.full_name}, got {_json_type(js)} {js!r}')
            unknown_field(name, msg, st)
        return {}
    raise ReadError(f'expected an object for {msg.full_name}, got {_json_type(js)} {js!r}')


def read_message(js, msg: Message, depth: int, st: State) -> dict:
    """One message (at nesting `depth`, the request being 1) as {proto field name: value}."""
    if depth > MAX_DEPTH:
        raise ReadError(f'Message too deep. Max recursion depth is {MAX_DEPTH}')
    if type(js) is not dict:
        return non_object(js, msg, st)
    out = {}
    oneofs = None
    fields = msg.fields
    for key, value in js.items():
        f = fields.get(key)
        if f is None:
            unknown_field(key, msg, st)
            continue
        if value is None:            # null clears the field (a oneof member only if it is the set one)
            out.pop(f.name, None)
            continue
        if f.oneof is not None:
            if oneofs is None:
                oneofs = {f.oneof}
            elif f.oneof in oneofs:
                raise ReadError(f'Message type "{msg.full_name}" should not have multiple '
                                f'"{f.oneof}" oneof fields').at(key)
            else:
                oneofs.add(f.oneof)
        try:
            v = f.read(value, f, depth, st)
        except ReadError as ex:
            raise ex.at(key)
        if v is not SKIP:
            out[f.name] = v
    return out


def read_submessage(value, f: Field, depth: int, st: State):
    return f.msg.reader(value, f.msg, depth + 1, st)


def read_list(value, f: Field, depth: int, st: State) -> list:
    """A repeated field: a JSON array, no nulls in it."""
    if type(value) is not list:
        raise ReadError(f'repeated field {f.key} must be in [] which is {value!r}')
    out = []
    sub = f.msg
    for i, item in enumerate(value):
        try:
            if item is None:
                raise ReadError('null is not allowed to be used as an element in a repeated field')
            if sub is not None:
                out.append(sub.reader(item, sub, depth + 1, st))
            else:
                v = read_scalar(item, f, depth, st)
                if v is not SKIP:
                    out.append(v)
        except ReadError as ex:
            raise ex.at(f'[{i}]')
    return out


# ------------------------------------------------------------------ scalars

def _json_type(value) -> str:
    return {dict: 'object', list: 'array', str: 'string', bool: 'boolean', type(None): 'null'}.get(
        type(value), 'number')


def proto_integer(value) -> int:
    """json_format's _ConvertInteger: numbers, integral floats, and strings int() or float() reads."""
    if isinstance(value, float) and not value.is_integer():
        raise ReadError(f"Couldn't parse integer: {value}")
    if isinstance(value, str) and ' ' in value:
        raise ReadError(f'Couldn\'t parse integer: "{value}"')
    if isinstance(value, bool):
        raise ReadError(f'Bool value {value} is not acceptable for integer field')
    try:
        return int(value)
    except ValueError:
        try:
            f = float(value)
        except ValueError:
            raise ReadError(f"Couldn't parse integer: {value!r}") from None
        if not f.is_integer():
            raise ReadError(f'Couldn\'t parse non-integer string: "{value}"') from None
        return int(f)
    except TypeError:
        raise ReadError(f'expected an integer, got {_json_type(value)} {value!r}') from None


def read_int(value, f: Field) -> int:
    n = value if type(value) is int else proto_integer(value)
    if f.lo <= n <= f.hi:
        return n
    raise ReadError(f'Value out of range: {n}')


def read_double(value) -> float:
    """json_format's _ConvertFloat (an int too big for a double is an error here; protobuf
    lets its OverflowError escape)."""
    if type(value) is float:
        if value != value:
            raise ReadError('Couldn\'t parse NaN, use quoted "NaN" instead')
        if value in (float('inf'), float('-inf')):
            raise ReadError(f'Couldn\'t parse {"-" if value < 0 else ""}Infinity, use a quoted string instead')
        return value
    if value == 'nan':
        raise ReadError('Couldn\'t parse float "nan", use "NaN" instead')
    try:
        return float(value)   # also "NaN", "Infinity", "-Infinity", as json_format reads them
    except ValueError:
        raise ReadError(f"Couldn't parse float: {value}") from None
    except (TypeError, OverflowError):
        raise ReadError(f'expected a number, got {_json_type(value)} {value!r:.40}') from None


def read_string(value) -> str:
    if type(value) is not str:
        raise ReadError(f'expected a string, got {_json_type(value)} {value!r:.40}')
    if not value.isascii() and UNPAIRED_SURROGATE.search(value):
        raise ReadError('Unpaired surrogate')
    return value


def read_bytes(value) -> bytes:
    """Base64, standard or URL-safe, padding optional, other characters skipped (as protobuf)."""
    if type(value) is not str:
        raise ReadError(f'expected a base64 string, got {_json_type(value)} {value!r:.40}')
    try:
        encoded = value.encode('utf-8')
        return base64.urlsafe_b64decode(encoded + b'=' * (4 - len(encoded) % 4))
    except ValueError as ex:
        raise ReadError(f'invalid base64: {ex}') from None


def read_hex_id(value, f: Field) -> bytes:
    """OTLP/JSON trace and span ids: hex of the fixed size; '' (or a non-string, which fails
    as bytes do) as protobuf reads it."""
    if type(value) is str and value:
        if len(value) == 2 * f.size:
            try:
                return binascii.unhexlify(value)
            except ValueError:
                pass
        raise ReadError(f'must be {2 * f.size} hex digits, got {value!r}', sep=' ')
    return read_bytes(value)


def read_enum(value, f: Field, st: State):
    if type(value) is str:
        number = f.enum.get(value)
        if number is not None:
            return number
    try:
        number = int(value)
    except ValueError:
        if st.lenient:
            return SKIP
        raise ReadError(f'Invalid enum value {value} for enum type {f.enum_name}') from None
    except (TypeError, OverflowError):
        raise ReadError(f'Invalid enum value {value!r:.40} for enum type {f.enum_name}') from None
    if f.lo <= number <= f.hi:
        return number
    raise ReadError(f'Value out of range: {number}')


def read_scalar(value, f: Field, depth: int, st: State):
    kind = f.kind
    if kind == INT:
        return read_int(value, f)
    if kind == STRING:
        return read_string(value)
    if kind == DOUBLE:
        return read_double(value)
    if kind == BOOL:
        if type(value) is bool:
            return value
        raise ReadError(f'Expected true or false without quotes, got {value!r:.40}')
    if kind == ENUM:
        return read_enum(value, f, st)
    if kind == HEX_ID:
        return read_hex_id(value, f)
    return read_bytes(value)

