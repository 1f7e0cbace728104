"""The dbt project on the `cluster` target of profiles.example.yml, offline.

`dbt parse` with the cluster target and dummy connection settings resolves the
profile and every model's config (Replicated engines), and no model or macro
SQL depends on the target, so the SQL the embedded builds compile is the SQL
the cluster runs. `dbt compile --target cluster` against a live endpoint is in
tests/test_server_target.py.
"""

import json
import re

import pytest

from conftest import ROOT, dbt


@pytest.fixture(scope='module')
def manifest(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('cluster')
    env = {'DBT_PROFILES_DIR': str(profiles_dir), 'DBT_TARGET_PATH': str(tmp / 'target'),
           'DBT_LOG_PATH': str(tmp / 'logs'), 'LLMWH_TARGET': 'cluster',
           # Dummies: parse renders the profile but never connects.
           'CLICKHOUSE_HOST': 'ch.invalid', 'CLICKHOUSE_PORT': '8123', 'CLICKHOUSE_USER': 'dbt',
           'CLICKHOUSE_PASSWORD': 'x', 'CLICKHOUSE_CLUSTER': 'llm_cluster'}
    dbt('parse', '--no-partial-parse', env_extra=env, check=True)
    return json.loads((tmp / 'target' / 'manifest.json').read_text())


def test_every_stored_model_is_replicated_on_the_cluster_target(manifest):
    models = [n for n in manifest['nodes'].values() if n['resource_type'] == 'model']
    assert models
    for node in models:
        if node['config']['materialized'] in ('table', 'incremental'):
            assert node['config']['engine'].startswith('Replicated'), node['name']


def test_the_incremental_strategies_are_the_ones_docs_scaling_describes(manifest):
    strategies = {n['config'].get('incremental_strategy') for n in manifest['nodes'].values()
                  if n['resource_type'] == 'model' and n['config']['materialized'] == 'incremental'}
    assert strategies <= {'delete_insert', 'insert_overwrite'}
    doc = (ROOT / 'docs' / 'scaling.md').read_text()
    assert all(f'`{s}`' in doc for s in strategies)


def test_model_sql_does_not_depend_on_the_target():
    for path in [*ROOT.glob('models/**/*.sql'), *ROOT.glob('macros/*.sql')]:
        assert not re.search(r'\btarget\.', path.read_text()), path.relative_to(ROOT)
