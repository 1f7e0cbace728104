"""`llmwh load otlp`: OTLP/JSON files land exactly as the collector's ClickHouse exporter writes them.

The OTLP/JSON requests below are hand-written (realistic LLM telemetry), and so
are the expected rows: written out from the exporter's mapping rules
(otel_exporter_schema.md §6, contrib's exporter code, pdata's AsString), never
produced by llmwh. Stored rows are read back from the engine and compared
column by column, with map key order included.
"""

import copy
import gzip
import json
import math
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import llmwh
from llmwh.otlp import files as otlp_files, loader as otlp_loader
from llmwh.warehouse.ddl import DdlOptions
from llmwh.errors import LlmwhError
from llmwh.warehouse.schema import apply_ddl
from llmwh.otlp.loader import load_otlp_files
from llmwh.otlp.mapping import OtlpError, format_double, json_rows
from test_ddl import EXPORTER_INSERTS

DB = 't_otlp'
TRACE_ID = '5B8EFFF798038103D269B633813FC60C'   # OTLP/JSON hex ids are case-insensitive
TRACE_HEX = '5b8efff798038103d269b633813fc60c'
ROOT_SPAN, LLM_SPAN = 'EEE19B7EC3C1B173', 'EEE19B7EC3C1B174'
SCHEMA_1_26, SCHEMA_1_27 = 'https://opentelemetry.io/schemas/1.26.0', 'https://opentelemetry.io/schemas/1.27.0'


def s(value):
    return {'stringValue': value}


def kv(key, value):
    return {'key': key, 'value': value}


# ------------------------------------------------------------------ traces

TRACES = {'resourceSpans': [
    {'resource': {'attributes': [
        kv('service.name', s('chat-api')), kv('service.version', s('1.4.2')),
        kv('deployment.environment.name', s('prod')), kv('host.cpu.count', {'intValue': '8'}),
        kv('telemetry.sdk.language', s('python'))]},
     'schemaUrl': SCHEMA_1_26,
     'scopeSpans': [{
         'scope': {'name': 'opentelemetry.instrumentation.openai_v2', 'version': '2.1b0'},
         'spans': [
             {'traceId': TRACE_ID, 'spanId': ROOT_SPAN, 'parentSpanId': '0000000000000000',
              'name': 'POST /v1/chat', 'kind': 'SPAN_KIND_SERVER',
              'startTimeUnixNano': '1718000000000000000', 'endTimeUnixNano': '1718000002500000000',
              'attributes': [kv('http.request.method', s('POST')),
                             kv('http.response.status_code', {'intValue': 429})],
              'status': {'code': 'STATUS_CODE_ERROR', 'message': 'upstream rate limited (429)'}},
             {'traceId': TRACE_ID, 'spanId': LLM_SPAN.lower(), 'parentSpanId': ROOT_SPAN,
              'traceState': 'congo=t61rcWkgMzE', 'name': 'chat gpt-4o', 'kind': 3, 'flags': 257,
              'startTimeUnixNano': '1718000000123456789', 'endTimeUnixNano': '1718000001975308642',
              'attributes': [
                  kv('gen_ai.operation.name', s('chat')),
                  kv('gen_ai.request.model', s('gpt-4o')),
                  kv('gen_ai.usage.input_tokens', {'intValue': '812'}),
                  kv('gen_ai.usage.output_tokens', {'intValue': 164}),
                  kv('gen_ai.request.seed', {'intValue': '-42'}),
                  kv('gen_ai.request.temperature', {'doubleValue': 0.7}),
                  kv('gen_ai.request.top_p', {'doubleValue': 1.0}),
                  kv('llm.cost.prompt_usd', {'doubleValue': 0.00203}),
                  kv('llm.cost.per_token_usd', {'doubleValue': 2.5e-7}),
                  kv('gen_ai.request.stream', {'boolValue': True}),
                  kv('gen_ai.response.finish_reasons', {'arrayValue': {'values': [s('stop')]}}),
                  kv('gen_ai.request.stop_sequences', {'arrayValue': {'values': [s('</answer>'), s('\n\nHuman:')]}}),
                  kv('gen_ai.tool.definitions', {'kvlistValue': {'values': [
                      kv('name', s('web_search')), kv('strict', {'boolValue': False}),
                      kv('max_results', {'intValue': '5'}), kv('score', {'doubleValue': 0.25}),
                      kv('tags', {'arrayValue': {'values': [s('web'), s('news & media')]}})]}}),
                  kv('gen_ai.prompt.sha', {'bytesValue': 'AAECAw=='}),
                  kv('gen_ai.response.id', {}),
              ],
              'events': [
                  {'timeUnixNano': '1718000000500000001', 'name': 'gen_ai.user.message',
                   'attributes': [kv('gen_ai.system', s('openai')), kv('content', s('What is OTLP?'))]},
                  {'timeUnixNano': '1718000001900000000', 'name': 'gen_ai.choice',
                   'attributes': [kv('index', {'intValue': '0'}), kv('finish_reason', s('stop'))]}],
              'links': [
                  {'traceId': '0AF7651916CD43DD8448EB211C80319C', 'spanId': 'B7AD6B7169203331',
                   'traceState': 'rojo=00f067aa0ba902b7', 'attributes': [kv('link.reason', s('retry_of'))]},
                  {'traceId': '00000000000000000000000000000000', 'spanId': '0000000000000000'}],
              'status': {'code': 1}},
         ]}]},
    # service.name that is not a string; protobuf's snake_case field names; zero ids; end before start.
    {'resource': {'attributes': [kv('service.name', {'intValue': '42'})]},
     'scope_spans': [{'scope': {}, 'spans': [
         {'trace_id': '00000000000000000000000000000000', 'span_id': '', 'name': 'clock skew',
          'start_time_unix_nano': '1718000002000000000', 'end_time_unix_nano': '1718000001000000000'}]}]},
]}

RESOURCE = {'deployment.environment.name': 'prod', 'host.cpu.count': '8', 'service.name': 'chat-api',
            'service.version': '1.4.2', 'telemetry.sdk.language': 'python'}
NO_EVENTS_OR_LINKS = {'Events.Timestamp': [], 'Events.Name': [], 'Events.Attributes': [],
                      'Links.TraceId': [], 'Links.SpanId': [], 'Links.TraceState': [], 'Links.Attributes': []}
EXPECTED_TRACES = [   # ordered by SpanName
    {'Timestamp': 1718000000000000000, 'TraceId': TRACE_HEX, 'SpanId': 'eee19b7ec3c1b173', 'ParentSpanId': '',
     'TraceState': '', 'SpanName': 'POST /v1/chat', 'SpanKind': 'Server', 'ServiceName': 'chat-api',
     'ResourceAttributes': RESOURCE, 'ScopeName': 'opentelemetry.instrumentation.openai_v2', 'ScopeVersion': '2.1b0',
     'SpanAttributes': {'http.request.method': 'POST', 'http.response.status_code': '429'},
     'Duration': 2_500_000_000, 'StatusCode': 'Error', 'StatusMessage': 'upstream rate limited (429)',
     **NO_EVENTS_OR_LINKS},
    {'Timestamp': 1718000000123456789, 'TraceId': TRACE_HEX, 'SpanId': 'eee19b7ec3c1b174',
     'ParentSpanId': 'eee19b7ec3c1b173', 'TraceState': 'congo=t61rcWkgMzE', 'SpanName': 'chat gpt-4o',
     'SpanKind': 'Client', 'ServiceName': 'chat-api', 'ResourceAttributes': RESOURCE,
     'ScopeName': 'opentelemetry.instrumentation.openai_v2', 'ScopeVersion': '2.1b0',
     'SpanAttributes': {
         'gen_ai.operation.name': 'chat',
         'gen_ai.prompt.sha': 'AAECAw==',
         'gen_ai.request.model': 'gpt-4o',
         'gen_ai.request.seed': '-42',
         'gen_ai.request.stop_sequences': '["</answer>","\\n\\nHuman:"]',
         'gen_ai.request.stream': 'true',
         'gen_ai.request.temperature': '0.7',
         'gen_ai.request.top_p': '1',
         'gen_ai.response.finish_reasons': '["stop"]',
         'gen_ai.response.id': '',
         'gen_ai.tool.definitions':
             '{"max_results":5,"name":"web_search","score":0.25,"strict":false,"tags":["web","news & media"]}',
         'gen_ai.usage.input_tokens': '812',
         'gen_ai.usage.output_tokens': '164',
         'llm.cost.per_token_usd': '2.5e-7',
         'llm.cost.prompt_usd': '0.00203',
     },
     'Duration': 1_851_851_853, 'StatusCode': 'Ok', 'StatusMessage': '',
     'Events.Timestamp': [1718000000500000001, 1718000001900000000],
     'Events.Name': ['gen_ai.user.message', 'gen_ai.choice'],
     'Events.Attributes': [{'content': 'What is OTLP?', 'gen_ai.system': 'openai'},
                           {'finish_reason': 'stop', 'index': '0'}],
     'Links.TraceId': ['0af7651916cd43dd8448eb211c80319c', ''], 'Links.SpanId': ['b7ad6b7169203331', ''],
     'Links.TraceState': ['rojo=00f067aa0ba902b7', ''], 'Links.Attributes': [{'link.reason': 'retry_of'}, {}]},
    {'Timestamp': 1718000002000000000, 'TraceId': '', 'SpanId': '', 'ParentSpanId': '', 'TraceState': '',
     'SpanName': 'clock skew', 'SpanKind': 'Unspecified', 'ServiceName': '42',
     'ResourceAttributes': {'service.name': '42'}, 'ScopeName': '', 'ScopeVersion': '', 'SpanAttributes': {},
     # end - start = -1s as a Go uint64: it wraps, as the exporter's does.
     'Duration': 2**64 - 1_000_000_000, 'StatusCode': 'Unset', 'StatusMessage': '', **NO_EVENTS_OR_LINKS},
]

# -------------------------------------------------------------------- logs

LOGS = {'resourceLogs': [{
    'resource': {'attributes': [kv('service.name', s('librechat')), kv('k8s.pod.name', s('librechat-7d9f'))]},
    'schemaUrl': SCHEMA_1_26,
    'scopeLogs': [{
        'scope': {'name': 'winston', 'version': '3.17.0', 'attributes': [kv('logger.format', s('json'))]},
        'schemaUrl': SCHEMA_1_27,
        'logRecords': [
            {'timeUnixNano': '1718000003000000007', 'observedTimeUnixNano': '1718000003500000000',
             'severityNumber': 9, 'severityText': 'info',
             'body': s('[spendTokens] conversationId: 5c7b0e2a | Token usage: '),
             'attributes': [kv('conversationId', s('5c7b0e2a')), kv('promptTokens', {'intValue': '320'}),
                            kv('cost', {'doubleValue': 0.00123})],
             'flags': 1, 'traceId': TRACE_ID, 'spanId': LLM_SPAN},
            # No time: the observed time is used. A map body becomes JSON text.
            {'observedTimeUnixNano': '1718000004000000000', 'severityNumber': 'SEVERITY_NUMBER_WARN',
             'severityText': 'WARN', 'eventName': 'gen_ai.choice', 'flags': 257,
             'body': {'kvlistValue': {'values': [
                 kv('role', s('assistant')), kv('content', s('Use <b>&amp;</b>')), kv('tokens', {'intValue': '42'}),
                 kv('tool_calls', {'arrayValue': {'values': [{'kvlistValue': {'values': [
                     kv('id', s('call_1')), kv('args', s('{"q":"otel"}'))]}}]}})]}}},
            {'timeUnixNano': '1718000005000000000', 'traceId': '00000000000000000000000000000000',
             'body': {'arrayValue': {'values': [{'intValue': '1'}, {'doubleValue': 2.5}, s('x'),
                                                {'boolValue': True}, {}]}}},
        ]}]}]}

LOG_HEAD = {'ServiceName': 'librechat', 'ResourceSchemaUrl': SCHEMA_1_26,
            'ResourceAttributes': {'k8s.pod.name': 'librechat-7d9f', 'service.name': 'librechat'},
            'ScopeSchemaUrl': SCHEMA_1_27, 'ScopeName': 'winston', 'ScopeVersion': '3.17.0',
            'ScopeAttributes': {'logger.format': 'json'}}
EXPECTED_LOGS = [   # ordered by Timestamp
    {'Timestamp': 1718000003000000007, 'TraceId': TRACE_HEX, 'SpanId': 'eee19b7ec3c1b174', 'TraceFlags': 1,
     'SeverityText': 'info', 'SeverityNumber': 9, **LOG_HEAD,
     'Body': '[spendTokens] conversationId: 5c7b0e2a | Token usage: ',
     'LogAttributes': {'conversationId': '5c7b0e2a', 'cost': '0.00123', 'promptTokens': '320'}, 'EventName': ''},
    {'Timestamp': 1718000004000000000, 'TraceId': '', 'SpanId': '', 'TraceFlags': 1, 'SeverityText': 'WARN',
     'SeverityNumber': 13, **LOG_HEAD,
     'Body': r'{"content":"Use <b>&amp;</b>","role":"assistant","tokens":42,'
             r'"tool_calls":[{"args":"{\"q\":\"otel\"}","id":"call_1"}]}',
     'LogAttributes': {}, 'EventName': 'gen_ai.choice'},
    {'Timestamp': 1718000005000000000, 'TraceId': '', 'SpanId': '', 'TraceFlags': 0, 'SeverityText': '',
     'SeverityNumber': 0, **LOG_HEAD, 'Body': '[1,2.5,"x",true,null]', 'LogAttributes': {}, 'EventName': ''},
]

# ----------------------------------------------------------------- metrics

METRICS = {'resourceMetrics': [{
    'resource': {'attributes': [kv('service.name', s('chat-api'))]},
    'schemaUrl': SCHEMA_1_26,
    'scopeMetrics': [{
        'scope': {'name': 'opentelemetry.instrumentation.genai', 'version': '0.1',
                  'attributes': [kv('meter.kind', s('sync'))], 'droppedAttributesCount': 2},
        'schemaUrl': SCHEMA_1_27,
        'metrics': [
            {'name': 'gen_ai.server.active_requests', 'description': 'Requests in flight', 'unit': '{request}',
             'gauge': {'dataPoints': [
                 {'attributes': [kv('gen_ai.request.model', s('gpt-4o'))],
                  'startTimeUnixNano': '0', 'timeUnixNano': '1718000005999999999', 'asInt': '3',
                  'exemplars': [
                      {'filteredAttributes': [kv('user.id', s('user-ana'))], 'timeUnixNano': '1718000005500000000',
                       'asDouble': 2.5, 'traceId': TRACE_ID, 'spanId': LLM_SPAN},
                      {'timeUnixNano': '1718000005600000000', 'asInt': '4'}]},
                 {'timeUnixNano': '1718000006000000000', 'asDouble': 0.5, 'flags': 1}]}},
            {'name': 'gen_ai.client.token.usage.total', 'unit': '{token}',
             'sum': {'aggregationTemporality': 'AGGREGATION_TEMPORALITY_CUMULATIVE', 'isMonotonic': True,
                     'dataPoints': [{'startTimeUnixNano': '1717999000000000000', 'timeUnixNano': '1718000007000000000',
                                     'asInt': '1024', 'attributes': [kv('gen_ai.token.type', s('input'))]}]}},
            {'name': 'llm.budget.remaining_usd', 'unit': 'USD',
             'sum': {'aggregationTemporality': 1,
                     'dataPoints': [{'timeUnixNano': '1718000007000000000', 'asDouble': -3.5}]}},
            {'name': 'gen_ai.client.operation.duration', 'description': 'GenAI operation duration', 'unit': 's',
             'histogram': {'aggregationTemporality': 1, 'dataPoints': [
                 {'attributes': [kv('gen_ai.operation.name', s('chat'))],
                  'startTimeUnixNano': '1718000000000000000', 'timeUnixNano': '1718000060000000000',
                  'count': '3', 'sum': 4.2, 'bucketCounts': ['0', '1', '2', '0'], 'explicitBounds': [0.5, 1, 5],
                  'min': 0.9, 'max': 2.1,
                  'exemplars': [{'timeUnixNano': '1718000030000000000', 'asDouble': 2.1,
                                 'traceId': TRACE_ID, 'spanId': LLM_SPAN}]},
                 {'startTimeUnixNano': '1718000060000000000', 'timeUnixNano': '1718000120000000000',
                  'count': '0', 'flags': 1}]}},
            {'name': 'gen_ai.client.token.usage', 'unit': '{token}',
             'exponentialHistogram': {'aggregationTemporality': 2, 'dataPoints': [
                 {'timeUnixNano': '1718000060000000000', 'count': '5', 'sum': 1532, 'scale': 2, 'zeroCount': '1',
                  'positive': {'offset': 20, 'bucketCounts': ['1', '0', '2']},
                  'negative': {'offset': -3, 'bucketCounts': ['1']}, 'min': 0, 'max': 812,
                  'attributes': [kv('gen_ai.token.type', s('output'))]},
                 {'timeUnixNano': '1718000120000000000', 'count': '0', 'scale': -1}]}},
            {'name': 'gen_ai.server.time_to_first_token', 'unit': 's',
             'summary': {'dataPoints': [
                 {'startTimeUnixNano': '1718000000000000000', 'timeUnixNano': '1718000060500000000',
                  'count': '3', 'sum': 1.5, 'flags': 1,
                  'quantileValues': [{'quantile': 0.5, 'value': 0.4}, {'quantile': 0.99, 'value': 0.9}]}]}},
        ]}]}]}

METRIC_HEAD = {'ResourceAttributes': {'service.name': 'chat-api'}, 'ResourceSchemaUrl': SCHEMA_1_26,
               'ScopeName': 'opentelemetry.instrumentation.genai', 'ScopeVersion': '0.1',
               'ScopeAttributes': {'meter.kind': 'sync'}, 'ScopeDroppedAttrCount': 2, 'ScopeSchemaUrl': SCHEMA_1_27,
               'ServiceName': 'chat-api'}
NO_EXEMPLARS = {'Exemplars.FilteredAttributes': [], 'Exemplars.TimeUnix': [], 'Exemplars.Value': [],
                'Exemplars.SpanId': [], 'Exemplars.TraceId': []}
ONE_EXEMPLAR = {'Exemplars.FilteredAttributes': [{}], 'Exemplars.TimeUnix': [1718000030], 'Exemplars.Value': [2.1],
                'Exemplars.SpanId': ['eee19b7ec3c1b174'], 'Exemplars.TraceId': [TRACE_HEX]}
EXPECTED_METRICS = {   # ordered by MetricName, TimeUnix; DateTime columns in seconds
    'otel_metrics_gauge': [
        {**METRIC_HEAD, 'MetricName': 'gen_ai.server.active_requests', 'MetricDescription': 'Requests in flight',
         'MetricUnit': '{request}', 'Attributes': {'gen_ai.request.model': 'gpt-4o'},
         'StartTimeUnix': 0, 'TimeUnix': 1718000005, 'Value': 3.0, 'Flags': 0,
         'Exemplars.FilteredAttributes': [{'user.id': 'user-ana'}, {}],
         'Exemplars.TimeUnix': [1718000005, 1718000005], 'Exemplars.Value': [2.5, 4.0],
         # Exemplar ids keep their zeros.
         'Exemplars.SpanId': ['eee19b7ec3c1b174', '0000000000000000'],
         'Exemplars.TraceId': [TRACE_HEX, '00000000000000000000000000000000']},
        {**METRIC_HEAD, 'MetricName': 'gen_ai.server.active_requests', 'MetricDescription': 'Requests in flight',
         'MetricUnit': '{request}', 'Attributes': {}, 'StartTimeUnix': 0, 'TimeUnix': 1718000006,
         'Value': 0.5, 'Flags': 1, **NO_EXEMPLARS},
    ],
    'otel_metrics_sum': [
        {**METRIC_HEAD, 'MetricName': 'gen_ai.client.token.usage.total', 'MetricDescription': '',
         'MetricUnit': '{token}', 'Attributes': {'gen_ai.token.type': 'input'}, 'StartTimeUnix': 1717999000,
         'TimeUnix': 1718000007, 'Value': 1024.0, 'Flags': 0, **NO_EXEMPLARS,
         'AggregationTemporality': 2, 'IsMonotonic': True},
        {**METRIC_HEAD, 'MetricName': 'llm.budget.remaining_usd', 'MetricDescription': '', 'MetricUnit': 'USD',
         'Attributes': {}, 'StartTimeUnix': 0, 'TimeUnix': 1718000007, 'Value': -3.5, 'Flags': 0, **NO_EXEMPLARS,
         'AggregationTemporality': 1, 'IsMonotonic': False},
    ],
    'otel_metrics_histogram': [
        {**METRIC_HEAD, 'MetricName': 'gen_ai.client.operation.duration',
         'MetricDescription': 'GenAI operation duration', 'MetricUnit': 's',
         'Attributes': {'gen_ai.operation.name': 'chat'}, 'StartTimeUnix': 1718000000, 'TimeUnix': 1718000060,
         'Count': 3, 'Sum': 4.2, 'BucketCounts': [0, 1, 2, 0], 'ExplicitBounds': [0.5, 1.0, 5.0], **ONE_EXEMPLAR,
         'Flags': 0, 'Min': 0.9, 'Max': 2.1, 'AggregationTemporality': 1},
        # No sum/min/max: 0, as the exporter writes them.
        {**METRIC_HEAD, 'MetricName': 'gen_ai.client.operation.duration',
         'MetricDescription': 'GenAI operation duration', 'MetricUnit': 's', 'Attributes': {},
         'StartTimeUnix': 1718000060, 'TimeUnix': 1718000120, 'Count': 0, 'Sum': 0.0, 'BucketCounts': [],
         'ExplicitBounds': [], **NO_EXEMPLARS, 'Flags': 1, 'Min': 0.0, 'Max': 0.0, 'AggregationTemporality': 1},
    ],
    'otel_metrics_exponential_histogram': [
        {**METRIC_HEAD, 'MetricName': 'gen_ai.client.token.usage', 'MetricDescription': '', 'MetricUnit': '{token}',
         'Attributes': {'gen_ai.token.type': 'output'}, 'StartTimeUnix': 0, 'TimeUnix': 1718000060,
         'Count': 5, 'Sum': 1532.0, 'Scale': 2, 'ZeroCount': 1, 'PositiveOffset': 20,
         'PositiveBucketCounts': [1, 0, 2], 'NegativeOffset': -3, 'NegativeBucketCounts': [1], **NO_EXEMPLARS,
         'Flags': 0, 'Min': 0.0, 'Max': 812.0, 'AggregationTemporality': 2},
        {**METRIC_HEAD, 'MetricName': 'gen_ai.client.token.usage', 'MetricDescription': '', 'MetricUnit': '{token}',
         'Attributes': {}, 'StartTimeUnix': 0, 'TimeUnix': 1718000120, 'Count': 0, 'Sum': 0.0, 'Scale': -1,
         'ZeroCount': 0, 'PositiveOffset': 0, 'PositiveBucketCounts': [], 'NegativeOffset': 0,
         'NegativeBucketCounts': [], **NO_EXEMPLARS, 'Flags': 0, 'Min': 0.0, 'Max': 0.0,
         'AggregationTemporality': 2},
    ],
    'otel_metrics_summary': [
        {**METRIC_HEAD, 'MetricName': 'gen_ai.server.time_to_first_token', 'MetricDescription': '',
         'MetricUnit': 's', 'Attributes': {}, 'StartTimeUnix': 1718000000, 'TimeUnix': 1718000060,
         'Count': 3, 'Sum': 1.5, 'ValueAtQuantiles.Quantile': [0.5, 0.99], 'ValueAtQuantiles.Value': [0.4, 0.9],
         'Flags': 1},
    ],
}
ORDER = {'otel_traces': 'SpanName', 'otel_logs': 'Timestamp'}
TABLES = ['otel_traces', 'otel_logs', *EXPECTED_METRICS]


# ----------------------------------------------------------------- helpers

@pytest.fixture(scope='module')
def db(wh):
    # No TTL: the fixtures are from 2024.
    apply_ddl(wh, DdlOptions(database=DB, retention={'default': 0}))
    return DB


@pytest.fixture
def empty(wh, db):
    for (name,) in wh.rows("select name from system.tables where database = {d:String} "
                           "and engine like '%MergeTree'", {'d': db}):
        wh.command(f'truncate table {db}.`{name}`')
    return db


def write_jsonl(path, *requests):
    path.write_text(''.join(json.dumps(r) + '\n' for r in requests))
    return path


def load(wh, *paths, **kwargs):
    out = []
    kwargs.setdefault('jobs', 1)
    summary = load_otlp_files(wh, DB, [str(p) for p in paths], echo=lambda m='', **_: out.append(m), **kwargs)
    return summary, '\n'.join(out)


def stored(wh, table):
    """Rows as stored, in the exporter's column order; times as integers (ns or s)."""
    exprs = []
    for c in EXPORTER_INSERTS[table]:
        q = f'`{c}`'
        if c == 'Timestamp':
            q = f'toUnixTimestamp64Nano({q})'
        elif c == 'Events.Timestamp':
            q = f'arrayMap(t -> toUnixTimestamp64Nano(t), {q})'
        elif c in ('StartTimeUnix', 'TimeUnix'):
            q = f'toUnixTimestamp({q})'
        elif c == 'Exemplars.TimeUnix':
            q = f'arrayMap(t -> toUnixTimestamp(t), {q})'
        exprs.append(q)
    order = ORDER.get(table, 'MetricName, TimeUnix')
    return [dict(zip(EXPORTER_INSERTS[table], r))
            for r in wh.rows(f'select {", ".join(exprs)} from {DB}.{table} order by {order}')]


def ordered(value):
    """Maps as lists of pairs, so comparisons also check the key order."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def assert_rows(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert sorted(g) == sorted(e)      # every exporter column
        for column in e:
            assert ordered(g[column]) == ordered(e[column]), column


def counts(wh):
    return {t: wh.rows(f'select count() from {DB}.{t}')[0][0] for t in TABLES}


def loaded_files(wh):
    return wh.rows(f'select file, rows, bad_lines from {DB}.llmwh_loaded_files order by loaded_at')


# ------------------------------------------------------- exporter identity

def test_expected_rows_cover_every_exporter_column():
    for table in ('otel_traces', 'otel_logs', *EXPECTED_METRICS):
        expected = {'otel_traces': EXPECTED_TRACES, 'otel_logs': EXPECTED_LOGS}.get(table) or EXPECTED_METRICS[table]
        for row in expected:
            assert sorted(row) == sorted(EXPORTER_INSERTS[table]), table


def test_inserts_name_the_exporters_columns(wh, db):
    loader = otlp_loader.OtlpLoader(wh, db)
    assert {t: loader.columns[t] for t in EXPORTER_INSERTS} == EXPORTER_INSERTS


def test_traces_are_stored_as_the_exporter_writes_them(wh, empty, tmp_path):
    summary, out = load(wh, write_jsonl(tmp_path / 'traces.jsonl', TRACES))
    assert summary.rows == {'otel_traces': 3}
    assert_rows(stored(wh, 'otel_traces'), EXPECTED_TRACES)
    # The exporter's trace-id lookup view saw the insert too (non-empty trace ids only).
    assert wh.rows(f'select TraceId from {DB}.otel_traces_trace_id_ts') == [(TRACE_HEX,)]


def test_logs_are_stored_as_the_exporter_writes_them(wh, empty, tmp_path):
    summary, _ = load(wh, write_jsonl(tmp_path / 'logs.jsonl', LOGS))
    assert summary.rows == {'otel_logs': 3}
    assert_rows(stored(wh, 'otel_logs'), EXPECTED_LOGS)
    # MATERIALIZED columns of the DDL fill from the inserted resource attributes.
    assert wh.rows(f'select distinct `__otel_materialized_k8s.pod.name` from {DB}.otel_logs') == [('librechat-7d9f',)]


def test_all_five_metric_kinds_are_stored_as_the_exporter_writes_them(wh, empty, tmp_path):
    summary, _ = load(wh, write_jsonl(tmp_path / 'metrics.jsonl', METRICS))
    assert summary.rows == {t: len(rows) for t, rows in EXPECTED_METRICS.items()}
    for table, expected in EXPECTED_METRICS.items():
        assert_rows(stored(wh, table), expected)


def test_one_file_may_mix_signals(wh, empty, tmp_path):
    summary, out = load(wh, write_jsonl(tmp_path / 'mixed.jsonl', METRICS, TRACES, LOGS))
    assert counts(wh) == {'otel_traces': 3, 'otel_logs': 3, **{t: len(r) for t, r in EXPECTED_METRICS.items()}}
    assert 'mixed.jsonl: 15 rows' in out and 'otel_traces 3' in out
    assert '15 rows' in out.splitlines()[-len(TABLES) - 1]


# ------------------------------------------------------------ hex ids

def test_hex_ids_are_not_read_as_base64():
    row = json_rows(json.loads(json.dumps(TRACES)))['otel_traces'][1]
    assert (row['TraceId'], row['SpanId'], row['ParentSpanId']) == (TRACE_HEX, 'eee19b7ec3c1b174', 'eee19b7ec3c1b173')
    assert row['Links.TraceId'] == ['0af7651916cd43dd8448eb211c80319c', '']


@pytest.mark.parametrize('bad_id, why', [
    ('W4/3l4A4gQPSabYzgT/GDA==', 'base64, as protobuf JSON would write it'),
    ('5b8efff798038103d269b633813fc60', 'one digit short'),
    ('5b8efff798038103d269b633813fc60g', 'not hex'),
])
def test_malformed_ids_are_rejected(bad_id, why):
    request = {'resourceLogs': [{'scopeLogs': [{'logRecords': [{'traceId': bad_id}]}]}]}
    with pytest.raises(OtlpError, match=r'resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.traceId '
                                        r'must be 32 hex digits'):
        json_rows(request)


def test_unknown_fields_are_ignored_but_unknown_enum_names_rejected():
    span = {'name': 'x', 'kind': 3, 'someFutureField': {'a': 1}}
    rows = json_rows({'resourceSpans': [{'scopeSpans': [{'spans': [span]}]}], 'futureTopLevel': 1})
    assert rows['otel_traces'][0]['SpanKind'] == 'Client'
    with pytest.raises(OtlpError, match='Invalid enum value BOGUS'):
        json_rows({'resourceSpans': [{'scopeSpans': [{'spans': [{'kind': 'BOGUS'}]}]}]})
    # pdata's SpanKind.String() of a number it does not know is ''.
    assert json_rows({'resourceSpans': [{'scopeSpans': [{'spans': [{'kind': 9}]}]}]})['otel_traces'][0]['SpanKind'] == ''


def test_a_metric_without_data_is_rejected_like_the_exporter_does():
    request = {'resourceMetrics': [{'scopeMetrics': [{'metrics': [{'name': 'tokens', 'unit': '1'}]}]}]}
    with pytest.raises(OtlpError, match=r"metrics\[0\] \('tokens'\) has no data"):
        json_rows(request)


# ------------------------------------------------------ stringification

# Go: strconv/encoding-json (ES6) number format, as pdata's float64AsString prints doubles.
GO_DOUBLES = [
    (0.5, '0.5'), (100.0, '100'), (-3.25, '-3.25'), (0.0, '0'), (-0.0, '-0'), (0.1 + 0.2, '0.30000000000000004'),
    (1e20, '100000000000000000000'), (123456789.123, '123456789.123'), (1e-6, '0.000001'),
    (0.000001234, '0.000001234'), (9.999999999999999e20, '999999999999999900000'),
    (1e21, '1e+21'), (1.5e-7, '1.5e-7'), (1e-7, '1e-7'), (5e-324, '5e-324'),
    (1.7976931348623157e308, '1.7976931348623157e+308'), (2.5e-10, '2.5e-10'),
    (float('nan'), 'json: unsupported value: NaN'), (float('inf'), 'json: unsupported value: +Inf'),
    (float('-inf'), 'json: unsupported value: -Inf'),
]


@pytest.mark.parametrize('value, text', GO_DOUBLES)
def test_doubles_print_as_pdata_prints_them(value, text):
    assert format_double(value) == text


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=500, deadline=None)
@given(finite)
def test_double_strings_round_trip_and_use_exponents_only_outside_1e_6_to_1e21(value):
    text = format_double(value)
    assert float(text) == value and math.copysign(1, float(text)) == math.copysign(1, value)
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        assert re.fullmatch(r'-?\d+(\.\d*[1-9])?', text), text
    else:
        assert re.fullmatch(r'-?[1-9](\.\d*[1-9])?e[-+][1-9]\d*', text), text


def to_any_value(value):
    """The OTLP/JSON AnyValue of a Python value."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {'boolValue': value}
    if isinstance(value, int):
        return {'intValue': str(value)}
    if isinstance(value, float):
        return {'doubleValue': value}
    if isinstance(value, str):
        return {'stringValue': value}
    if isinstance(value, dict):
        return {'kvlistValue': {'values': [kv(k, to_any_value(v)) for k, v in value.items()]}}
    return {'arrayValue': {'values': [to_any_value(v) for v in value]}}


def same(parsed, value):
    """JSON read back equals the value; an integral double may read back as an int ("100")."""
    if isinstance(value, float):
        return type(parsed) in (int, float) and float(parsed) == value
    if isinstance(value, dict):
        return isinstance(parsed, dict) and parsed.keys() == value.keys() and all(
            same(parsed[k], v) for k, v in value.items())
    if isinstance(value, list):
        return isinstance(parsed, list) and len(parsed) == len(value) and all(map(same, parsed, value))
    return type(parsed) is type(value) and parsed == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | finite | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_map_attributes_are_sorted_json_that_reads_back_to_the_value(value):
    request = {'resourceLogs': [{'scopeLogs': [{'logRecords': [{'body': to_any_value(value)}]}]}]}
    body = json_rows(request)['otel_logs'][0]['Body']
    assert same(json.loads(body), value), body

    def keys_sorted(v):
        if isinstance(v, dict):
            return list(v) == sorted(v) and all(keys_sorted(x) for x in v.values())
        return all(keys_sorted(x) for x in v) if isinstance(v, list) else True

    assert keys_sorted(json.loads(body, object_pairs_hook=dict))
    assert '\u2028' not in body and '\u2029' not in body   # Go escapes them even without HTML escaping


# ---------------------------------------------------------- idempotency

def test_reloading_a_file_loads_nothing_twice(wh, empty, tmp_path):
    path = write_jsonl(tmp_path / 'traces.jsonl', TRACES, LOGS)
    load(wh, path)
    before = counts(wh)
    summary, out = load(wh, path)
    assert summary.loaded == 0 and summary.skipped == 1 and not summary.rows
    assert 'already loaded' in out and '--force' in out
    assert counts(wh) == before
    assert len(loaded_files(wh)) == 1


def test_the_same_content_gzipped_or_under_another_name_is_already_loaded(wh, empty, tmp_path):
    path = write_jsonl(tmp_path / 'a.jsonl', LOGS)
    copy = tmp_path / 'b.jsonl.gz'
    copy.write_bytes(gzip.compress(path.read_bytes()))
    summary, out = load(wh, path, copy)
    assert (summary.loaded, summary.skipped) == (1, 1)
    assert f'same content as {path}' in out
    assert counts(wh)['otel_logs'] == 3


def test_empty_files_load_nothing_and_are_not_the_same_file(wh, empty, tmp_path):
    (tmp_path / 'a.jsonl').write_text('')
    (tmp_path / 'b.jsonl.gz').write_bytes(gzip.compress(b''))
    summary, out = load(wh, tmp_path / 'a.jsonl', tmp_path / 'b.jsonl.gz')
    assert (summary.loaded, summary.skipped) == (0, 0) and out.count('empty; nothing to load') == 2
    assert loaded_files(wh) == []


def test_force_loads_again(wh, empty, tmp_path):
    path = write_jsonl(tmp_path / 'logs.jsonl', LOGS)
    load(wh, path)
    summary, _ = load(wh, path, force=True)
    assert summary.loaded == 1 and summary.rows == {'otel_logs': 3}
    assert counts(wh)['otel_logs'] == 6
    assert [r[1] for r in loaded_files(wh)] == [{'otel_logs': 3}, {'otel_logs': 3}]


# ---------------------------------------------------------------- bad input

def test_a_bad_line_names_file_and_line_and_loads_nothing_of_the_file(wh, empty, tmp_path, monkeypatch):
    # One line per work unit: the good lines are converted before the bad one is seen.
    monkeypatch.setattr(otlp_files, 'CHUNK_BYTES', 1)
    good = write_jsonl(tmp_path / 'good.jsonl', METRICS)
    path = tmp_path / 'bad.jsonl'
    path.write_text(json.dumps(TRACES) + '\n\n' + json.dumps(LOGS) + '\n{"resourceLogs": [\n' + json.dumps(LOGS) + '\n')
    with pytest.raises(LlmwhError) as err:
        load(wh, good, path)
    message = str(err.value)
    assert f'{path} line 4: invalid JSON' in message and 'nothing from this file was loaded' in message
    assert '\n' not in message
    # The file before it is loaded and recorded; nothing of the bad file is.
    assert counts(wh) == {'otel_traces': 0, 'otel_logs': 0, **{t: len(r) for t, r in EXPECTED_METRICS.items()}}
    assert [r[0] for r in loaded_files(wh)] == [str(good)]


@pytest.mark.parametrize('second', ['good', 'bad'])
def test_a_failed_insert_stops_the_load_before_the_next_file_goes_in(wh, empty, tmp_path, monkeypatch, second):
    # The next file parses while a file's rows go in: its rows wait for that insert, and the
    # insert's error (the earlier one) is the one raised, even when the next file is bad itself.
    first = write_jsonl(tmp_path / 'first.jsonl', LOGS)
    after = write_jsonl(tmp_path / 'after.jsonl', METRICS)
    if second == 'bad':
        after.write_text(after.read_text() + '{"resourceLogs": [\n')
    insert_table = otlp_loader.OtlpLoader._insert_table

    def failing(self, table, spool, into=None):
        if table == 'otel_logs':
            raise LlmwhError('insert into otel_logs failed: disk full')
        return insert_table(self, table, spool, into)
    monkeypatch.setattr(otlp_loader.OtlpLoader, '_insert_table', failing)
    with pytest.raises(LlmwhError, match='disk full'):
        load(wh, first, after)
    assert set(counts(wh).values()) == {0} and loaded_files(wh) == []


def test_files_parsed_ahead_of_a_failed_insert_do_not_go_in(wh, empty, tmp_path, monkeypatch):
    # Two files parse while the first one's (slow) insert runs; it fails: neither goes in after it,
    # and the files are reported in order up to the failure.
    first = write_jsonl(tmp_path / 'first.jsonl', LOGS)
    second = write_jsonl(tmp_path / 'second.jsonl', TRACES)
    third = write_jsonl(tmp_path / 'third.jsonl', METRICS)
    insert_table = otlp_loader.OtlpLoader._insert_table
    parsed = []
    parse_file = otlp_loader.OtlpLoader._parse_file

    def parse(self, path, sha256, size):
        parsed.append(path)
        return parse_file(self, path, sha256, size)

    def failing(self, table, spool, into=None):
        if table == 'otel_logs':
            time.sleep(1)   # long enough for the other two files to parse
            raise LlmwhError('insert into otel_logs failed: disk full')
        return insert_table(self, table, spool, into)
    monkeypatch.setattr(otlp_loader.OtlpLoader, '_parse_file', parse)
    monkeypatch.setattr(otlp_loader.OtlpLoader, '_insert_table', failing)
    with pytest.raises(LlmwhError, match='disk full'):
        load(wh, first, second, third)
    assert parsed == [str(first), str(second), str(third)]
    assert set(counts(wh).values()) == {0} and loaded_files(wh) == []


def test_files_parsed_ahead_are_reported_in_order(wh, empty, tmp_path):
    paths = [write_jsonl(tmp_path / 'a.jsonl', LOGS), write_jsonl(tmp_path / 'b.jsonl', LOGS),
             write_jsonl(tmp_path / 'c.jsonl', TRACES), write_jsonl(tmp_path / 'd.jsonl', METRICS)]
    (tmp_path / 'e.jsonl').write_text('')
    summary, out = load(wh, *paths, tmp_path / 'e.jsonl')
    assert (summary.loaded, summary.skipped) == (3, 1)
    named = [line.split(':')[0].strip() for line in out.splitlines() if line.startswith('  /')]
    assert named == [str(p) for p in paths] + [str(tmp_path / 'e.jsonl')]
    assert counts(wh) == {'otel_traces': len(EXPECTED_TRACES), 'otel_logs': len(EXPECTED_LOGS),
                          **{t: len(r) for t, r in EXPECTED_METRICS.items()}}


def _logs_at(offset_ns):
    """LOGS with every record's times moved by offset_ns."""
    request = copy.deepcopy(LOGS)
    for record in request['resourceLogs'][0]['scopeLogs'][0]['logRecords']:
        for key in ('timeUnixNano', 'observedTimeUnixNano'):
            if key in record:
                record[key] = str(int(record[key]) + offset_ns)
    return request


def _counted_inserts(monkeypatch):
    tables = []
    insert_table = otlp_loader.OtlpLoader._insert_table

    def counted(self, table, spool, into=None):
        tables.append(table)
        return insert_table(self, table, spool, into)
    monkeypatch.setattr(otlp_loader.OtlpLoader, '_insert_table', counted)
    return tables


def test_a_small_late_file_goes_in_with_the_file_before_it(wh, empty, tmp_path, monkeypatch):
    day = [_logs_at(minute * 60 * 10**9) for minute in range(1, 20)]
    late = [_logs_at(1)]   # rows at times the day's file has none of
    paths = write_jsonl(tmp_path / 'day.jsonl', *day), write_jsonl(tmp_path / 'late.jsonl', *late)
    assert paths[1].stat().st_size * otlp_loader.JOIN_RATIO <= paths[0].stat().st_size
    inserts = _counted_inserts(monkeypatch)
    summary, out = load(wh, *paths)
    assert inserts == ['otel_logs']   # one insert for both files
    assert (summary.loaded, summary.rows) == (2, {'otel_logs': 60}) and 'warning' not in out
    # Recorded together (the same loaded_at).
    assert sorted(loaded_files(wh)) == [(str(paths[0]), {'otel_logs': 57}, 0), (str(paths[1]), {'otel_logs': 3}, 0)]
    # The rows of the reference mapping, each once.
    expected = sorted((row for request in day + late for row in json_rows(copy.deepcopy(request))['otel_logs']),
                      key=lambda row: row['Timestamp'])
    assert_rows(stored(wh, 'otel_logs'), expected)


def test_a_small_file_sharing_rows_with_the_file_before_it_is_checked_on_its_own(wh, empty, tmp_path, monkeypatch):
    # A late file that repeats rows of the day's file (a resent batch) is not joined to it: its
    # rows are compared with the warehouse's after the day's file went in, as a separate load does.
    day = [_logs_at(minute * 60 * 10**9) for minute in range(0, 20)]
    paths = write_jsonl(tmp_path / 'day.jsonl', *day), write_jsonl(tmp_path / 'late.jsonl', LOGS)
    inserts = _counted_inserts(monkeypatch)
    summary, out = load(wh, *paths)
    assert inserts == ['otel_logs', 'otel_logs']
    assert '3 of 3 otel_logs rows were already in the warehouse' in out
    assert counts(wh)['otel_logs'] == 60
    assert loaded_files(wh) == [(str(paths[0]), {'otel_logs': 60}, 0), (str(paths[1]), {'otel_logs': 0}, 0)]


def test_no_query_runs_while_an_insert_does(wh, empty, tmp_path, monkeypatch):
    # A server's session takes one query at a time: the look-ups of later files wait for the
    # inserts in flight (here one look-up per file).
    monkeypatch.setattr(otlp_loader, 'LOOK_UP_BYTES', 1)
    paths = [write_jsonl(tmp_path / f'{i}.jsonl', _logs_at(i * 10**9)) for i in range(4)]
    running, overlaps = [0], []
    for name in ('rows', 'command', 'insert', 'insert_formatted'):
        def call(*args, _method=getattr(wh, name), **kwargs):
            running[0] += 1
            overlaps.append(running[0] > 1)
            try:
                return _method(*args, **kwargs)
            finally:
                running[0] -= 1
        monkeypatch.setattr(wh, name, call)
    summary, _ = load(wh, *paths)
    assert summary.loaded == 4 and counts(wh)['otel_logs'] == 12
    assert overlaps and not any(overlaps)


def test_invalid_otlp_in_valid_json_is_a_bad_line_too(wh, empty, tmp_path):
    bad = {'resourceSpans': [{'scopeSpans': [{'spans': [{'traceId': 'not-hex', 'name': 'x'}]}]}]}
    path = write_jsonl(tmp_path / 'bad.jsonl', LOGS, bad)
    with pytest.raises(LlmwhError, match=r'bad\.jsonl line 2: invalid OTLP: .*spans\[0\]\.traceId must be 32 hex'):
        load(wh, path)
    assert counts(wh)['otel_logs'] == 0 and loaded_files(wh) == []


def test_skip_bad_quarantines_bad_lines_and_loads_the_rest(wh, empty, tmp_path):
    broken = '{"resourceLogs": [ {"scopeLogs": '
    not_otlp = '{"hello": "world"}'
    path = tmp_path / 'mixed.jsonl'
    path.write_bytes((json.dumps(TRACES) + '\n' + broken + '\n' + json.dumps(LOGS) + '\n' + not_otlp + '\n').encode()
                     + b'{"resourceLogs": [], "note": "\xff"}\n')
    summary, out = load(wh, path, skip_bad=True)
    assert summary.rows == {'otel_traces': 3, 'otel_logs': 3} and summary.bad_lines == 3
    assert counts(wh)['otel_traces'] == 3 and counts(wh)['otel_logs'] == 3
    quarantined = wh.rows(f'select file, line, error, hex(raw) from {DB}.llmwh_quarantine order by line')
    assert [(f, line, bytes.fromhex(raw)) for f, line, _, raw in quarantined] == [
        (str(path), 2, broken.encode()), (str(path), 4, not_otlp.encode()),
        (str(path), 5, b'{"resourceLogs": [], "note": "\xff"}')]   # the bytes as read
    errors = [e for _, _, e, _ in quarantined]
    assert errors[0].startswith('invalid JSON') and 'no resourceSpans, resourceLogs or resourceMetrics' in errors[1]
    assert errors[2].startswith('not UTF-8 text')
    assert loaded_files(wh) == [(str(path), {'otel_traces': 3, 'otel_logs': 3}, 3)]
    assert '3 bad line(s) quarantined' in out
    # The file counts as loaded: a re-run neither reloads its good lines nor quarantines again.
    load(wh, path, skip_bad=True)
    assert counts(wh)['otel_logs'] == 3 and len(wh.rows(f'select 1 from {DB}.llmwh_quarantine')) == 3


def test_a_corrupt_gzip_file_is_a_clear_error(wh, empty, tmp_path):
    path = tmp_path / 'cut.jsonl.gz'
    path.write_bytes(gzip.compress((json.dumps(LOGS) + '\n').encode() * 50)[:-30])
    with pytest.raises(LlmwhError, match=r'cut\.jsonl\.gz: cannot read the file'):
        load(wh, path, skip_bad=True)
    assert loaded_files(wh) == []


def test_a_logs_table_without_event_name_still_loads(wh, tmp_path):
    # Tables created for older exporters have no EventName; like the exporter, it is not sent.
    apply_ddl(wh, DdlOptions(database='t_otlp_old_logs', retention={'default': 0}))
    wh.command('alter table t_otlp_old_logs.otel_logs drop column EventName')
    load_otlp_files(wh, 't_otlp_old_logs', [str(write_jsonl(tmp_path / 'logs.jsonl', LOGS))], jobs=1)
    got = wh.rows('select toUnixTimestamp64Nano(Timestamp), Body, LogAttributes '
                  'from t_otlp_old_logs.otel_logs order by Timestamp')
    assert got == [(r['Timestamp'], r['Body'], r['LogAttributes']) for r in EXPECTED_LOGS]


def test_loading_rows_older_than_the_retention_warns(wh, tmp_path):
    apply_ddl(wh, DdlOptions(database='t_otlp_ttl', retention={'default': 30, 'otel_logs': 0}))
    out = []
    load_otlp_files(wh, 't_otlp_ttl', [str(write_jsonl(tmp_path / 'old.jsonl', TRACES, LOGS))], jobs=1,
                    echo=lambda m='', **_: out.append(m))
    warnings = [line for line in out if 'warning' in line]
    assert len(warnings) == 1, out      # otel_logs has no TTL here
    assert 'otel_traces rows go back to 2024-06-10, past the table\'s 30-day retention' in warnings[0]
    assert 'llmwh init --no-ttl' in warnings[0]


def test_missing_file_is_a_clear_error(wh, db, tmp_path):
    with pytest.raises(LlmwhError, match='no such file: .*nope.jsonl'):
        load(wh, tmp_path / 'nope.jsonl')


# ------------------------------------------------------------ input forms

def test_gzip_and_pretty_printed_documents_load(wh, empty, tmp_path):
    gz = tmp_path / 'traces.jsonl.gz'
    gz.write_bytes(gzip.compress((json.dumps(TRACES) + '\n').encode()))
    pretty = tmp_path / 'metrics.json'
    pretty.write_text('\n' + json.dumps(METRICS, indent=2) + '\n')
    summary, _ = load(wh, gz, pretty)
    assert summary.loaded == 2
    assert_rows(stored(wh, 'otel_traces'), EXPECTED_TRACES)
    for table, expected in EXPECTED_METRICS.items():
        assert_rows(stored(wh, table), expected)


def test_a_broken_pretty_printed_document_names_its_line(wh, empty, tmp_path):
    text = json.dumps(LOGS, indent=2).splitlines()
    broken = text[:10] + ['      "oops": ,'] + text[10:]
    path = tmp_path / 'logs.json'
    path.write_text('\n'.join(broken) + '\n')
    # The line of the error in the document, not the line the document starts on.
    with pytest.raises(LlmwhError, match=r'logs\.json line 11: invalid JSON: .* \(column 7\)'):
        load(wh, path)


def test_parsing_in_worker_processes_gives_the_same_rows(wh, empty, tmp_path, monkeypatch):
    monkeypatch.setattr(otlp_loader, 'POOL_MIN_BYTES', 0)
    monkeypatch.setattr(otlp_files, 'CHUNK_BYTES', 1)
    path = write_jsonl(tmp_path / 'all.jsonl', TRACES, LOGS, METRICS, TRACES)
    started = []
    start_pool = otlp_loader.OtlpLoader._start_pool
    monkeypatch.setattr(otlp_loader.OtlpLoader, '_start_pool',
                        lambda self: (start_pool(self), started.append(self.pool is not None)))
    summary, _ = load(wh, path, jobs=2)
    assert started and all(started)   # the workers did run
    assert summary.rows['otel_traces'] == 6
    assert_rows(stored(wh, 'otel_traces'), [row for row in EXPECTED_TRACES for _ in range(2)])
    assert_rows(stored(wh, 'otel_logs'), EXPECTED_LOGS)
    for table, expected in EXPECTED_METRICS.items():
        assert_rows(stored(wh, table), expected)


# ---------------------------------------------------------------------- CLI

def test_cli_loads_skips_and_reports_bad_lines_on_one_line(tmp_path, profiles_dir):
    warehouse = tmp_path / 'wh'
    args = ['--path', str(warehouse), '--profiles-dir', str(profiles_dir)]
    llmwh('init', '--no-ttl', *args, check=True)   # the fixtures are from 2024
    good = write_jsonl(tmp_path / 'good.jsonl', TRACES)
    bad = tmp_path / 'bad.jsonl'
    bad.write_text(json.dumps(LOGS) + '\n{"resourceLogs": oops}\n')

    out = llmwh('load', 'otlp', str(good), *args, check=True).stdout
    assert 'good.jsonl: 3 rows (otel_traces 3)' in out and 'rows/s' in out

    proc = llmwh('load', 'otlp', str(good), str(bad), *args)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.startswith('llmwh: error: ') and len(proc.stderr.strip().splitlines()) == 1
    assert f'{bad} line 2: invalid JSON' in proc.stderr
    assert 'good.jsonl: already loaded' in proc.stdout

    out = llmwh('load', 'otlp', str(bad), '--skip-bad', *args, check=True).stdout
    assert '1 bad line(s) quarantined in otel.llmwh_quarantine' in out
    rows = llmwh('sql', '-f', 'tsv', "select (select count() from otel.otel_traces), (select count() from "
                 "otel.otel_logs), (select groupArray(line) from otel.llmwh_quarantine)", *args, check=True).stdout
    assert rows.splitlines()[1] == '3\t3\t[2]'
