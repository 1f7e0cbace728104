"""Units as templates: render SDK output again with new ids and a time shift.

A unit generated through the SDK is kept as a *template*: each OTLP/JSON line
split into literal pieces and slots. A slot is either an id the unit issued
(trace/span ids from the SDK IdGenerator, plus conversation, session, MCP
session, response and request ids the scenario registered) or a 19-digit
`...UnixNano` timestamp. Rendering with the unit's own ids and shift 0 gives
back the SDK bytes exactly (that is how SDK units are written); rendering with
fresh ids and another shift gives a replica: same shape, attributes and token
counts, new identity and time. Hex strings a unit did not issue (user ids,
API-key hashes) stay as they are.
"""

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r'(?<![0-9A-Za-z])([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|[0-9a-f]{24}'
    r'|[0-9a-f]{16})(?![0-9A-Za-z])|"(\d{19})"')


@dataclass
class Line:
    fmt: str              # the line with '%s' where a slot goes ('%' escaped)
    slots: list           # per slot: id index (>= 0), or -1 for a timestamp
    rel: list             # per slot: timestamp minus the unit's anchor (0 for ids)
    records: int          # spans or log records in the line
    trace: int            # id index of the trace id (-1: none)


@dataclass
class Template:
    flavour: str
    ids: list                                      # the unit's own ids, in first-seen order
    traces: list = field(default_factory=list)     # Line per trace
    logs: list = field(default_factory=list)       # Line per trace's logs
    calls: list = field(default_factory=list)      # call dicts: times relative, ids as indexes
    conversations: list = field(default_factory=list)   # ((prefix, id index), flavour)
    evaluations: list = field(default_factory=list)     # evaluation results: times relative, ids as indexes
    fault_counts: dict = field(default_factory=dict)
    spans: int = 0
    log_records: int = 0
    id_nibbles: int = 0
    id_cuts: list = field(default_factory=list)    # (start, end) of each id in one random hex string
    uuid_slots: list = field(default_factory=list)


def compile_line(text: str, id_index: dict, anchor: int, records: int, trace_id: str = '') -> Line:
    pieces, slots, last = [], [], 0
    for m in _TOKEN.finditer(text):
        token, ts = m.group(1), m.group(2)
        if token is not None:
            index = id_index.get(token)
            if index is None:
                continue
            start, end = m.span(1)
            slot = index
        else:
            start, end = m.span(2)
            slot = (int(ts) - anchor,)
        pieces.append(text[last:start])
        slots.append(slot)
        last = end
    pieces.append(text[last:])
    fmt = '%s'.join(p.replace('%', '%%') for p in pieces)
    return Line(fmt, [x if x.__class__ is int else -1 for x in slots],
                [0 if x.__class__ is int else x[0] for x in slots], records, id_index.get(trace_id, -1))


def render(line: Line, ids: list, anchor: int) -> str:
    return line.fmt % tuple([ids[i] if i >= 0 else str(r + anchor) for i, r in zip(line.slots, line.rel)])


def fresh_ids(template, rng) -> list:
    """New ids of the same shapes (uuid, 32/24/16 hex), cut from one random number."""
    nibbles = template.id_nibbles
    h = f'{rng.getrandbits(4 * nibbles):0{nibbles}x}'
    out = [h[a:b] for a, b in template.id_cuts]
    for i in template.uuid_slots:
        u = out[i]
        out[i] = f'{u[:8]}-{u[8:12]}-4{u[13:16]}-a{u[17:20]}-{u[20:32]}'
    return out


def build_template(flavour, anchor, trace_lines: dict, log_lines: dict, calls, ctx_ids, sdk_ids,
                   conversations, evaluations, fault_counts) -> Template:
    """trace_lines / log_lines: {trace id hex: (json line, records)} from sdk_emit."""
    ids, index = [], {}
    for value in list(sdk_ids) + list(ctx_ids):
        if value not in index:
            index[value] = len(ids)
            ids.append(value)
    t = Template(flavour, ids)
    for i, value in enumerate(ids):
        n = 32 if len(value) == 36 else len(value)
        t.id_cuts.append((t.id_nibbles, t.id_nibbles + n))
        t.id_nibbles += n
        if len(value) == 36:
            t.uuid_slots.append(i)
    for trace_id, (text, n) in trace_lines.items():
        t.traces.append(compile_line(text, index, anchor, n, trace_id))
        t.spans += n
    for trace_id, (text, n) in log_lines.items():
        t.logs.append(compile_line(text, index, anchor, n, trace_id))
        t.log_records += n

    def ref(value):     # 'conv_<hex>' -> ('conv_', index of <hex>)
        for n in (len(value), 36, 32, 24, 16):
            if value[-n:] in index:
                return value[:-n], index[value[-n:]]
        raise KeyError(value)

    for c in calls:
        c = dict(c)
        c['t'] -= anchor
        c['trace'] = index[c['trace']]
        c['span'] = index[c['span']]
        c['conversation'] = ref(c['conversation']) if c['conversation'] is not None else None
        c['tokens'] = (c['input'], c['output'], c['cache_read'], c['cache_write'], c['cache_write_1h'],
                       c['reasoning'])
        t.calls.append(c)
    t.conversations = [(ref(conv), fl) for conv, fl in conversations.items()]
    for e in evaluations:       # like calls: times relative, ids as indexes
        e = dict(e)
        e['t'] -= anchor
        e['trace'] = index[e['trace']]
        e['evaluated_span'] = index[e['evaluated_span']]
        e['result_span'] = index[e['result_span']] if e['result_span'] is not None else None
        t.evaluations.append(e)
    t.fault_counts = dict(fault_counts)
    return t
