"""ClickStack/HyperDX files: they parse, every column they name exists in the
tables `llmwh init` creates, the sources correlate, and the collector configs
keep the exporter off schema creation and parse LibreChat's logs."""

import json
import re
from pathlib import Path

import pytest
import yaml

from llmwh.config import otel_database
from llmwh.warehouse.ddl import DdlOptions
from llmwh.warehouse.schema import apply_ddl

ROOT = Path(__file__).resolve().parents[1]
CLICKSTACK = ROOT / 'dashboards' / 'clickstack'
DB = 't_clickstack'
KINDS = {'log', 'trace', 'metric', 'session'}
# Identifiers in source expressions that are functions, keywords or literals, not columns.
NOT_COLUMNS = {'round'}


def sources():
    return json.loads((CLICKSTACK / 'sources.json').read_text())


def by_name():
    return {s['name']: s for s in sources()}


def expressions(source: dict) -> dict:
    """field -> SQL expression (a select list for defaultTableSelectExpression)."""
    out = {k: v for k, v in source.items() if k.endswith('Expression') and isinstance(v, str) and v}
    for key in ('highlightedRowAttributeExpressions', 'highlightedTraceAttributeExpressions'):
        for i, item in enumerate(source.get(key, [])):
            out[f'{key}[{i}]'] = item['sqlExpression']
    return out


def tables_of(source: dict) -> list:
    if source['kind'] == 'metric':
        return list(source['metricTables'].values())
    return [source['from']['tableName']]


@pytest.fixture(scope='module')
def columns(wh):
    """table -> column names, from the project's DDL applied to a database of its own."""
    apply_ddl(wh, DdlOptions(database=DB))
    rows = wh.rows(f"select table, name from system.columns where database = '{DB}'")
    out = {}
    for table, name in rows:
        # a Nested column (Events) is named by its prefix as well as by its sub-columns
        out.setdefault(table, set()).update({name, name.split('.')[0]})
    return out


def test_sources_parse_and_cover_every_kind():
    assert {s['kind'] for s in sources()} == KINDS
    assert len(by_name()) == len(sources())


def test_sources_point_at_the_raw_database():
    for s in sources():
        assert s['from']['databaseName'] == otel_database(), s['name']


def test_every_column_named_exists_in_the_ddl(columns):
    for s in sources():
        for table in tables_of(s):
            assert table in columns, f'{s["name"]}: no table {table} in the DDL'
            for field, expr in expressions(s).items():
                unquoted = re.sub(r"'[^']*'", '', expr)
                names = set(re.findall(r'\b([A-Za-z_][\w.]*)\b(?!\s*\()', unquoted)) - NOT_COLUMNS
                names = {n for n in names if not re.fullmatch(r'\d+(e\d+)?', n)}
                missing = names - columns[table]
                assert not missing, f'{s["name"]}.{field} names {missing}, not columns of {table}'


def test_every_expression_runs_on_the_tables(wh, columns):
    for s in sources():
        for table in tables_of(s):
            for field, expr in expressions(s).items():
                wh.rows(f'select {expr} from {DB}.{table} limit 0')


def test_sources_correlate_by_name_and_share_the_trace_keys():
    named = by_name()
    kinds = {s['kind']: s for s in sources()}
    for s in sources():
        for key in ('traceSourceId', 'logSourceId', 'metricSourceId', 'sessionSourceId'):
            if key in s:
                assert s[key] in named, f'{s["name"]}.{key} = {s[key]!r} names no source'
                assert named[s[key]]['kind'] == key.removesuffix('SourceId'), (s['name'], key)
    logs, traces = kinds['log'], kinds['trace']
    assert named[logs['traceSourceId']] == traces and named[traces['logSourceId']] == logs
    assert logs['traceIdExpression'] == traces['traceIdExpression'] == 'TraceId'
    assert logs['spanIdExpression'] == traces['spanIdExpression'] == 'SpanId'
    assert traces['durationPrecision'] == 9 and traces['durationExpression'] == 'Duration'
    assert kinds['session']['traceSourceId'] == traces['name']
    assert set(kinds['metric']['metricTables']) <= {'gauge', 'sum', 'histogram', 'summary', 'exponential histogram'}


def test_sources_use_a_defined_connection():
    connections = {c['name'] for c in json.loads((CLICKSTACK / 'connections.json').read_text())}
    assert {s['connection'] for s in sources()} <= connections


def collector(name):
    return yaml.safe_load((CLICKSTACK / name).read_text())


def test_the_standalone_collector_only_inserts_into_the_project_tables():
    config = collector('otel-collector.yaml')
    exporter = config['exporters']['clickhouse']
    assert exporter['create_schema'] is False
    assert exporter['database'] == otel_database()
    assert exporter['logs_table_name'] == 'otel_logs' and exporter['traces_table_name'] == 'otel_traces'
    for pipeline in config['service']['pipelines'].values():
        for kind in ('receivers', 'processors', 'exporters'):
            assert set(pipeline[kind]) <= set(config[kind]), pipeline


def test_the_clickstack_addition_uses_clickstacks_own_exporter():
    config = collector('clickstack-custom.config.yaml')
    pipeline = config['service']['pipelines']['logs/librechat']
    provided_by_clickstack = {'memory_limiter', 'batch', 'clickhouse'}
    assert set(pipeline['receivers']) <= set(config['receivers'])
    assert set(pipeline['processors']) <= set(config['processors']) | provided_by_clickstack
    assert pipeline['exporters'] == ['clickhouse'] and 'exporters' not in config


def test_both_collectors_parse_librechat_logs_the_same_way():
    a = collector('otel-collector.yaml')
    b = collector('clickstack-custom.config.yaml')
    assert a['processors']['transform/librechat'] == b['processors']['transform/librechat']
    assert a['receivers']['filelog/librechat'] == b['receivers']['filelog/librechat']


def _ottl_patterns():
    """name -> regex of every ExtractPatterns in the LibreChat transform (OTTL string unescaped)."""
    statements = collector('otel-collector.yaml')['processors']['transform/librechat']['log_statements'][0]['statements']
    out = {}
    for statement in statements:
        for literal in re.findall(r'ExtractPatterns\(\w+, "((?:[^"\\]|\\.)*)"\)', statement):
            pattern = literal.encode().decode('unicode_escape')
            for group in re.findall(r'\?P<(\w+)>', pattern):
                out[group] = re.compile(pattern)
    return out


@pytest.mark.parametrize('line, expected', [
    ('[spendTokens] conversationId: 3d3e99bc-0a00-4da7-ad27-8be0bf7c2c05 | Context: message | Token usage: '
     '{"promptTokens":1654,"completionTokens":218}',
     {'conversationId': '3d3e99bc-0a00-4da7-ad27-8be0bf7c2c05', 'context': 'message',
      'usage': {'promptTokens': 1654, 'completionTokens': 218}}),
    ('[spendStructuredTokens] conversationId: c60fdd80-bf8a-4bc3 | Context: title | Token usage: '
     '{"promptTokens":{"input":116,"write":2278,"read":0},"completionTokens":12}',
     {'conversationId': 'c60fdd80-bf8a-4bc3', 'context': 'title',
      'usage': {'promptTokens': {'input': 116, 'write': 2278, 'read': 0}, 'completionTokens': 12}}),
])
def test_librechat_patterns_extract_the_conversation_and_the_usage(line, expected):
    patterns = _ottl_patterns()
    assert set(patterns) == {'conversationId', 'context', 'usage'}
    got = {name: p.search(line).group(name) for name, p in patterns.items()}
    got['usage'] = json.loads(got['usage'])
    assert got == expected
