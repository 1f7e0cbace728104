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
from typing import Callable, Optional, Sequence

from llmwh import __version__
from llmwh.errors import LlmwhError
from llmwh.generate import billing_exports
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


def units_from(conversations: Optional[int] = None, scale: Optional[float] = None,
               spans: Optional[int] = None) -> Optional[int]:
    """Units to generate from at most one of --conversations / --scale / --spans
    (None when the spans target decides)."""
    if scale is not None:
        return max(1, round(DEFAULT_CONVERSATIONS * scale))
    if conversations is None and spans is None:
        return DEFAULT_CONVERSATIONS
    return conversations


def parse_faults(faults_arg: Optional[str], no_fault: Sequence[str] = ()) -> frozenset:
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


def generate(opts: GenerateOptions, echo: Callable[[str], None] = print) -> dict:
    """Write the telemetry, truth files, billing exports and manifest.json; return the manifest."""
    run = _Run(opts, echo)
    run.build_sdk_units()
    run.plan_replicas()
    run.sweep()
    return run.write_truth()


class _Run:
    """One `generate` call: the random streams, the SDK, the output files and the truth."""

    def __init__(self, opts: GenerateOptions, echo):
        self.started = time.monotonic()
        self.opts, self.echo = opts, echo
        self.out = Path(opts.out)
        self.out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_NAMES:      # a previous run's files (maybe the other compression) must not linger
            for stale in (self.out / name, self.out / (name + '.gz')):
                if stale.is_file():
                    stale.unlink()
        if opts.start is None:
            today = datetime.now(timezone.utc).date()
            opts.start = billing_exports.utc_midnight(today) - timedelta(days=opts.days)
        self.start_ns = int(opts.start.timestamp()) * 10**9
        self.faults = faults = opts.faults
        seed = opts.seed
        self.skew = dict(CLOCK_SKEW_NS) if 'clock_skew' in faults else {}
        resources = {name: resource_attributes(name) for name in SERVICES}
        self.sdk = SdkTelemetry(f'{seed}:ids', resources, self.skew)
        self.ctx = Ctx(self.sdk, random.Random(f'{seed}:scenario'), faults, random.Random(f'{seed}:faults'),
                       random.Random(f'{seed}:evaluations'))
        self.times = _Seasonal(random.Random(f'{seed}:time'), self.start_ns, opts.days)
        self.rng_rep, self.rng_late = random.Random(f'{seed}:replicate'), random.Random(f'{seed}:late')
        metric_services = {s.name: {'temporality': s.metrics, 'scope': s.metric_scope, 'counters': s.counters}
                           for s in SERVICES.values() if s.metrics}
        self.meters = MetricsEmitter(metric_services, resources, self.skew)
        self.flavour_names = list(FLAVOURS)
        self.templates, self.anchors = [], []
        self.sdk_spans = 0

    # ---- 1. SDK units

    def _next_flavour(self) -> str:
        """Every flavour once, round-robin, then by weight."""
        i = len(self.templates)
        if i < len(self.flavour_names):
            return self.flavour_names[i]
        weights = [(f, FLAVOURS[f][0]) for f in self.flavour_names]
        x = self.ctx.rng.random() * sum(w for _, w in weights)
        for flavour, w in weights:
            x -= w
            if x < 0:
                break
        return flavour

    def build_sdk_units(self):
        opts, ctx, sdk = self.opts, self.ctx, self.sdk
        target_units = opts.conversations if opts.spans is None else None
        budget = opts.sdk_spans if opts.spans is None else min(opts.sdk_spans, opts.spans)
        while True:
            flavour = self._next_flavour()
            anchor = self.times.draw()
            ctx.reset(anchor)
            sdk.ids.issued.clear()
            FLAVOUR_FUNCTIONS[flavour](ctx)
            spans, logs = sdk.drain()
            if self.skew:
                n_skewed = sum(1 for s in spans if s.resource.attributes['service.name'] in self.skew)
                n_skewed += sum(1 for r in logs if r.resource.attributes['service.name'] in self.skew)
                if n_skewed:
                    ctx.count('clock_skew', n_skewed)
            tpl = build_template(flavour, anchor, encode_trace_lines(spans), encode_log_lines(logs), ctx.calls,
                                 ctx.ids, sdk.ids.issued, ctx.conversations, ctx.evaluations, ctx.fault_counts)
            self.templates.append(tpl)
            self.anchors.append(anchor)
            self.sdk_spans += tpl.spans
            if target_units is not None and len(self.templates) >= target_units:
                break
            if self.sdk_spans >= budget:
                break
        self.n_sdk = len(self.templates)
        self.echo(f'SDK: {self.n_sdk} units, {self.sdk_spans} spans in {time.monotonic() - self.started:.1f}s')

    # ---- 2. replicas

    def plan_replicas(self):
        opts = self.opts
        if opts.spans is None:
            self.n_rep = opts.conversations - self.n_sdk
        else:
            mean = self.sdk_spans / self.n_sdk
            self.n_rep = max(0, round((opts.spans - self.sdk_spans) / mean))
        self.rep_anchors = sorted(self.times.draw() for _ in range(self.n_rep))
        self.rep_templates = [self.rng_rep.randrange(self.n_sdk) for _ in range(self.n_rep)]

    # ---- 3. sweep

    def sweep(self):
        """Write every unit in start-time order, SDK units and replicas interleaved."""
        opts = self.opts
        self.files = {name: _Out(self.out / (name + ('.gz' if opts.gzip else '')), opts.gzip,
                                 random.Random(f'{opts.seed}:dup:{name}'),
                                 'duplicates' in self.faults and name != 'metrics.jsonl')
                      for name in OUTPUT_NAMES}
        self.truth = Truth(lambda d: billing_exports.iso_day(opts.start, d))
        self.stats = _Stats(self.flavour_names)
        self.sampling_bound = int(FAULT_RATES['sampling'] * 2**64)
        self.interval_ns = opts.metric_interval_s * 10**9
        self.pending = {}
        self.next_interval = 0
        self.attr_cache = {}
        last_echo = time.monotonic()
        for tpl, anchor, ids, replica in self._units_in_time_order():
            self._flush_metrics((anchor - METRIC_LAG_NS - self.start_ns) // self.interval_ns)
            self._process(tpl, ids, anchor, replica)
            now = time.monotonic()
            if now - last_echo > 5:
                last_echo = now
                written = self.files['traces.jsonl'].records + self.files['traces.late.jsonl'].records
                self.echo(f'  {written:>12,} spans written, {written / (now - self.started):,.0f} spans/s')
        last_pending = max(self.pending) if self.pending else 0
        self._flush_metrics(max(last_pending + 1, opts.days * DAY_NS // self.interval_ns))
        for f in self.files.values():
            f.close()

    def _units_in_time_order(self):
        sdk_order = sorted(range(self.n_sdk), key=lambda k: (self.anchors[k], k))
        si = ri = 0
        while si < self.n_sdk or ri < self.n_rep:
            if ri >= self.n_rep or (si < self.n_sdk and self.anchors[sdk_order[si]] <= self.rep_anchors[ri]):
                k = sdk_order[si]
                si += 1
                yield self.templates[k], self.anchors[k], self.templates[k].ids, False
            else:
                tpl, anchor = self.templates[self.rep_templates[ri]], self.rep_anchors[ri]
                ri += 1
                yield tpl, anchor, fresh_ids(tpl, self.rng_rep), True

    def _flush_metrics(self, upto: int):
        """Record the calls of every complete interval before `upto` and collect their points."""
        while self.next_interval < upto:
            for item in self.pending.pop(self.next_interval, ()):
                _record_metrics(self.meters, self.truth, item, self.attr_cache)
            collect_at = self.start_ns + (self.next_interval + 1) * self.interval_ns
            for line, h, s in self.meters.collect(self.start_ns, collect_at):
                self.files['metrics.jsonl'].write(line, 0, may_duplicate=False)
                self.stats.histogram_points += h
                self.stats.sum_points += s
            self.next_interval += 1

    def _process(self, tpl, ids, anchor, replica):
        state = self._write_unit(tpl, ids, anchor)
        self._record_truth(tpl, ids, anchor, replica, state)
        self.stats.add_unit(tpl, replica)

    def _write_unit(self, tpl, ids, anchor) -> dict:
        """Write a unit's trace and log lines; sampling and late faults are drawn per trace.
        Returns trace -> (kept, late)."""
        files, stats = self.files, self.stats
        state = {}
        sampled_flavour = 'sampling' in self.faults and tpl.flavour in SAMPLED_FLAVOURS
        for line in tpl.traces:
            tid = ids[line.trace]
            kept = not sampled_flavour or int(tid[16:], 16) < self.sampling_bound
            late = self.rng_late.random() < FAULT_RATES['late'] and 'late' in self.faults
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
        return state

    def _record_truth(self, tpl, ids, anchor, replica, state):
        truth, stats, start_ns = self.truth, self.stats, self.start_ns
        # A trace is exported in several lines (one per service); count traces, as written.
        written_traces = sum(1 for kept, _ in state.values() if kept)
        for (prefix, conv_index), flavour in tpl.conversations:
            truth.conversation(prefix + ids[conv_index], flavour, written_traces)
        for c in tpl.calls:
            t = c['t'] + anchor
            kept = state[c['trace']][0]
            conv = c['conversation']
            truth.call(c, t, start_ns, kept, conv[0] + ids[conv[1]] if conv is not None else None)
            if not kept:
                stats.dropped_calls += 1
            s = self.skew.get(c['service'])
            if s and (t - start_ns) // DAY_NS != (t + s - start_ns) // DAY_NS:
                stats.crossing_day += 1
            if c['metrics']:
                end = t + c['dur']
                self.pending.setdefault((end - start_ns) // self.interval_ns, []).append(
                    (c, ids[c['trace']], ids[c['span']], end, replica))
        for e in tpl.evaluations:
            # An event is written even when sampling dropped its trace; a span result only with its trace.
            emitted = e['shape'] == 'event' or state[e['trace']][0]
            truth.evaluation(e, ids, e['t'] + anchor, start_ns, emitted)
        for k, v in tpl.fault_counts.items():
            stats.faults[k] = stats.faults.get(k, 0) + v

    # ---- truth files, billing, manifest

    def write_truth(self) -> dict:
        out, opts, truth, stats = self.out, self.opts, self.truth, self.stats
        with open(out / 'truth_conversations.jsonl', 'w') as fh:
            for line in truth.conversation_lines():
                fh.write(line + '\n')
        with open(out / 'truth_evaluations.jsonl', 'w') as fh:
            for line in truth.evaluation_lines():
                fh.write(line + '\n')
        billing_summary = billing_exports.write_exports(out / 'billing', truth.billing, opts.start, opts.days)
        manifest = _manifest(opts, self.faults, self.files, stats, truth, billing_summary, self.n_sdk, self.n_rep,
                             self.skew)
        manifest['paths'].update(sdk_metric_measurements=self.meters.sdk_measurements,
                                 replicated_metric_measurements=self.meters.replicated_measurements)
        (out / 'manifest.json').write_text(json.dumps(manifest, indent=1, sort_keys=False) + '\n')
        elapsed = time.monotonic() - self.started
        total_spans = manifest['tables']['otel_traces']
        self.echo(f'Wrote {total_spans:,} spans, {manifest["tables"]["otel_logs"]:,} logs, '
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
    file_info['truth_evaluations.jsonl'] = {'lines': len(truth.evaluations)}
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
            'bad_evaluations': fault('bad_evaluations', stats.faults.get('bad_evaluations', 0)),
        },
        'flavours': flavours,
        'truth': {
            'token_fields': list(TOKEN_FIELDS),
            'by_day_provider_model': truth.by_day_rows(),
            'totals': truth.totals(),
            'conversations': {'file': 'truth_conversations.jsonl', 'count': len(truth.conversations)},
            'metrics': truth.metric_rows(),
            'evaluations': {'file': 'truth_evaluations.jsonl', 'count': len(truth.evaluations),
                            'by_day_model': truth.evaluation_rows()},
        },
        'billing': billing_summary,
    }
