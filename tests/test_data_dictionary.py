"""docs/marts.md is the marts' YAML docs, rendered: never stale, never hand-edited."""

import importlib.util

from conftest import ROOT


def _generator():
    spec = importlib.util.spec_from_file_location('data_dictionary', ROOT / 'scripts' / 'data_dictionary.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_data_dictionary_is_fresh():
    generated = _generator().build()
    committed = (ROOT / 'docs' / 'marts.md').read_text()
    assert committed == generated, 'docs/marts.md is stale: run .venv/bin/python scripts/data_dictionary.py'


def test_the_data_dictionary_lists_every_mart_column():
    import yaml
    text = (ROOT / 'docs' / 'marts.md').read_text()
    models = [m for path in sorted((ROOT / 'models' / 'marts').glob('_*.yml'))
              for m in (yaml.safe_load(path.read_text()) or {}).get('models', [])]
    assert {m['name'] for m in models} >= {'fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily',
                                           'fct_budget_status', 'fct_usage_anomalies', 'fct_data_quality_issues',
                                           'fct_evaluations', 'fct_evaluation_daily'}
    for model in models:
        assert f"## {model['name']}" in text
        for column in model['columns']:
            assert f"| `{column['name']}` |" in text, (model['name'], column['name'])


def test_the_readme_links_the_dictionary():
    readme = (ROOT / 'README.md').read_text()
    assert 'docs/marts.md' in readme and 'dbt docs generate' in readme
