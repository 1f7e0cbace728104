"""The OTel Collector ClickHouse exporter's insert contract (column lists per table)."""

_METRIC_HEAD = (
    'ResourceAttributes', 'ResourceSchemaUrl', 'ScopeName', 'ScopeVersion', 'ScopeAttributes',
    'ScopeDroppedAttrCount', 'ScopeSchemaUrl', 'ServiceName', 'MetricName', 'MetricDescription',
    'MetricUnit', 'Attributes',
)
_EXEMPLARS = (
    'Exemplars.FilteredAttributes', 'Exemplars.TimeUnix', 'Exemplars.Value',
    'Exemplars.SpanId', 'Exemplars.TraceId',
)
_GAUGE = _METRIC_HEAD + ('StartTimeUnix', 'TimeUnix', 'Value', 'Flags') + _EXEMPLARS

INSERT_COLUMNS = {
    'otel_logs': (
        'Timestamp', 'TraceId', 'SpanId', 'TraceFlags', 'SeverityText', 'SeverityNumber',
        'ServiceName', 'Body', 'ResourceSchemaUrl', 'ResourceAttributes', 'ScopeSchemaUrl',
        'ScopeName', 'ScopeVersion', 'ScopeAttributes', 'LogAttributes', 'EventName',
    ),
    'otel_traces': (
        'Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind',
        'ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion', 'SpanAttributes',
        'Duration', 'StatusCode', 'StatusMessage', 'Events.Timestamp', 'Events.Name',
        'Events.Attributes', 'Links.TraceId', 'Links.SpanId', 'Links.TraceState',
        'Links.Attributes',
    ),
    'otel_metrics_gauge': _GAUGE,
    'otel_metrics_sum': _GAUGE + ('AggregationTemporality', 'IsMonotonic'),
    'otel_metrics_histogram': _METRIC_HEAD + (
        'StartTimeUnix', 'TimeUnix', 'Count', 'Sum', 'BucketCounts', 'ExplicitBounds',
    ) + _EXEMPLARS + ('Flags', 'Min', 'Max', 'AggregationTemporality'),
    'otel_metrics_exponential_histogram': _METRIC_HEAD + (
        'StartTimeUnix', 'TimeUnix', 'Count', 'Sum', 'Scale', 'ZeroCount', 'PositiveOffset',
        'PositiveBucketCounts', 'NegativeOffset', 'NegativeBucketCounts',
    ) + _EXEMPLARS + ('Flags', 'Min', 'Max', 'AggregationTemporality'),
    'otel_metrics_summary': _METRIC_HEAD + (
        'StartTimeUnix', 'TimeUnix', 'Count', 'Sum', 'ValueAtQuantiles.Quantile',
        'ValueAtQuantiles.Value', 'Flags',
    ),
}
