"""Grafana alert rules (dashboards/grafana/provisioning/alerting/*.yaml) parse and are well formed.

Grafana's file provisioning format, apiVersion 1: groups of rules, each a
ClickHouse table query (refId A) and a threshold expression on it. That every
query runs on a built warehouse, macros expanded, is checked in
tests/test_budgets_anomalies.py (on its warehouse with planted anomalies).
"""

import re
import sys
from datetime import datetime, timedelta, timezone

import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from dashboards import plugin_macros  # noqa: E402

ALERTING = ROOT / 'dashboards' / 'grafana' / 'provisioning' / 'alerting'
DATASOURCES = ROOT / 'dashboards' / 'grafana' / 'provisioning' / 'datasources' / 'clickhouse.yaml'
TABLE_REFERENCE = re.compile(r'\b(?:from|join)\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)', re.IGNORECASE)
DURATION = re.compile(r'^(\d+(ms|s|m|h|d|w))+$')


def alert_rules():
    """(file name, group, rule) of every provisioned rule."""
    files = sorted(ALERTING.glob('*.yaml'))
    assert files, 'no alert rule files'
    for path in files:
        document = yaml.safe_load(path.read_text())
        assert document['apiVersion'] == 1, path.name
        for group in document['groups']:
            for rule in group['rules']:
                yield path.name, group, rule


def clickhouse_queries():
    """(rule uid, refId, relativeTimeRange, rawSql) of every ClickHouse query of the rules."""
    for _, _, rule in alert_rules():
        for query in rule['data']:
            if query['datasourceUid'] != '__expr__':
                yield rule['uid'], query['refId'], query['relativeTimeRange'], query['model']['rawSql']


def expanded(sql, time_range, now):
    """The SQL the plugin sends for an evaluation at `now` (no dashboard variables in alert rules)."""
    time_from = now - timedelta(seconds=time_range['from'])
    time_to = now - timedelta(seconds=time_range['to'])
    return plugin_macros.expand(sql, {}, time_from, time_to)


def test_groups_and_rules_are_well_formed():
    datasource_uid = yaml.safe_load(DATASOURCES.read_text())['datasources'][0]['uid']
    uids, titles = set(), set()
    for name, group, rule in alert_rules():
        assert group['orgId'] == 1 and group['folder'] and group['name'], name
        assert DURATION.match(group['interval']), group['name']
        assert rule['uid'] not in uids and len(rule['uid']) <= 40, rule['uid']
        assert rule['title'] not in titles, rule['title']
        uids.add(rule['uid'])
        titles.add(rule['title'])
        assert DURATION.match(rule['for']), rule['uid']
        assert rule['noDataState'] in ('Alerting', 'NoData', 'OK', 'KeepLast'), rule['uid']
        assert rule['execErrState'] in ('Alerting', 'Error', 'OK', 'KeepLast'), rule['uid']
        assert rule['annotations']['summary'] and rule['labels']['category'], rule['uid']
        ref_ids = [q['refId'] for q in rule['data']]
        assert len(ref_ids) == len(set(ref_ids)) and rule['condition'] in ref_ids, rule['uid']
        for query in rule['data']:
            model = query['model']
            assert model['refId'] == query['refId'], rule['uid']
            if query['datasourceUid'] == '__expr__':
                assert model['type'] in ('threshold', 'reduce', 'math', 'classic_conditions'), rule['uid']
                assert model['expression'] in ref_ids, rule['uid']
                for condition in model.get('conditions', []):
                    assert condition['evaluator']['type'] in ('gt', 'lt', 'within_range', 'outside_range')
            else:
                assert query['datasourceUid'] == datasource_uid, rule['uid']
                assert model['datasource'] == {'type': 'grafana-clickhouse-datasource', 'uid': datasource_uid}
                assert model['editorType'] == 'sql' and model['queryType'] == 'table' and model['format'] == 1
                assert query['relativeTimeRange']['from'] > query['relativeTimeRange']['to'] >= 0
    assert {'llm-budget-threshold', 'llm-budget-forecast-over', 'llm-usage-anomaly',
            'llm-reconciliation-mismatch', 'llm-ingestion-stopped'} <= uids


def test_queries_read_the_marts_or_the_raw_tables_and_expand():
    from llmwh.config import otel_database

    now = datetime(2026, 3, 12, tzinfo=timezone.utc)
    for uid, ref_id, time_range, sql in clickhouse_queries():
        tables = TABLE_REFERENCE.findall(sql)
        assert tables, uid
        for table in tables:
            database, _, name = table.rpartition('.')
            if uid == 'llm-ingestion-stopped':
                assert database == otel_database() and name.startswith('otel_'), (uid, table)
            else:
                assert database == 'llm' and name.startswith(('fct_', 'dim_')), (uid, table)
        assert '$__' not in expanded(sql, time_range, now), uid


def test_ingestion_rule_follows_the_source_freshness():
    """The rule fires after the sources' warn_after, on every raw table with a freshness check."""
    sources = yaml.safe_load((ROOT / 'models' / 'staging' / 'otel' / '_otel__sources.yml').read_text())
    source = sources['sources'][0]
    warn_after = source['freshness']['warn_after']
    assert warn_after['period'] == 'hour'
    checked = {t['name'] for t in source['tables'] if t.get('freshness', source['freshness']) is not None}
    rule = next(r for _, _, r in alert_rules() if r['uid'] == 'llm-ingestion-stopped')
    threshold = next(q for q in rule['data'] if q['refId'] == rule['condition'])['model']
    assert threshold['conditions'][0]['evaluator'] == {'type': 'gt', 'params': [warn_after['count']]}
    sql = next(q for q in rule['data'] if q['datasourceUid'] != '__expr__')['model']['rawSql']
    assert {t.rpartition('.')[2] for t in TABLE_REFERENCE.findall(sql)} == checked
