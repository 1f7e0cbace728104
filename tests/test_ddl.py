"""The raw OTel DDL: idempotent, exporter-insert-compatible, partitioned, compressed, TTL'd."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from llmwh.warehouse.ddl import DdlOptions, render, settings_of
from llmwh.warehouse.schema import apply_ddl

# The exporter's INSERT column lists, written out from the exporter contract
# (not imported from llmwh, so a drift in llmwh.exporter is caught too).
METRIC_HEAD = ['ResourceAttributes', 'ResourceSchemaUrl', 'ScopeName', 'ScopeVersion',
               'ScopeAttributes', 'ScopeDroppedAttrCount', 'ScopeSchemaUrl', 'ServiceName',
               'MetricName', 'MetricDescription', 'MetricUnit', 'Attributes']
EXEMPLARS = ['Exemplars.FilteredAttributes', 'Exemplars.TimeUnix', 'Exemplars.Value',
             'Exemplars.SpanId', 'Exemplars.TraceId']
EXPORTER_INSERTS = {
    'otel_logs': ['Timestamp', 'TraceId', 'SpanId', 'TraceFlags', 'SeverityText', 'SeverityNumber',
                  'ServiceName', 'Body', 'ResourceSchemaUrl', 'ResourceAttributes', 'ScopeSchemaUrl',
                  'ScopeName', 'ScopeVersion', 'ScopeAttributes', 'LogAttributes', 'EventName'],
    'otel_traces': ['Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName',
                    'SpanKind', 'ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion',
                    'SpanAttributes', 'Duration', 'StatusCode', 'StatusMessage', 'Events.Timestamp',
                    'Events.Name', 'Events.Attributes', 'Links.TraceId', 'Links.SpanId',
                    'Links.TraceState', 'Links.Attributes'],
    'otel_metrics_gauge': METRIC_HEAD + ['StartTimeUnix', 'TimeUnix', 'Value', 'Flags'] + EXEMPLARS,
    'otel_metrics_sum': METRIC_HEAD + ['StartTimeUnix', 'TimeUnix', 'Value', 'Flags'] + EXEMPLARS
    + ['AggregationTemporality', 'IsMonotonic'],
    'otel_metrics_histogram': METRIC_HEAD + ['StartTimeUnix', 'TimeUnix', 'Count', 'Sum', 'BucketCounts',
                                             'ExplicitBounds'] + EXEMPLARS
    + ['Flags', 'Min', 'Max', 'AggregationTemporality'],
    'otel_metrics_exponential_histogram': METRIC_HEAD + [
        'StartTimeUnix', 'TimeUnix', 'Count', 'Sum', 'Scale', 'ZeroCount', 'PositiveOffset',
        'PositiveBucketCounts', 'NegativeOffset', 'NegativeBucketCounts'] + EXEMPLARS
    + ['Flags', 'Min', 'Max', 'AggregationTemporality'],
    'otel_metrics_summary': METRIC_HEAD + ['StartTimeUnix', 'TimeUnix', 'Count', 'Sum',
                                           'ValueAtQuantiles.Quantile', 'ValueAtQuantiles.Value', 'Flags'],
}
ALL_OBJECTS = {'otel_logs', 'otel_traces', 'otel_traces_trace_id_ts', 'otel_traces_trace_id_ts_mv',
               'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram',
               'otel_metrics_exponential_histogram', 'otel_metrics_summary',
               'provider_usage', 'provider_costs', 'llmwh_loaded_files', 'llmwh_quarantine', 'llmwh_runs'}
STORAGE_TABLES = ALL_OBJECTS - {'otel_traces_trace_id_ts_mv'}
# `llmwh load otlp` and `llmwh run` bookkeeping: small, unpartitioned, never expired.
BOOKKEEPING_TABLES = {'llmwh_loaded_files', 'llmwh_quarantine', 'llmwh_runs'}
RETENTION = {'default': 30, 'otel_logs': 14, 'otel_metrics_sum': 90}

NOW = datetime.now(timezone.utc).replace(microsecond=123456)
RESOURCE = {'service.name': 'chat-api', 'k8s.pod.name': 'chat-api-7d9f', 'deployment.environment.name': 'prod'}
METRIC_HEAD_VALUES = [RESOURCE, 'https://opentelemetry.io/schemas/1.26.0', 'opentelemetry.instrumentation.openai',
                      '0.47b0', {}, 0, '', 'chat-api', 'gen_ai.client.token.usage',
                      'Measures number of input and output tokens used', '{token}',
                      {'gen_ai.token.type': 'input', 'gen_ai.request.model': 'gpt-4o'}]
EXEMPLAR_VALUES = [[{'gen_ai.response.model': 'gpt-4o-2024-08-06'}], [NOW.replace(microsecond=0)], [812.0],
                   ['00f067aa0ba902b7'], ['4bf92f3577b34da6a3ce929d0e0e4736']]
START = NOW - timedelta(minutes=1)


def realistic_row(table):
    """One row per table in the shape the exporter sends (values in column order)."""
    if table == 'otel_logs':
        return [NOW, '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1, 'info', 9, 'chat-api',
                '[spendTokens] conversationId: 5c7b0e2a | Token usage: ', '', RESOURCE, '',
                'winston', '3.17.0', {}, {'conversationId': '5c7b0e2a', 'promptTokens': '320'}, '']
    if table == 'otel_traces':
        return [NOW, '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', '', '', 'chat gpt-4o',
                'Client', 'chat-api', RESOURCE, 'opentelemetry.instrumentation.openai_v2', '2.1b0',
                {'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': '320'}, 1_850_000_000,
                'Ok', '', [NOW + timedelta(milliseconds=400)], ['gen_ai.content.completion'],
                [{'gen_ai.completion': 'Hi'}], [], [], [], []]
    tail = {
        'otel_metrics_gauge': [START, NOW, 0.87] + [0] + EXEMPLAR_VALUES,
        'otel_metrics_sum': [START, NOW, 1024.0, 0] + EXEMPLAR_VALUES + [2, True],
        'otel_metrics_histogram': [START, NOW, 3, 1532.0, [0, 0, 0, 0, 1, 2, 0], [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0]]
        + EXEMPLAR_VALUES + [0, 120.0, 812.0, 1],
        'otel_metrics_exponential_histogram': [START, NOW, 3, 1532.0, 2, 0, 20, [1, 0, 2], 0, []]
        + EXEMPLAR_VALUES + [0, 120.0, 812.0, 2],
        'otel_metrics_summary': [START, NOW, 3, 1532.0, [0.5, 0.99], [600.0, 812.0], 0],
    }[table]
    return METRIC_HEAD_VALUES + tail


@pytest.fixture(scope='module')
def otel_db(wh):
    """A database with the DDL applied once, with per-table retention."""
    status = apply_ddl(wh, DdlOptions(database='t_otel', retention=RETENTION))
    assert status == {name: 'created' for name in ALL_OBJECTS}
    return 't_otel'


def table_defs(wh, db):
    return dict(wh.rows('select name, create_table_query from system.tables where database = {d:String}',
                        {'d': db}))


def test_ddl_applies_twice_and_keeps_data(wh, otel_db):
    before = table_defs(wh, otel_db)
    wh.insert('otel_traces', [realistic_row('otel_traces')], EXPORTER_INSERTS['otel_traces'], database=otel_db)
    rows_before = wh.rows(f'select count() from {otel_db}.otel_traces')[0][0]

    status = apply_ddl(wh, DdlOptions(database=otel_db, retention=RETENTION))

    assert status == {name: 'exists' for name in ALL_OBJECTS}
    assert table_defs(wh, otel_db) == before
    assert wh.rows(f'select count() from {otel_db}.otel_traces')[0][0] == rows_before >= 1


@pytest.mark.parametrize('table', sorted(EXPORTER_INSERTS))
def test_exporter_insert_column_list_inserts_unchanged(wh, otel_db, table):
    columns = EXPORTER_INSERTS[table]
    row = realistic_row(table)
    assert len(row) == len(columns)
    wh.command(f'truncate table {otel_db}.{table}')
    wh.insert(table, [row], columns, database=otel_db)
    quoted = ', '.join(f'`{c}`' for c in columns)
    stored = wh.rows(f'select {quoted} from {otel_db}.{table}')
    assert len(stored) == 1
    got = dict(zip(columns, stored[0]))
    assert got['ResourceAttributes'] == RESOURCE
    if table == 'otel_traces':
        assert got['Duration'] == 1_850_000_000
        assert got['Events.Name'] == ['gen_ai.content.completion']
    if table == 'otel_metrics_summary':
        assert got['ValueAtQuantiles.Value'] == [600.0, 812.0]


def test_exporter_log_insert_without_event_name(wh, otel_db):
    """Older exporters send 15 columns (no EventName); the table must take those too."""
    columns = EXPORTER_INSERTS['otel_logs'][:-1]
    wh.insert('otel_logs', [realistic_row('otel_logs')[:-1]], columns, database=otel_db)
    assert wh.rows(f"select count() from {otel_db}.otel_logs where EventName = ''")[0][0] >= 1


def test_materialized_and_default_columns_fill(wh, otel_db):
    wh.command(f'truncate table {otel_db}.otel_logs')
    wh.insert('otel_logs', [realistic_row('otel_logs')], EXPORTER_INSERTS['otel_logs'], database=otel_db)
    pod, hdx_pod, env, ts_time = wh.rows(
        f'select `__otel_materialized_k8s.pod.name`, `__hdx_materialized_k8s.pod.name`, '
        f'`__otel_materialized_deployment.environment.name`, TimestampTime from {otel_db}.otel_logs')[0]
    assert (pod, hdx_pod, env) == ('chat-api-7d9f', 'chat-api-7d9f', 'prod')
    assert ts_time.replace(tzinfo=timezone.utc) == NOW.replace(microsecond=0)


def test_materialized_view_fills_trace_id_lookup(wh, otel_db):
    columns = EXPORTER_INSERTS['otel_traces']
    trace_id = 'aaaabbbbccccddddeeeeffff00001111'
    first, second = realistic_row('otel_traces'), realistic_row('otel_traces')
    first[1], second[1] = trace_id, trace_id
    second[2] = '1111222233334444'
    second[0] = NOW + timedelta(seconds=7)
    no_trace = realistic_row('otel_traces')
    no_trace[1] = ''
    wh.insert('otel_traces', [first, second, no_trace], columns, database=otel_db)
    rows = wh.rows(f"select min(Start), max(End), countIf(TraceId = '') "
                   f"from {otel_db}.otel_traces_trace_id_ts where TraceId in ('{trace_id}', '')")
    start, end, empty = rows[0]
    assert start.replace(tzinfo=timezone.utc) == NOW.replace(microsecond=0)
    assert end.replace(tzinfo=timezone.utc) == (NOW + timedelta(seconds=7)).replace(microsecond=0)
    assert empty == 0


def test_every_table_is_daily_partitioned_with_ttl_only_drop_parts(wh, otel_db):
    tables = {name: (key, engine) for name, key, engine in wh.rows(
        'select name, partition_key, engine_full from system.tables where database = {d:String}',
        {'d': otel_db})}
    for name in STORAGE_TABLES - BOOKKEEPING_TABLES:
        partition_key, engine_full = tables[name]
        assert re.fullmatch(r'toDate\(\w+\)', partition_key), (name, partition_key)
        assert 'ttl_only_drop_parts = 1' in engine_full, name
        assert 'index_granularity = 8192' in engine_full, name
    for name in BOOKKEEPING_TABLES:
        # The record of what was loaded outlives the default retention (30 days here).
        partition_key, engine_full = tables[name]
        assert partition_key == '' and ' TTL ' not in engine_full, (name, engine_full)


def test_retention_is_per_table(wh, otel_db):
    engines = dict(wh.rows('select name, engine_full from system.tables where database = {d:String}',
                           {'d': otel_db}))
    expected = {'otel_logs': 14, 'otel_metrics_sum': 90, 'otel_traces': 30, 'otel_metrics_gauge': 30}
    for name, days in expected.items():
        assert re.search(rf'TTL toDateTime\(\w+\) \+ toIntervalDay\({days}\)', engines[name]), (name, engines[name])


def test_zero_retention_disables_ttl(wh):
    apply_ddl(wh, DdlOptions(database='t_otel_nottl', retention={'default': 0}))
    engines = wh.rows("select name, engine_full from system.tables where database = 't_otel_nottl' "
                      "and engine like '%MergeTree'")
    assert len(engines) == len(STORAGE_TABLES)
    for name, engine_full in engines:
        assert ' TTL ' not in engine_full, name
    # Data far older than any retention is kept when TTL is off (backfills).
    old = realistic_row('otel_traces')
    old[0] = datetime(2020, 1, 1, tzinfo=timezone.utc)
    wh.insert('otel_traces', [old], EXPORTER_INSERTS['otel_traces'], database='t_otel_nottl')
    wh.command('optimize table t_otel_nottl.otel_traces final')
    assert wh.rows('select count() from t_otel_nottl.otel_traces')[0][0] == 1


def test_every_column_is_compressed_with_zstd(wh, otel_db):
    cols = wh.rows('select table, name, compression_codec, default_kind from system.columns '
                   'where database = {d:String}', {'d': otel_db})
    assert cols
    for table, name, codec, kind in cols:
        if kind == 'ALIAS' or table not in STORAGE_TABLES:   # the view stores nothing
            continue
        assert 'ZSTD' in codec, (table, name, codec)
    codecs = {(t, n): c for t, n, c, _ in cols}
    assert 'Delta(8)' in codecs[('otel_traces', 'Timestamp')]
    assert 'Delta(8)' in codecs[('otel_logs', 'Timestamp')]
    assert 'T64' in codecs[('otel_traces', 'Duration')]
    assert 'Delta' in codecs[('otel_metrics_histogram', 'Count')]
    # The large attribute/text columns trade a little insert CPU for size (bench step 4).
    for table, name in (('otel_traces', 'SpanAttributes'), ('otel_logs', 'LogAttributes'), ('otel_logs', 'Body')):
        assert 'ZSTD(6)' in codecs[(table, name)], (table, name)


def test_spans_and_logs_store_string_lengths_inline(wh, otel_db):
    """A separate stream of String lengths (the server default since 25.11) costs the
    repeated attribute values more than the values themselves: otel_traces and
    otel_logs keep lengths inline, in ids and map values alike."""
    for table in ('otel_traces', 'otel_logs'):
        wh.insert(table, [realistic_row(table)], EXPORTER_INSERTS[table], database=otel_db)
    streams = {(t, c): s for t, c, s in wh.rows(
        'select table, column, substreams from system.parts_columns where active and database = {d:String} '
        "and table in ('otel_traces', 'otel_logs', 'otel_traces_trace_id_ts')", {'d': otel_db})}
    # The lookup table keeps the server default: there, lengths do get a stream of their own.
    assert 'TraceId.size' in streams[('otel_traces_trace_id_ts', 'TraceId')]
    for table, column in (('otel_traces', 'TraceId'), ('otel_traces', 'ResourceAttributes'),
                          ('otel_traces', 'SpanAttributes'), ('otel_logs', 'Body'),
                          ('otel_logs', 'LogAttributes')):
        substreams = streams[(table, column)]
        assert substreams and not [s for s in substreams if s.endswith('.size')], (table, column, substreams)


def test_exporter_skip_indexes_exist(wh, otel_db):
    idx = {(t, n): (typ, expr) for t, n, typ, expr in wh.rows(
        'select table, name, type, expr from system.data_skipping_indices where database = {d:String}',
        {'d': otel_db})}
    for name in ('idx_trace_id', 'idx_res_attr_key', 'idx_res_attr_value', 'idx_scope_attr_key',
                 'idx_scope_attr_value', 'idx_log_attr_key', 'idx_log_attr_value', 'idx_lower_body'):
        assert ('otel_logs', name) in idx
    for name in ('idx_trace_id', 'idx_res_attr_key', 'idx_res_attr_value', 'idx_span_attr_key',
                 'idx_span_attr_value', 'idx_duration'):
        assert ('otel_traces', name) in idx
    assert idx[('otel_traces', 'idx_duration')][0] == 'minmax'
    assert idx[('otel_traces_trace_id_ts', 'idx_trace_id')][0] == 'bloom_filter'
    for table in ('otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram',
                  'otel_metrics_exponential_histogram', 'otel_metrics_summary'):
        for name in ('idx_res_attr_key', 'idx_res_attr_value', 'idx_scope_attr_key',
                     'idx_scope_attr_value', 'idx_attr_key', 'idx_attr_value', 'idx_time_minmax'):
            assert (table, name) in idx, (table, name)
    # The engine is ClickHouse >= 26.2, where the exporter gives logs text indexes.
    assert wh.server_version >= (26, 2)
    assert idx[('otel_logs', 'idx_lower_body')] == ('text', 'lower(Body)')


def test_older_servers_get_bloom_filter_log_indexes():
    sql = next(s.sql for s in render(DdlOptions(server_version=(25, 8))) if s.source == '010_otel_logs.sql')
    assert 'TYPE text(' not in sql
    assert "INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8" in sql


def test_init_warns_about_a_table_created_without_a_setting_until_altered(wh):
    """An otel_traces from before inline String lengths is kept as it is, with a
    warning, until the README's upgrade ALTER gives it the setting."""
    db = 't_otel_upgrade'
    old = render(DdlOptions(database=db, retention={}, server_version=(25, 10)))
    for st in old:
        if st.source in ('000_database.sql', '020_otel_traces.sql'):
            wh.command(st.sql)

    def warnings():
        said = []
        status = apply_ddl(wh, DdlOptions(database=db, retention={}), echo=lambda m, err=False: said.append(m))
        assert status['otel_traces'] == 'exists'
        return said

    said = warnings()
    assert [w for w in said if 'otel_traces was created without string_serialization_version' in w], said
    assert not [w for w in said if 'otel_logs' in w], said   # created just now, as rendered
    wh.command(f"alter table {db}.otel_traces modify setting string_serialization_version = 'single_stream'")
    assert warnings() == []


def test_string_lengths_setting_only_for_servers_that_know_it():
    """'single_stream' is a value of 25.11 and later; an older server rejects the CREATE."""
    def spans_and_logs(version):
        return [s.sql for s in render(DdlOptions(server_version=version))
                if s.source in ('010_otel_logs.sql', '020_otel_traces.sql') and s.sql.startswith('create table')]

    for sql in spans_and_logs((25, 10)):
        assert 'string_serialization_version' not in sql
    for sql in spans_and_logs((25, 11)):
        assert settings_of(sql)['string_serialization_version'] == "'single_stream'", sql[-160:]


def test_spans_and_logs_keep_each_rows_block_number_through_merges(wh, otel_db):
    """Two inserts merged into one part keep their own block numbers, which
    scheduled runs tell new rows from old ones by (new_deliveries)."""
    for table in ('otel_traces', 'otel_logs'):
        for _ in range(2):
            wh.insert(table, [realistic_row(table)], EXPORTER_INSERTS[table], database=otel_db)
        wh.command(f'optimize table {otel_db}.{table} final')
        parts = wh.rows(f'select count(), min(min_block_number), max(max_block_number) from system.parts '
                        f"where active and database = '{otel_db}' and table = '{table}'")[0]
        blocks = wh.rows(f'select groupUniqArray(_block_number) from {otel_db}.{table}')[0][0]
        assert parts[0] == 1, (table, parts)   # one merged part ...
        assert len(blocks) >= 2 and min(blocks) == parts[1] and max(blocks) == parts[2], (table, blocks, parts)


def test_block_number_setting_only_for_servers_that_know_it():
    def spans_and_logs(version):
        return [settings_of(s.sql) for s in render(DdlOptions(server_version=version))
                if s.source in ('010_otel_logs.sql', '020_otel_traces.sql') and s.sql.startswith('create table')]

    assert [s.get('enable_block_number_column') for s in spans_and_logs((24, 4))] == [None, None]
    assert [s.get('enable_block_number_column') for s in spans_and_logs((24, 5))] == ['1', '1']


def test_cluster_ddl_parses_and_is_replicated(wh):
    statements = render(DdlOptions(database='otel', cluster='llm_cluster', retention={'default': 30}))
    for st in statements:
        ast = wh.rows(f'explain ast {st.sql}')
        assert ast, st.source
        assert 'on cluster `llm_cluster`' in st.sql, st.source
    creates = [s.sql for s in statements if s.sql.startswith('create table')]
    local = [s for s in creates if re.match(r'create table if not exists `otel`\.`\w+_local`', s)]
    distributed = [s for s in creates if 'ENGINE = Distributed(`llm_cluster`' in s]
    assert len(local) == len(STORAGE_TABLES)
    assert all(re.search(r'ENGINE = Replicated(Replacing)?MergeTree\(', s) for s in local)
    assert {re.search(r'`otel`\.`(\w+)` on cluster', s).group(1) for s in distributed} == STORAGE_TABLES
    mv = next(s.sql for s in statements if s.sql.startswith('create materialized view'))
    assert 'from `otel`.`otel_traces_local`' in mv and 'to `otel`.`otel_traces_trace_id_ts_local`' in mv


def test_access_roles_parse_and_cover_every_role(wh):
    """ddl/access/roles.sql (for a server; see ddl/README.md) parses statement by statement."""
    from llmwh.warehouse.ddl import split_statements

    text = (Path(__file__).resolve().parents[1] / 'ddl' / 'access' / 'roles.sql').read_text()
    statements = [s.strip() for s in split_statements(text)
                  if re.sub(r'--[^\n]*', '', s).strip()]
    kinds = [wh.rows(f'explain ast {s}')[0][0] for s in statements]
    assert kinds.count('CreateRoleQuery') == 5 and 'CreateSettingsProfileQuery' in kinds
    assert 'CreateQuotaQuery' in kinds and any('ROW POLICY' in k for k in kinds)
    roles = set(re.findall(r'create role if not exists (\w+)', text))
    assert roles >= {'llm_ingest', 'llm_transform', 'llm_analyst', 'llm_dashboard'}
    for role in roles:
        assert re.search(rf'grant [^;]+ to {role};', text), role
