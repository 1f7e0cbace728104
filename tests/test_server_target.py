"""The `server` and `cluster` targets of profiles.example.yml, over HTTP.

No ClickHouse server runs here, so these targets talk to a ClickHouse HTTP
endpoint on loopback answered by chDB (tests/chdb_http.py): llmwh's and
dbt-clickhouse's own HTTP clients, the server code path end to end, on the
real engine. The endpoint's engine knows a one-replica `llm_cluster`, so the
`cluster` target compiles (dbt lists relations with clusterAllReplicas); its
ON CLUSTER DDL and Replicated engines need Keeper and are parsed, not run
(tests/test_cluster.py).
"""

import json

import pytest

from chdb_http import serve
from conftest import INIT_FIXED_DAYS, dbt, llmwh, warehouse_env
from scheduled_telemetry import MARTS, files, marts_of

CLUSTER = 'llm_cluster'


@pytest.fixture(scope='module')
def endpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('endpoint')
    log = tmp / 'statements.log'
    with serve(tmp / 'engine', log=log, cluster=CLUSTER) as port:
        yield port, log


def target_env(tmp, profiles_dir, port, target):
    return {**warehouse_env(tmp, profiles_dir), 'LLMWH_TARGET': target, 'CLICKHOUSE_HOST': '127.0.0.1',
            'CLICKHOUSE_PORT': str(port), 'CLICKHOUSE_CLUSTER': CLUSTER}


@pytest.fixture(scope='module')
def server(tmp_path_factory, profiles_dir, endpoint, telemetry):
    """A fresh server (only `default` exists): init, load everything, build once."""
    port, _ = endpoint
    first, second = telemetry
    tmp = tmp_path_factory.mktemp('server')
    env = target_env(tmp, profiles_dir, port, 'server')
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', *files(first), *files(second), env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return marts_of(env), env, tmp / 'target'



@pytest.mark.parametrize('mart', list(MARTS))
def test_the_server_target_builds_the_marts_of_the_embedded_build(server, full, mart):
    marts, _, _ = server
    assert full[mart], f'{mart} is empty'
    assert marts[mart] == full[mart]


def test_the_server_build_went_over_http(server, endpoint):
    _, log = endpoint
    statements = log.read_text().lower()
    assert 'insert into `otel`.`otel_traces`' in statements or 'insert into otel.otel_traces' in statements
    assert 'fct_llm_calls' in statements and 'create database' in statements


def test_status_reads_the_server(server):
    _, env, _ = server
    out = llmwh('status', env_extra=env, check=True).stdout
    line = next(row for row in out.splitlines() if row.split()[:1] == ['otel_traces'])
    rows = int(line.split()[1].replace(',', ''))
    counted = llmwh('sql', 'select count() from otel.otel_traces', '--format', 'TabSeparated',
                    env_extra=env, check=True).stdout
    assert rows == int(counted) > 0


@pytest.fixture(scope='module')
def cluster_compile(tmp_path_factory, profiles_dir, endpoint, server):
    """`dbt compile --target cluster` on the warehouse the server build left (its incremental
    tables exist, so the incremental branches compile)."""
    port, log = endpoint
    tmp = tmp_path_factory.mktemp('cluster')
    env = target_env(tmp, profiles_dir, port, 'cluster')
    mark = len(log.read_text())
    proc = dbt('compile', env_extra=env)
    return proc, tmp / 'target', log.read_text()[mark:]


def test_the_project_compiles_against_the_cluster_target(cluster_compile):
    proc, target, _ = cluster_compile
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = json.loads((target / 'run_results.json').read_text())['results']
    models = [r for r in results if r['unique_id'].startswith('model.')]
    assert len(models) >= len(MARTS) and all(r['status'] == 'success' for r in models)
    manifest = json.loads((target / 'manifest.json').read_text())
    for node in manifest['nodes'].values():
        if node['resource_type'] == 'model' and node['config']['materialized'] in ('table', 'incremental'):
            assert node['config']['engine'].startswith('Replicated'), node['name']


def test_the_cluster_compile_asked_every_replica(cluster_compile):
    _, _, statements = cluster_compile
    assert f'clusterallreplicas("{CLUSTER}"' in statements.lower().replace("'", '"')


def _compiled_incremental_models(target):
    manifest = json.loads((target / 'manifest.json').read_text())
    return {n['name']: n['compiled_code'] for n in manifest['nodes'].values()
            if n['resource_type'] == 'model' and n['config']['materialized'] == 'incremental'}


def test_incremental_models_compile_their_incremental_branch_on_the_cluster(server, cluster_compile):
    # The server's first build compiled each incremental model whole; on the cluster
    # compile its table exists, so each must compile to its windowed (different) form.
    first_build = _compiled_incremental_models(server[2])
    on_cluster = _compiled_incremental_models(cluster_compile[1])
    assert first_build and set(on_cluster) == set(first_build)
    for name, sql in on_cluster.items():
        assert sql != first_build[name], name
