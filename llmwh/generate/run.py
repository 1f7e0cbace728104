"""`llmwh generate`: plan units over the period, build them with the SDK or replicate, write.

1. SDK units: flavours round-robin first (so every flavour is present), then by weight;
   each unit starts at a time drawn from a daily/weekly seasonal rate over the period and
   is built through the OpenTelemetry SDK, then kept as a template (replicate.py).
2. Replicas: when the target (--conversations or --spans) exceeds the SDK budget
   (--sdk-spans), further units re-render a random SDK unit with new ids at a new time.
3. One sweep in start-time order writes every unit: sampling, late and duplicate faults
   are decided per trace / per line here; every leaf LLM call updates the truth and is
   recorded into the SDK metric instruments, collected once per simulated interval.
"""

import gzip
import heapq
import json
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from llmwh import __version__
from llmwh.errors import LlmwhError
from llmwh.generate import billing
from llmwh.generate.catalog import (
    CLOCK_SKEW_NS, FAULT_RATES, FAULTS, FLAVOUR_KEY, FLAVOURS, GENERATOR_VERSION, SAMPLED_FLAVOURS, SERVICES,
    resource_attributes,
)
from llmwh.generate.manifest import DAY_NS, TOKEN_FIELDS, Truth
from llmwh.generate.replicate import build_template, fresh_ids, render
from llmwh.generate.scenarios import FLAVOUR_FUNCTIONS, Ctx
from llmwh.generate.sdk_emit import MetricsEmitter, SdkTelemetry, encode_log_lines, encode_trace_lines

DEFAULT_CONVERSATIONS = 200
DEFAULT_SDK_SPANS = 20_000
METRIC_LAG_NS = 3 * 3600 * 10**9     # units last < 3 h: intervals older than this are complete
OUTPUT_NAMES = ('traces.jsonl', 'traces.late.jsonl', 'logs.jsonl', 'logs.late.jsonl', 'metrics.jsonl')


@dataclass
class GenerateOptions:
    out: Path
    days: int = 7
    start: datetime = None                  # UTC midnight; default today - days
    seed: int = 42
    conversations: int = None
    spans: int = None
    sdk_spans: int = DEFAULT_SDK_SPANS
    faults: frozenset = field(default_factory=lambda: frozenset(FAULTS))
    gzip: bool = False
    metric_interval_s: int = 3600


def parse_faults(faults_arg, no_fault) -> frozenset:
    names = set(FAULTS)
    if faults_arg is not None:
        text = faults_arg.strip()
        if text in ('all', ''):
            chosen = set(FAULTS) if text == 'all' else set()
        elif text == 'none':
            chosen = set()
        else:
            chosen = {n.strip() for n in text.split(',') if n.strip()}
        names = chosen
    for n in list(names) + list(no_fault or ()):
        if n not in FAULTS:
            raise LlmwhError(f'unknown fault {n!r}; faults: {", ".join(FAULTS)} (or all / none)')
    return frozenset(names - set(no_fault or ()))


class _Out:
    """One JSON Lines output (optionally gzip), with the duplicate-delivery fault."""

    def __init__(self, path: Path, gz: bool, rng, duplicates: bool):
        self.path = path
        raw = open(path, 'wb')
        self._fh = gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0, compresslevel=3) if gz else raw
        self._raw = raw
        self._buf, self._size = [], 0
        self.lines = self.records = self.dup_records = 0
        self._rng, self._dups, self._pending, self._seq = rng, duplicates, [], 0

    def write(self, line: str, records: int, may_duplicate=True):
        self._put(line, records)
        if self._dups and may_duplicate and self._rng.random() < FAULT_RATES['duplicates']:
            self._seq += 1
            heapq.heappush(self._pending, (self.lines + self._rng.randint(1, 20), self._seq, line, records))
        while self._pending and self._pending[0][0] <= self.lines:
            _, _, dup, n = heapq.heappop(self._pending)
            self._put(dup, n)
            self.dup_records += n

    def _put(self, line, records):
        self._buf.append(line)
        self._size += len(line)
        self.lines += 1
        self.records += records
        if self._size > 4_000_000:
            self._flush()

    def _flush(self):
        if self._buf:
            self._fh.write(('\n'.join(self._buf) + '\n').encode())
            self._buf, self._size = [], 0

    def close(self):
        while self._pending:
            _, _, dup, n = heapq.heappop(self._pending)
            self._put(dup, n)
            self.dup_records += n
        self._flush()
        self._fh.close()
        if self._fh is not self._raw:
            self._raw.close()


class _Seasonal:
    """Unit start times: weekday/weekend and hour-of-day seasonality (UTC), rejection sampled."""

    def __init__(self, rng, start_ns, days):
        self.rng, self.start_ns, self.period = rng, start_ns, days * DAY_NS
        self.weekday0 = datetime.fromtimestamp(start_ns / 1e9, timezone.utc).weekday()

    def rate(self, t):
        day, into = divmod(t - self.start_ns, DAY_NS)
        hour = into / 3.6e12
        weekend = (self.weekday0 + day) % 7 >= 5
        daily = 0.18 + 0.82 * math.exp(-((hour - 14.5) / 4.2) ** 2)
        return daily * (0.5 if weekend else 1.0)

    def draw(self):
        while True:
            t = self.start_ns + int(self.rng.random() * self.period)
            if self.rng.random() < self.rate(t):
                return t


def generate(opts: GenerateOptions, echo=print) -> dict:
    started = time.monotonic()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_NAMES:      # a previous run's files (maybe the other compression) must not linger
        for stale in (out / name, out / (name + '.gz')):
            if stale.is_file():
                stale.unlink()
    if opts.start is None:
        today = datetime.now(timezone.utc).date()
        opts.start = billing.utc_midnight(today) - timedelta(days=opts.days)
    start_ns = int(opts.start.timestamp()) * 10**9
    faults = opts.faults
    seed = opts.seed
    skew = dict(CLOCK_SKEW_NS) if 'clock_skew' in faults else {}
    resources = {name: resource_attributes(name) for name in SERVICES}
    sdk = SdkTelemetry(f'{seed}:ids', resources, skew)
    ctx = Ctx(sdk, random.Random(f'{seed}:scenario'), faults, random.Random(f'{seed}:faults'))
    times = _Seasonal(random.Random(f'{seed}:time'), start_ns, opts.days)
    rng_rep, rng_late = random.Random(f'{seed}:replicate'), random.Random(f'{seed}:late')
    metric_services = {s.name: {'temporality': s.metrics, 'scope': s.metric_scope, 'counters': s.counters}
                       for s in SERVICES.values() if s.metrics}
    meters = MetricsEmitter(metric_services, resources, skew)

    target_units = opts.conversations if opts.spans is None else None
    budget = opts.sdk_spans if opts.spans is None else min(opts.sdk_spans, opts.spans)

    # ---- 1. SDK units
    flavour_names = list(FLAVOURS)
    weights = [(f, FLAVOURS[f][0]) for f in flavour_names]
    templates, anchors = [], []
    sdk_spans = 0
    while True:
        i = len(templates)
        if i < len(flavour_names):
            flavour = flavour_names[i]
        else:
            x = ctx.rng.random() * sum(w for _, w in weights)
            for flavour, w in weights:
                x -= w
                if x < 0:
                    break
        anchor = times.draw()
        ctx.reset(anchor)
        sdk.ids.issued.clear()
        FLAVOUR_FUNCTIONS[flavour](ctx)
        spans, logs = sdk.drain()
        if skew:
            n_skewed = sum(1 for s in spans if s.resource.attributes['service.name'] in skew)
            n_skewed += sum(1 for r in logs if r.resource.attributes['service.name'] in skew)
            if n_skewed:
                ctx.count('clock_skew', n_skewed)
        tpl = build_template(flavour, anchor, encode_trace_lines(spans), encode_log_lines(logs), ctx.calls,
                             ctx.ids, sdk.ids.issued, ctx.conversations, ctx.evaluations, ctx.fault_counts)
        templates.append(tpl)
        anchors.append(anchor)
        sdk_spans += tpl.spans
        if target_units is not None and len(templates) >= target_units:
            break
        if sdk_spans >= budget:
            break
    n_sdk = len(templates)
    echo(f'SDK: {n_sdk} units, {sdk_spans} spans in {time.monotonic() - started:.1f}s')

    # ---- 2. replicas
    if target_units is not None:
        n_rep = target_units - n_sdk
    else:
        mean = sdk_spans / n_sdk
        n_rep = max(0, round((opts.spans - sdk_spans) / mean))
    rep_anchors = sorted(times.draw() for _ in range(n_rep))
    rep_templates = [rng_rep.randrange(n_sdk) for _ in range(n_rep)]
    sdk_order = sorted(range(n_sdk), key=lambda k: (anchors[k], k))

    # ---- 3. sweep
    files = {name: _Out(out / (name + ('.gz' if opts.gzip else '')), opts.gzip, random.Random(f'{seed}:dup:{name}'),
                        'duplicates' in faults and name != 'metrics.jsonl')
             for name in OUTPUT_NAMES}
    truth = Truth(lambda d: billing.iso_day(opts.start, d))
    stats = _Stats(flavour_names)
    bound = int(FAULT_RATES['sampling'] * 2**64)
    interval_ns = opts.metric_interval_s * 10**9
    pending = {}
    next_interval = 0
    last_echo = time.monotonic()
    attr_cache = {}

    def flush_metrics(upto):
        nonlocal next_interval
        while next_interval < upto:
            for item in pending.pop(next_interval, ()):
                _record_metrics(meters, truth, item, attr_cache)
            collect_at = start_ns + (next_interval + 1) * interval_ns
            for line, h, s in meters.collect(start_ns, collect_at):
                files['metrics.jsonl'].write(line, 0, may_duplicate=False)
                stats.histogram_points += h
                stats.sum_points += s
            next_interval += 1

    def process(tpl, ids, anchor, replica):
        state = {}
        sampled_flavour = 'sampling' in faults and tpl.flavour in SAMPLED_FLAVOURS
        for line in tpl.traces:
            tid = ids[line.trace]
            kept = not sampled_flavour or int(tid[16:], 16) < bound
            late = rng_late.random() < FAULT_RATES['late'] and 'late' in faults
            state[line.trace] = (kept, late)
            if kept:
                files['traces.late.jsonl' if late else 'traces.jsonl'].write(render(line, ids, anchor), line.records)
                if late:
                    stats.late_traces += 1
                    stats.late_spans += line.records
            else:
                stats.dropped_traces += 1
                stats.dropped_spans += line.records
        for line in tpl.logs:
            kept, late = state.get(line.trace, (True, False))
            files['logs.late.jsonl' if late else 'logs.jsonl'].write(render(line, ids, anchor), line.records)
            if late:
                stats.late_logs += line.records
        for (prefix, conv_index), flavour in tpl.conversations:
            truth.conversation(prefix + ids[conv_index], flavour, len(tpl.traces))
        for c in tpl.calls:
            t = c['t'] + anchor
            kept = state[c['trace']][0]
            conv = c['conversation']
            truth.call(c, t, start_ns, kept, conv[0] + ids[conv[1]] if conv is not None else None)
            if not kept:
                stats.dropped_calls += 1
            s = skew.get(c['service'])
            if s and (t - start_ns) // DAY_NS != (t + s - start_ns) // DAY_NS:
                stats.crossing_day += 1
            if c['metrics']:
                end = t + c['dur']
                pending.setdefault((end - start_ns) // interval_ns, []).append(
                    (c, ids[c['trace']], ids[c['span']], end, replica))
        for name, label in tpl.evaluations:
            truth.evaluations[(name, label)] = truth.evaluations.get((name, label), 0) + 1
        for k, v in tpl.fault_counts.items():
            stats.faults[k] = stats.faults.get(k, 0) + v
        stats.add_unit(tpl, replica)

    si = ri = 0
    while si < n_sdk or ri < n_rep:
        if ri >= n_rep or (si < n_sdk and anchors[sdk_order[si]] <= rep_anchors[ri]):
            k = sdk_order[si]
            si += 1
            tpl, anchor, ids, replica = templates[k], anchors[k], templates[k].ids, False
        else:
            tpl, anchor = templates[rep_templates[ri]], rep_anchors[ri]
            ri += 1
            ids, replica = fresh_ids(tpl, rng_rep), True
        flush_metrics((anchor - METRIC_LAG_NS - start_ns) // interval_ns)
        process(tpl, ids, anchor, replica)
        now = time.monotonic()
        if now - last_echo > 5:
            last_echo = now
            written = files['traces.jsonl'].records + files['traces.late.jsonl'].records
            echo(f'  {written:>12,} spans written, {written / (now - started):,.0f} spans/s')
    last_pending = max(pending) if pending else 0
    flush_metrics(max(last_pending + 1, opts.days * DAY_NS // interval_ns))
    for f in files.values():
        f.close()

    # ---- truth files, billing, manifest
    conv_path = out / 'truth_conversations.jsonl'
    with open(conv_path, 'w') as fh:
        for line in truth.conversation_lines():
            fh.write(line + '\n')
    billing_summary = billing.write_exports(out / 'billing', truth.billing, opts.start, opts.days)
    manifest = _manifest(opts, faults, files, stats, truth, billing_summary, n_sdk, n_rep, skew)
    manifest['paths'].update(sdk_metric_measurements=meters.sdk_measurements,
                             replicated_metric_measurements=meters.replicated_measurements)
    (out / 'manifest.json').write_text(json.dumps(manifest, indent=1, sort_keys=False) + '\n')
    elapsed = time.monotonic() - started
    total_spans = manifest['tables']['otel_traces']
    echo(f'Wrote {total_spans:,} spans, {manifest["tables"]["otel_logs"]:,} logs, '
         f'{stats.histogram_points + stats.sum_points:,} metric points to {out} in {elapsed:.1f}s '
         f'({total_spans / max(elapsed, 1e-9):,.0f} spans/s)')
    return manifest


def _record_metrics(meters, truth, item, cache):
    c, trace_id, span_id, end, replica = item
    for service, attrs, has_usage in c['metrics']:
        spec = SERVICES[service]
        if not spec.metrics:
            continue
        if c['ok'] and has_usage:
            for token_type, value in (('input', c['input']), ('output', c['output'])):
                items = _with(cache, attrs, ('gen_ai.token.type', token_type))
                meters.record(service, 'token', value, items, replica=replica)
                truth.metric(service, 'gen_ai.client.token.usage', token_type, None, value)
                if spec.counters:
                    meters.record(service, f'usage_{token_type}', value, attrs, replica=replica)
                    truth.metric(service, f'gen_ai.client.inference.usage.{token_type}_tokens', None, None, value)
        error = None if c['ok'] else c['error_type']
        items = attrs if error is None else _with(cache, attrs, ('error.type', error))
        seconds = c['dur'] / 1e9
        if replica:
            meters.record(service, 'duration', seconds, items, replica=True)
        else:
            meters.record(service, 'duration', seconds, items, int(trace_id, 16), int(span_id, 16), end)
        truth.metric(service, 'gen_ai.client.operation.duration', None, error, seconds)
        if c['ok'] and c['streaming'] and c['ttft'] is not None:
            meters.record(service, 'ttft', c['ttft'], attrs, replica=replica)
            truth.metric(service, 'gen_ai.client.operation.time_to_first_chunk', None, None, c['ttft'])


def _with(cache, attrs, pair):
    key = (attrs, pair)
    v = cache.get(key)
    if v is None:
        v = cache[key] = tuple(sorted(attrs + (pair,)))
    return v


class _Stats:
    def __init__(self, flavours):
        self.flavours = {f: {'units': 0, 'traces': 0, 'spans': 0, 'log_records': 0, 'llm_calls': 0}
                         for f in flavours}
        self.sdk = {'units': 0, 'spans': 0, 'logs': 0}
        self.replicated = {'units': 0, 'spans': 0, 'logs': 0}
        self.faults = {}
        self.late_traces = self.late_spans = self.late_logs = 0
        self.dropped_traces = self.dropped_spans = self.dropped_calls = 0
        self.crossing_day = 0
        self.histogram_points = self.sum_points = 0

    def add_unit(self, tpl, replica):
        f = self.flavours[tpl.flavour]
        f['units'] += 1
        f['traces'] += len(tpl.traces)
        f['spans'] += tpl.spans
        f['log_records'] += tpl.log_records
        f['llm_calls'] += len(tpl.calls)
        path = self.replicated if replica else self.sdk
        path['units'] += 1
        path['spans'] += tpl.spans
        path['logs'] += tpl.log_records


def _manifest(opts, faults, files, stats, truth, billing_summary, n_sdk, n_rep, skew):
    from opentelemetry.sdk.version import __version__ as sdk_version

    suffix = '.gz' if opts.gzip else ''
    f = {name: files[name] for name in OUTPUT_NAMES}
    span_files = ('traces.jsonl', 'traces.late.jsonl')
    log_files = ('logs.jsonl', 'logs.late.jsonl')
    file_info = {}
    for name in span_files:
        file_info[name + suffix] = {'lines': f[name].lines, 'spans': f[name].records}
    for name in log_files:
        file_info[name + suffix] = {'lines': f[name].lines, 'log_records': f[name].records}
    file_info['metrics.jsonl' + suffix] = {'lines': f['metrics.jsonl'].lines,
                                           'histogram_points': stats.histogram_points,
                                           'sum_points': stats.sum_points}
    file_info['truth_conversations.jsonl'] = {'lines': len(truth.conversations)}
    file_info.update({k: {'lines': v['pages']} for k, v in billing_summary.items()})
    dup_spans = sum(f[n].dup_records for n in span_files)
    dup_logs = sum(f[n].dup_records for n in log_files)

    def fault(name, count, **details):
        return {'enabled': name in faults, 'count': count, 'description': FAULTS[name], **details}

    services_by_flavour = {fl: list(spec[1]) for fl, spec in FLAVOURS.items()}
    flavours = {fl: {**v, 'services': services_by_flavour[fl], 'flavour_attribute': FLAVOUR_KEY}
                for fl, v in stats.flavours.items()}
    return {
        'generator': 'llmwh generate', 'generator_version': GENERATOR_VERSION, 'llmwh_version': __version__,
        'otel_sdk_version': sdk_version, 'seed': opts.seed,
        'start': opts.start.strftime('%Y-%m-%dT%H:%M:%SZ'),
        'end': (opts.start + timedelta(days=opts.days)).strftime('%Y-%m-%dT%H:%M:%SZ'), 'days': opts.days,
        'options': {'conversations': opts.conversations, 'spans_target': opts.spans,
                    'sdk_spans_budget': opts.sdk_spans, 'faults': sorted(faults), 'gzip': opts.gzip,
                    'metric_interval_s': opts.metric_interval_s},
        'files': file_info,
        'tables': {
            'otel_traces': sum(f[n].records for n in span_files),
            'otel_logs': sum(f[n].records for n in log_files),
            'otel_metrics_histogram': stats.histogram_points, 'otel_metrics_sum': stats.sum_points,
            'otel_metrics_gauge': 0, 'otel_metrics_exponential_histogram': 0, 'otel_metrics_summary': 0,
        },
        'paths': {'sdk_units': n_sdk, 'sdk_spans': stats.sdk['spans'], 'sdk_logs': stats.sdk['logs'],
                  'replicated_units': n_rep, 'replicated_spans': stats.replicated['spans'],
                  'replicated_logs': stats.replicated['logs']},
        'faults': {
            'usage_missing': fault('usage_missing', stats.faults.get('usage_missing', 0)),
            'duplicates': fault('duplicates', dup_spans + dup_logs, spans=dup_spans, logs=dup_logs),
            'late': fault('late', stats.late_spans + stats.late_logs, traces=stats.late_traces,
                          spans=stats.late_spans, logs=stats.late_logs),
            'unknown_models': fault('unknown_models', stats.faults.get('unknown_models', 0)),
            'dated_snapshots': fault('dated_snapshots', stats.faults.get('dated_snapshots', 0)),
            'clock_skew': fault('clock_skew', stats.faults.get('clock_skew', 0), services=skew,
                                llm_calls_crossing_day=stats.crossing_day),
            'sampling': fault('sampling', stats.dropped_spans, ratio=FAULT_RATES['sampling'],
                              flavours=list(SAMPLED_FLAVOURS), traces=stats.dropped_traces,
                              spans=stats.dropped_spans, llm_calls=stats.dropped_calls),
        },
        'flavours': flavours,
        'truth': {
            'token_fields': list(TOKEN_FIELDS),
            'by_day_provider_model': truth.by_day_rows(),
            'totals': truth.totals(),
            'conversations': {'file': 'truth_conversations.jsonl', 'count': len(truth.conversations)},
            'metrics': truth.metric_rows(),
            'evaluations': [{'name': n, 'label': l, 'count': c} for (n, l), c in sorted(truth.evaluations.items())],
        },
        'billing': billing_summary,
    }
