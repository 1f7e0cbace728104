"""The embedded adapter reports a query's columns as the query returns them.

dbt asks for a model's columns (contract check, on_schema_change) before each
incremental run. The chDB client answers with DESCRIBE instead of running the
query under LIMIT 0; both must give the same names and types, including the
types settings inside the query change (join_use_nulls).
"""

import json
import sys

import pytest

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
