"""Real OpenTelemetry SDK objects in, OTLP/JSON lines out.

Spans come from the SDK's TracerProvider (one per service, i.e. per resource)
with a seeded IdGenerator, explicit start/end times and an in-memory exporter;
logs from the SDK's LoggerProvider; metrics from MeterProviders read by
InMemoryMetricReaders. The OTLP proto common encoders turn them into
Export*ServiceRequest messages and protobuf's json_format writes OTLP/JSON:
camelCase names, enums as ints, int64 as strings. json_format writes bytes as
base64, OTLP/JSON wants lowercase hex ids, so `to_json` fixes trace/span ids
(spans, span links, log records, metric exemplars).

Nothing here reads the wall clock into the output: span and log times are
explicit, and metric data point times (which the SDK takes from time_ns())
are rewritten to the simulated collection times by `MetricsEmitter.collect`.
"""

import base64
import bisect
import json
import random

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import (
    Counter, Histogram, MeterProvider, TraceBasedExemplarFilter, AlwaysOffExemplarFilter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as PbResource
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

# Semconv bucket boundaries (genai_attributes.md §1.7).
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)

KINDS = {'internal': SpanKind.INTERNAL, 'server': SpanKind.SERVER, 'client': SpanKind.CLIENT,
         'producer': SpanKind.PRODUCER, 'consumer': SpanKind.CONSUMER}
SEVERITY = {'debug': SeverityNumber.DEBUG, 'info': SeverityNumber.INFO, 'warn': SeverityNumber.WARN,
            'error': SeverityNumber.ERROR}


class SeededIds(IdGenerator):
    """Deterministic ids; every id handed out is recorded in `issued` (the replication
    templates need to know which hex strings in the output are ids)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.issued = []

    def generate_span_id(self) -> int:
        value = self.rng.getrandbits(64) or 1
        self.issued.append(f'{value:016x}')
        return value

    def generate_trace_id(self) -> int:
        value = self.rng.getrandbits(128) or 1
        self.issued.append(f'{value:032x}')
        return value


# ------------------------------------------------------------------ OTLP/JSON

def _hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _fix_ids(obj, keys=('traceId', 'spanId', 'parentSpanId')):
    for key in keys:
        if key in obj:
            obj[key] = _hex(obj[key])


def to_json(request) -> str:
    """One Export*ServiceRequest -> one compact OTLP/JSON line (hex ids)."""
    doc = json_format.MessageToDict(request, use_integers_for_enums=True)
    for rs in doc.get('resourceSpans', ()):
        for ss in rs.get('scopeSpans', ()):
            for span in ss.get('spans', ()):
                _fix_ids(span)
                for link in span.get('links', ()):
                    _fix_ids(link)
    for rl in doc.get('resourceLogs', ()):
        for sl in rl.get('scopeLogs', ()):
            for record in sl.get('logRecords', ()):
                _fix_ids(record)
    for rm in doc.get('resourceMetrics', ()):
        for sm in rm.get('scopeMetrics', ()):
            for metric in sm.get('metrics', ()):
                for kind in ('histogram', 'sum', 'gauge', 'exponentialHistogram', 'summary'):
                    for point in metric.get(kind, {}).get('dataPoints', ()):
                        for exemplar in point.get('exemplars', ()):
                            _fix_ids(exemplar)
    return json.dumps(doc, separators=(',', ':'), ensure_ascii=False)


# ------------------------------------------------------------------ spans and logs

class SdkTelemetry:
    """TracerProviders and LoggerProviders per service, sharing one seeded IdGenerator."""

    def __init__(self, seed, resources: dict, skew_ns: dict):
        self.ids = SeededIds(seed)
        self.skew_ns = skew_ns
        self.span_exporter = InMemorySpanExporter()
        self.log_exporter = InMemoryLogRecordExporter()
        self._resources = resources          # service -> resource attribute dict
        self._tracer_providers, self._logger_providers = {}, {}
        self._tracers, self._loggers = {}, {}
        no_limit = SpanLimits.UNSET
        self._span_limits = SpanLimits(max_attributes=512, max_events=128, max_links=128,
                                       max_event_attributes=128, max_link_attributes=128,
                                       max_attribute_length=no_limit, max_span_attribute_length=no_limit)

    def _resource(self, service):
        return Resource(self._resources[service])

    def tracer(self, service, scope, version):
        key = (service, scope, version)
        if key not in self._tracers:
            if service not in self._tracer_providers:
                provider = TracerProvider(resource=self._resource(service), id_generator=self.ids,
                                          sampler=ALWAYS_ON, span_limits=self._span_limits,
                                          shutdown_on_exit=False)
                provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
                self._tracer_providers[service] = provider
            self._tracers[key] = self._tracer_providers[service].get_tracer(scope, version)
        return self._tracers[key]

    def logger(self, service, scope, version):
        key = (service, scope, version)
        if key not in self._loggers:
            if service not in self._logger_providers:
                provider = LoggerProvider(resource=self._resource(service), shutdown_on_exit=False,
                                          log_record_limits=LogRecordLimits(max_attributes=256))
                provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
                self._logger_providers[service] = provider
            self._loggers[key] = self._logger_providers[service].get_logger(scope, version)
        return self._loggers[key]

    # -- spans: times are true times; a skewed service's clock is applied here
    def start(self, service, scope, name, kind, start_ns, attrs=None, parent=None, links=()):
        tracer = self.tracer(service, *scope)
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        sdk_links = [Link(SpanContext(l.get_span_context().trace_id, l.get_span_context().span_id,
                                      is_remote=False, trace_flags=TraceFlags(1)), attributes)
                     for l, attributes in links]
        span = tracer.start_span(name, context=ctx, kind=KINDS[kind], attributes=attrs,
                                 links=sdk_links, start_time=start_ns + self.skew_ns.get(service, 0))
        span._llmwh_service = service
        return span

    def end(self, span, end_ns, error=None, ok=False, events=()):
        skew = self.skew_ns.get(span._llmwh_service, 0)
        for name, ts, attributes in events:
            span.add_event(name, attributes, timestamp=ts + skew)
        if error:
            span.set_status(Status(StatusCode.ERROR, error))
        elif ok:
            span.set_status(Status(StatusCode.OK))
        span.end(end_time=end_ns + skew)

    def log(self, service, scope, ts_ns, body, attrs=None, span=None, severity='info', event_name=None):
        logger = self.logger(service, *scope)
        ctx = trace.set_span_in_context(span) if span is not None else trace.set_span_in_context(
            NonRecordingSpan(SpanContext(0, 0, False)))
        ts = ts_ns + self.skew_ns.get(service, 0)
        logger.emit(timestamp=ts, observed_timestamp=ts + 1_000_000, context=ctx,
                    severity_number=SEVERITY[severity], severity_text=severity, body=body,
                    attributes=attrs, event_name=event_name)

    def drain(self):
        """(spans, log records) finished since the last drain."""
        spans = self.span_exporter.get_finished_spans()
        self.span_exporter.clear()
        logs = self.log_exporter.get_finished_logs()
        self.log_exporter.clear()
        return spans, logs


def encode_trace_lines(spans):
    """Group finished spans by trace (first-seen order) -> {trace_id_hex: json line}."""
    by_trace = {}
    for span in spans:
        by_trace.setdefault(span.context.trace_id, []).append(span)
    return {f'{tid:032x}': (to_json(encode_spans(group)), len(group)) for tid, group in by_trace.items()}


def encode_log_lines(records):
    """Group log records by trace id -> {trace_id_hex or '': (json line, count)}."""
    by_trace = {}
    for record in records:
        tid = record.log_record.trace_id or 0
        by_trace.setdefault(tid, []).append(record)
    return {(f'{tid:032x}' if tid else ''): (to_json(encode_logs(group)), len(group))
            for tid, group in by_trace.items()}


# ------------------------------------------------------------------ metrics

def metrics_data_stub():
    from opentelemetry.sdk.metrics.export import MetricsData
    return MetricsData(resource_metrics=[])


# instrument key -> (metric name, unit, description, kind, bucket boundaries)
INSTRUMENTS = {
    'token': ('gen_ai.client.token.usage', '{token}', 'Measures number of input and output tokens used',
              'histogram', TOKEN_BUCKETS),
    'duration': ('gen_ai.client.operation.duration', 's', 'GenAI operation duration', 'histogram',
                 DURATION_BUCKETS),
    'ttft': ('gen_ai.client.operation.time_to_first_chunk', 's',
             'Time to receive the first chunk in a streaming operation', 'histogram', DURATION_BUCKETS),
    'usage_input': ('gen_ai.client.inference.usage.input_tokens', '{token}',
                    'Input tokens used by inference operations', 'sum', None),
    'usage_output': ('gen_ai.client.inference.usage.output_tokens', '{token}',
                     'Output tokens used by inference operations', 'sum', None),
}


class MetricsEmitter:
    """One MeterProvider + InMemoryMetricReader per service; simulated collection times.

    Histograms: gen_ai.client.token.usage (bucket boundaries via the advisory
    parameter), gen_ai.client.operation.duration (boundaries via a View, with
    trace-based exemplars), gen_ai.client.operation.time_to_first_chunk.
    Counters (services on the newest genai conventions):
    gen_ai.client.inference.usage.input_tokens / output_tokens.
    """

    def __init__(self, services: dict, resources: dict, skew_ns: dict):
        # services: name -> {'temporality': 'delta'|'cumulative', 'scope': (name, version), 'counters': bool}
        self.services = services
        self.skew_ns = skew_ns
        self._providers, self._readers, self._instruments = {}, {}, {}
        self._attrs = {}
        self.exemplar_times = {}        # span id (int) -> measurement time (ns), this interval
        # Replicated calls skip the SDK's per-measurement path (about 30 us each): they are
        # aggregated here with the SDK's bucket rule and merged into its data points.
        self._replica = {name: {} for name in services}   # (instrument, attr items) -> state
        self.sdk_measurements = self.replicated_measurements = 0
        for name, spec in services.items():
            temporality = (AggregationTemporality.DELTA if spec['temporality'] == 'delta'
                           else AggregationTemporality.CUMULATIVE)
            reader = InMemoryMetricReader(preferred_temporality={Histogram: temporality, Counter: temporality})
            provider = MeterProvider(
                metric_readers=[reader], resource=Resource(resources[name]), shutdown_on_exit=False,
                exemplar_filter=TraceBasedExemplarFilter() if spec['temporality'] == 'delta'
                else AlwaysOffExemplarFilter(),
                views=[View(instrument_name='gen_ai.client.operation.duration',
                            aggregation=ExplicitBucketHistogramAggregation(DURATION_BUCKETS))])
            meter = provider.get_meter(*spec['scope'])
            inst = {
                'token': meter.create_histogram(
                    'gen_ai.client.token.usage', unit='{token}',
                    description='Measures number of input and output tokens used',
                    explicit_bucket_boundaries_advisory=TOKEN_BUCKETS),
                'duration': meter.create_histogram(
                    'gen_ai.client.operation.duration', unit='s',
                    description='GenAI operation duration'),
                'ttft': meter.create_histogram(
                    'gen_ai.client.operation.time_to_first_chunk', unit='s',
                    description='Time to receive the first chunk in a streaming operation',
                    explicit_bucket_boundaries_advisory=DURATION_BUCKETS),
            }
            if spec.get('counters'):
                inst['usage_input'] = meter.create_counter(
                    'gen_ai.client.inference.usage.input_tokens', unit='{token}',
                    description='Input tokens used by inference operations')
                inst['usage_output'] = meter.create_counter(
                    'gen_ai.client.inference.usage.output_tokens', unit='{token}',
                    description='Output tokens used by inference operations')
            self._providers[name], self._readers[name], self._instruments[name] = provider, reader, inst
        self._resource_attrs = {name: tuple(resources[name].items()) for name in services}
        self.start_ns = None
        self.last_collect_ns = None

    def attrs(self, items: tuple) -> dict:
        """Interned attribute dicts (items: a sorted tuple of pairs)."""
        d = self._attrs.get(items)
        if d is None:
            d = self._attrs[items] = dict(items)
        return d

    def record(self, service, instrument, value, attr_items, trace_id=0, span_id=0, time_ns=0, replica=False):
        if replica:
            self.replicated_measurements += 1
            states = self._replica[service]
            state = states.get((instrument, attr_items))
            if INSTRUMENTS[instrument][3] == 'sum':
                states[(instrument, attr_items)] = (state or 0) + value
                return
            if state is None:
                state = states[(instrument, attr_items)] = [0, 0.0, value, value,
                                                           [0] * (len(INSTRUMENTS[instrument][4]) + 1)]
            state[0] += 1
            state[1] += value
            if value < state[2]:
                state[2] = value
            if value > state[3]:
                state[3] = value
            state[4][bisect.bisect_left(INSTRUMENTS[instrument][4], value)] += 1
            return
        self.sdk_measurements += 1
        inst = self._instruments[service][instrument]
        attributes = self.attrs(attr_items)
        if trace_id and span_id:
            ctx = trace.set_span_in_context(NonRecordingSpan(
                SpanContext(trace_id, span_id, False, trace_flags=TraceFlags(1))))
            self.exemplar_times[span_id] = time_ns
            if instrument in ('usage_input', 'usage_output'):
                inst.add(value, attributes, context=ctx)
            else:
                inst.record(value, attributes, context=ctx)
        elif instrument in ('usage_input', 'usage_output'):
            inst.add(value, attributes)
        else:
            inst.record(value, attributes)

    def collect(self, start_ns, time_ns):
        """Collect every service at simulated time `time_ns` -> [(json line, histogram points, sum points)].

        Delta points cover [previous collection, time_ns); cumulative points
        start at `start_ns` (the simulated process start). Exemplar times are
        the recorded measurement times.
        """
        out = []
        for name in self.services:
            data = self._readers[name].get_metrics_data()
            if data is not None and data.resource_metrics:
                request = encode_metrics(data)
            else:
                request = None
            request = self._merge_replicas(name, request)
            if request is None:
                continue
            skew = self.skew_ns.get(name, 0)
            delta_start = (self.last_collect_ns if self.last_collect_ns is not None else start_ns) + skew
            histogram_points = sum_points = 0
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        kind = metric.WhichOneof('data')
                        points = getattr(metric, kind).data_points
                        temporality = getattr(metric, kind).aggregation_temporality
                        for p in points:
                            p.time_unix_nano = time_ns + skew
                            p.start_time_unix_nano = (delta_start if temporality == 1 else start_ns + skew)
                            for ex in p.exemplars:
                                sid = int.from_bytes(ex.span_id, 'big') if ex.span_id else 0
                                ex.time_unix_nano = self.exemplar_times.get(sid, time_ns) + skew
                        if kind == 'histogram':
                            histogram_points += len(points)
                        elif kind == 'sum':
                            sum_points += len(points)
            if histogram_points or sum_points:
                out.append((to_json(request), histogram_points, sum_points))
        self.exemplar_times.clear()
        self.last_collect_ns = time_ns
        return out

    def _merge_replicas(self, service, request):
        """Add the replicated calls' aggregates to the SDK's points (or make the points)."""
        states = self._replica[service]
        if not states:
            return request
        spec = self.services[service]
        delta = spec['temporality'] == 'delta'
        if request is None:
            request = encode_metrics(metrics_data_stub())
            rm = request.resource_metrics.add()
            rm.resource.CopyFrom(PbResource(attributes=[
                KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in self._resource_attrs[service]]))
            sm = rm.scope_metrics.add()
            sm.scope.CopyFrom(InstrumentationScope(name=spec['scope'][0], version=spec['scope'][1]))
        sm = request.resource_metrics[0].scope_metrics[0]
        metrics = {m.name: m for m in sm.metrics}
        indexes = {}
        temporality = 1 if delta else 2
        for (instrument, attr_items), state in states.items():
            name, unit, description, kind, bounds = INSTRUMENTS[instrument]
            metric = metrics.get(name)
            if metric is None:
                metric = metrics[name] = sm.metrics.add(name=name, unit=unit, description=description)
                if kind == 'histogram':
                    metric.histogram.aggregation_temporality = temporality
                else:
                    metric.sum.aggregation_temporality = temporality
                    metric.sum.is_monotonic = True
            container = metric.histogram if kind == 'histogram' else metric.sum
            index = indexes.get(name)
            if index is None:
                index = indexes[name] = {tuple((kv.key, kv.value.string_value) for kv in p.attributes): p
                                         for p in container.data_points}
            point = index.get(attr_items)
            if point is None:
                point = container.data_points.add(attributes=[
                    KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in attr_items])
                if kind == 'histogram':
                    point.explicit_bounds.extend(bounds)
                    point.bucket_counts.extend([0] * (len(bounds) + 1))
                    point.min, point.max = state[2], state[3]
            if kind == 'sum':
                point.as_int += state
                continue
            if point.count:
                point.min, point.max = min(point.min, state[2]), max(point.max, state[3])
            point.count += state[0]
            point.sum += state[1]
            for i, n in enumerate(state[4]):
                point.bucket_counts[i] += n
        if delta:
            states.clear()
        return request
