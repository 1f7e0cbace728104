"""deploy/: the collector config writes only into tables `llmwh init` creates, as the DDL expects;
the scheduler units run `llmwh run`."""

import configparser
import re

import pytest
import yaml

from conftest import ROOT
from llmwh.config import retention_days
from llmwh.warehouse.ddl import DdlOptions, created_objects, render

DEPLOY = ROOT / 'deploy'


@pytest.fixture(scope='module')
def collector():
    return yaml.safe_load((DEPLOY / 'otel-collector.yaml').read_text())


@pytest.fixture(scope='module')
def exporter(collector):
    return collector['exporters']['clickhouse']


@pytest.fixture(scope='module')
def ddl():
    options = DdlOptions(retention=retention_days())     # as `llmwh init` renders it
    return options.database, created_objects(render(options))


def _exporter_tables(exporter) -> dict:
    """Exporter role -> table name, with the exporter's defaults for anything not set."""
    tables = {'logs': exporter.get('logs_table_name', 'otel_logs'),
              'traces': exporter.get('traces_table_name', 'otel_traces')}
    for kind in ('gauge', 'sum', 'summary', 'histogram', 'exponential_histogram'):
        tables[kind] = (exporter.get('metrics_tables') or {}).get(kind, {}).get('name', f'otel_metrics_{kind}')
    return tables


def test_collector_config_parses_and_wires_every_pipeline(collector):
    pipelines = collector['service']['pipelines']
    assert set(pipelines) == {'traces', 'metrics', 'logs'}
    for name, pipeline in pipelines.items():
        for part in ('receivers', 'processors', 'exporters'):
            for component in pipeline[part]:
                assert component in collector[part], f'{name}: {component} is not configured'
        assert pipeline['processors'][0] == 'memory_limiter' and pipeline['processors'][-1] == 'batch', name
        assert pipeline['exporters'] == ['clickhouse']
    assert set(collector['receivers']['otlp']['protocols']) == {'grpc', 'http'}
    assert 'filelog/librechat' in pipelines['logs']['receivers']
    assert any(r.startswith('prometheus') for r in pipelines['metrics']['receivers'])


def test_exporter_writes_only_into_tables_the_ddl_creates(exporter, ddl):
    database, objects = ddl
    assert exporter['database'] == database
    for role, table in _exporter_tables(exporter).items():
        assert table in objects, f'{role}: {table} is not created by ddl/'
    # The trace-id lookup the exporter would otherwise create exists too.
    traces = _exporter_tables(exporter)['traces']
    assert f'{traces}_trace_id_ts' in objects and f'{traces}_trace_id_ts_mv' in objects


def test_exporter_settings_agree_with_the_ddl(exporter, ddl):
    _, objects = ddl
    assert exporter['create_schema'] is False
    # Retention is the DDL's TTL: the exporter sets none (ttl_days is the old spelling).
    assert 'ttl' not in exporter and 'ttl_days' not in exporter
    assert all('TTL' in objects[t] for t in _exporter_tables(exporter).values())
    # Map attribute columns, not JSON ones: the Map-mode exporter cannot insert into JSON.
    assert exporter.get('json', False) is False
    tables = _exporter_tables(exporter)
    for column in ('LogAttributes', 'ResourceAttributes'):
        assert re.search(rf'`{column}` Map\(LowCardinality\(String\), String\)', objects[tables['logs']])
    assert re.search(r'`SpanAttributes` Map\(LowCardinality\(String\), String\)', objects[tables['traces']])
    for kind in ('gauge', 'sum', 'summary', 'histogram', 'exponential_histogram'):
        assert re.search(r'`Attributes` Map\(LowCardinality\(String\), String\)', objects[tables[kind]]), kind
    # Engine options would only matter if the exporter created tables.
    assert 'table_engine' not in exporter and 'cluster_name' not in exporter


def test_exporter_retries_and_queues(exporter):
    assert exporter['retry_on_failure']['enabled'] is True
    assert exporter['retry_on_failure']['max_elapsed_time']
    assert exporter['sending_queue']['enabled'] is True and exporter['sending_queue']['queue_size'] > 0


def test_librechat_logs_are_parsed_into_log_attributes(collector):
    operators = collector['receivers']['filelog/librechat']['operators']
    kinds = [op['type'] for op in operators]
    assert kinds.index('json_parser') < kinds.index('trace_parser') < kinds.index('regex_parser')
    json_parser = operators[kinds.index('json_parser')]
    assert json_parser['parse_from'] == 'body' and json_parser['parse_to'] == 'attributes'
    regexes = [op['regex'] for op in operators if op['type'] == 'regex_parser']
    conversation = next(r for r in regexes if 'conversationId' in r)
    # Go and Python agree on this pattern's syntax: check it on a LibreChat message.
    m = re.search(conversation, '[spendTokens] conversationId: 5c7b0e2a-1f4e | Context: message | Token usage: ')
    assert m and m.group('conversationId') == '5c7b0e2a-1f4e'


def test_scheduler_units_run_llmwh_run():
    cron = [line for line in (DEPLOY / 'llmwh-run.cron').read_text().splitlines()
            if line.strip() and not line.startswith('#') and not re.match(r'^\w+=', line)]
    assert len(cron) == 1 and cron[0].split()[:5] == ['*/15', '*', '*', '*', '*']
    assert cron[0].split()[5] == 'llmwh'     # /etc/cron.d lines name the user
    assert '.venv/bin/llmwh run' in cron[0]

    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.optionxform = str
    service.read(DEPLOY / 'llmwh-run.service')
    assert service['Service']['Type'] == 'oneshot'
    assert service['Service']['ExecStart'].endswith('/.venv/bin/llmwh run')

    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.optionxform = str
    timer.read(DEPLOY / 'llmwh-run.timer')
    assert timer['Timer']['Unit'] == 'llmwh-run.service'
    assert timer['Timer']['OnCalendar'] and timer['Install']['WantedBy'] == 'timers.target'
