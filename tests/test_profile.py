"""profiles.yml rendering: the CLI resolves the same targets dbt would."""

import pytest

from conftest import ROOT
from llmwh.errors import LlmwhError
from llmwh.config import load_target


@pytest.fixture
def clean_env(monkeypatch):
    for name in ('LLMWH_TARGET', 'LLMWH_PATH', 'CLICKHOUSE_HOST', 'CLICKHOUSE_PORT', 'CLICKHOUSE_PASSWORD',
                 'CLICKHOUSE_CLUSTER', 'CLICKHOUSE_SECURE', 'DBT_PROFILES_DIR'):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_example_profile_defaults_to_embedded_in_dot_warehouse(clean_env, profiles_dir, tmp_path):
    clean_env.chdir(tmp_path)
    t = load_target(profiles_dir=str(profiles_dir))
    assert (t.name, t.type, t.schema) == ('embedded', 'chdb', 'llm')
    assert t.path == str(tmp_path / '.warehouse')


def test_llmwh_path_moves_the_embedded_warehouse(clean_env, profiles_dir, tmp_path):
    clean_env.setenv('LLMWH_PATH', str(tmp_path / 'elsewhere'))
    assert load_target(profiles_dir=str(profiles_dir)).path == str(tmp_path / 'elsewhere')


def test_server_target_reads_connection_from_environment(clean_env, profiles_dir):
    clean_env.setenv('LLMWH_TARGET', 'server')
    clean_env.setenv('CLICKHOUSE_HOST', 'ch.internal')
    clean_env.setenv('CLICKHOUSE_PORT', '8443')
    clean_env.setenv('CLICKHOUSE_SECURE', 'true')
    clean_env.setenv('CLICKHOUSE_PASSWORD', 's3cret')
    t = load_target(profiles_dir=str(profiles_dir))
    assert (t.type, t.host, t.port, t.secure, t.password, t.cluster) == (
        'clickhouse', 'ch.internal', 8443, True, 's3cret', None)


def test_cluster_target_names_its_cluster(clean_env, profiles_dir):
    clean_env.setenv('CLICKHOUSE_CLUSTER', 'llm_prod')
    t = load_target(profiles_dir=str(profiles_dir), target='cluster')
    assert (t.type, t.cluster, t.port) == ('clickhouse', 'llm_prod', 8123)


def test_example_profile_has_no_literal_secrets():
    text = (ROOT / 'profiles.example.yml').read_text()
    for line in text.splitlines():
        if line.strip().startswith(('host:', 'port:', 'user:', 'password:')):
            assert 'env_var(' in line, line


def test_required_env_var_without_default_is_a_clear_error(clean_env, tmp_path):
    (tmp_path / 'profiles.yml').write_text(
        "llm_otel:\n  target: s\n  outputs:\n    s:\n      type: clickhouse\n"
        "      host: \"{{ env_var('CH_HOST_NOT_SET_ANYWHERE') }}\"\n      schema: llm\n")
    with pytest.raises(LlmwhError, match='CH_HOST_NOT_SET_ANYWHERE'):
        load_target(profiles_dir=str(tmp_path))


def test_path_override_on_server_target_is_refused(clean_env, profiles_dir, tmp_path):
    with pytest.raises(LlmwhError, match='embedded targets only'):
        load_target(profiles_dir=str(profiles_dir), target='server', path=str(tmp_path))
