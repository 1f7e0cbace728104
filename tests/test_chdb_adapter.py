"""The embedded adapter's client: a query's columns, and memory after long statements.

dbt asks for a model's columns (contract check, on_schema_change) before each
incremental run. The chDB client answers with DESCRIBE instead of running the
query under LIMIT 0; both must give the same names and types, including the
types settings inside the query change (join_use_nulls). After a long
statement the client asks the engine to hand its freed memory back.
"""

import json
import sys

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from dbt.adapters.chdb import client as client_module

from conftest import run

QUERIES = [
    "select 1 as n, 'a' as s, toLowCardinality('x') as lc, [1, 2] as arr, map('k', 1.5) as m",
    "select now64(9, 'UTC') as t, toDecimal64(1.25, 6) as d, toNullable(3) as maybe, today() as day",
    # Without the setting the unmatched right side would be a default 0, not NULL.
    "select l.k as k, r.v as v from (select 1 as k) as l left join (select 2 as k, 7 as v) as r"
    " on l.k = r.k settings join_use_nulls = 1",
    "with a as (select number as k, toString(number) as v from numbers(3))"
    " select k, groupArray(v) as vs, quantile(0.5)(k) as p from a group by k",
]

# In a child process: chDB opens one warehouse per process, and other test
# modules open theirs in this one.
COMPARE = '''
import json, sys
from types import SimpleNamespace
from dbt.adapters.chdb.client import ChdbClient
from dbt.adapters.clickhouse.httpclient import ChHttpClient
from dbt_chdb_engine import shared_client
from dbt_common.exceptions import DbtDatabaseError
client = SimpleNamespace(_client=shared_client(sys.argv[1]))
out = {}
for sql in json.loads(sys.argv[2]):
    try:
        out[sql] = {
            'described': [(c.name, c.data_type) for c in ChdbClient.columns_in_query(client, sql)],
            'returned': [(c.name, c.data_type) for c in ChHttpClient.columns_in_query(client, sql)],
        }
    except DbtDatabaseError as ex:
        out[sql] = {'error': str(ex)}
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def columns(tmp_path_factory):
    bad = 'select no_such_column from numbers(1)'
    path = str(tmp_path_factory.mktemp('chdb_adapter') / 'wh')
    proc = run([sys.executable, '-c', COMPARE, path, json.dumps(QUERIES + [bad])], check=True)
    return json.loads(proc.stdout.splitlines()[-1]), bad


@pytest.mark.parametrize('sql', QUERIES)
def test_describe_gives_the_columns_the_query_returns(columns, sql):
    result = columns[0][sql]
    assert result['described']
    assert result['described'] == result['returned']


def test_settings_inside_the_query_shape_the_described_types(columns):
    # join_use_nulls makes the unmatched side NULL: the contract must see Nullable.
    assert columns[0][QUERIES[2]]['described'] == [['k', 'UInt8'], ['v', 'Nullable(UInt8)']]


def test_a_bad_query_is_a_database_error_naming_the_problem(columns):
    result, bad = columns
    assert 'no_such_column' in result[bad]['error']
    assert 'Traceback' not in result[bad]['error']


class _Engine:
    """Stands in for the engine's client: records statements; each takes `seconds`."""

    def __init__(self, clock, seconds, purge_error=None):
        self.clock, self.seconds, self.purge_error, self.statements = clock, seconds, purge_error, []

    def _run(self, sql):
        self.statements.append(sql)
        if sql == client_module.RELEASE_MEMORY and self.purge_error:
            raise self.purge_error
        self.clock['now'] += self.seconds

    def command(self, sql, **kwargs):
        self._run(sql)

    def query(self, sql, **kwargs):
        self._run(sql)


@pytest.fixture
def engine_client(monkeypatch):
    clock = {'now': 0.0}
    monkeypatch.setattr(client_module.time, 'monotonic', lambda: clock['now'])
    monkeypatch.setitem(client_module._releasing, 'enabled', True)

    def make(seconds, purge_error=None):
        client = client_module.ChdbClient.__new__(client_module.ChdbClient)
        client._client = _Engine(clock, seconds, purge_error)
        return client
    return make


def test_a_long_statement_hands_its_memory_back(engine_client):
    client = engine_client(seconds=client_module.RELEASE_AFTER_SECONDS + 0.5)
    client.command('insert into t select 1')
    client.query('select 2')
    assert client._client.statements == [
        'insert into t select 1', client_module.RELEASE_MEMORY, 'select 2', client_module.RELEASE_MEMORY,
    ]


def test_a_short_statement_releases_nothing(engine_client):
    client = engine_client(seconds=client_module.RELEASE_AFTER_SECONDS / 10)
    client.command('select 1')
    assert client._client.statements == ['select 1']


def test_an_engine_without_the_allocator_command_stops_being_asked(engine_client):
    # A build without jemalloc refuses the command: the statement still
    # succeeds, and later statements do not try again.
    client = engine_client(seconds=5.0, purge_error=DatabaseError('jemalloc is not used'))
    client.command('insert into t select 1')
    client.command('insert into t select 2')
    assert client._client.statements == ['insert into t select 1', client_module.RELEASE_MEMORY,
                                         'insert into t select 2']
