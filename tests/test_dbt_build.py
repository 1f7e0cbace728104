"""End to end on a temporary embedded warehouse: init, sample, `dbt build`, status."""

import json
from pathlib import Path

import pytest

from conftest import dbt, llmwh, warehouse_env


@pytest.fixture(scope='module')
def built(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('build')
    env = warehouse_env(tmp, profiles_dir)
    llmwh('init', env_extra=env, check=True)
    first_load = llmwh('load', 'sample', env_extra=env, check=True)
    second_load = llmwh('load', 'sample', env_extra=env, check=True)
    build = dbt('build', env_extra=env, check=True)
    return env, first_load, second_load, build


def sql_json(env, query):
    out = llmwh('sql', query, '--format', 'json', env_extra=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_dbt_build_passes(built):
    _, _, _, build = built
    assert 'Completed successfully' in build.stdout
    assert 'ERROR=0' in build.stdout


def test_sample_load_is_idempotent(built):
    env, first, second, _ = built
    assert 'otel_traces' in first.stdout and ' 0 rows' not in first.stdout
    assert 'already loaded' in second.stdout
    traces = sql_json(env, 'select count() as n, uniqExact(SpanId) as spans from otel.otel_traces')[0]
    assert traces['n'] == traces['spans'] > 0


def test_status_shows_built_models_with_rows(built):
    env = built[0]
    out = llmwh('status', env_extra=env, check=True).stdout
    rows = {parts[1]: int(parts[2].replace(',', '')) for parts in map(str.split, out.splitlines())
            if parts and parts[0] in ('view', 'table', 'incremental', 'seed')}
    billing = {'llm_staging.stg_billing__provider_usage', 'llm_staging.stg_billing__provider_costs',
               'llm_intermediate.int_provider_usage_summed_to_days'}
    marts = {'llm.fct_llm_calls', 'llm.fct_traces', 'llm.fct_conversations', 'llm.fct_model_daily',
             'llm.dim_models', 'llm.model_prices'}
    assert {'llm_staging.stg_otel__spans', 'llm_staging.stg_otel__logs'} | billing | marts <= set(rows)
    # fct_usage_anomalies holds only anomalies: the sample has none (and too few days for a baseline).
    assert all(n > 0 for name, n in rows.items() if name not in billing | {'llm.fct_usage_anomalies'}), rows
    # No billing export is loaded here: the billing views are built and empty (tests/test_load_usage.py).
    assert all(rows[name] == 0 for name in billing)


def test_staging_spans_match_raw_rows(built):
    env = built[0]
    counts = sql_json(env, 'select (select count() from otel.otel_traces) as raw, '
                           '(select count() from llm_staging.stg_otel__spans) as staged')[0]
    assert counts['raw'] == counts['staged'] > 0


def test_librechat_logs_give_worked_example(built):
    """The first sample conversation's token logs sum to 790 prompt / 218 completion."""
    rows = sql_json(env := built[0],
                    "select sum(prompt_tokens) as p, sum(completion_tokens) as c, count() as n "
                    "from llm_staging.stg_otel__logs "
                    "where conversation_id = '5c7b0e2a-1f4e-4c71-9a51-0d6f1e9b3a10'")
    assert rows == [{'p': 790, 'c': 218, 'n': 2}]
    raw_only = sql_json(env, "select count() as n from llm_staging.stg_otel__logs "
                             "where conversation_id = '2a6f9c1e-8d3b-4e5a-b7c9-1f0e2d3c4b5a' "
                             "and prompt_tokens is null")
    assert raw_only[0]['n'] == 1


@pytest.mark.parametrize('service, span_name, expected', [
    # semconv v1.26: gen_ai.system + prompt/completion_tokens
    ('support-bot', 'chat gpt-4o-mini', {'provider_raw': 'openai', 'input_tokens': 812, 'output_tokens': 164,
                          'finish_reason_raw': 'stop'}),
    # OpenLLMetry: capitalised system, cache counts, finish reason from the completion
    ('research-agent', 'anthropic.chat', {'provider_raw': 'anthropic', 'input_tokens': 5120, 'cache_read_tokens': 4096,
                        'cache_write_tokens': 512, 'finish_reason_raw': 'end_turn',
                        'user_id': 'user-cy', 'session_id': 'sess-417'}),
    # OpenInference: llm.token_count.*, session and user ids, reported cost
    ('rag-api', 'ChatCompletion', {'provider_raw': 'openai', 'operation_raw': 'LLM', 'input_tokens': 2048,
                        'output_tokens': 256, 'total_tokens': 2304, 'reasoning_tokens': 0,
                        'session_id': 'sess-88', 'user_id': 'user-dee', 'reported_cost_usd': 0.0012288}),
])
def test_attribute_flavours_are_extracted(built, service, span_name, expected):
    rows = sql_json(built[0], f"select * except (span_attributes, resource_attributes) "
                              f"from llm_staging.stg_otel__spans "
                              f"where service_name = '{service}' and span_name = '{span_name}'")
    assert len(rows) == 1
    assert {k: rows[0][k] for k in expected} == expected


def test_semconv_v127_spans_carry_conversation_and_streaming(built):
    rows = sql_json(built[0], "select conversation_id, sum(input_tokens) as input, "
                              "sum(output_tokens) as output, min(is_streaming) as streaming, "
                              "min(ttft_ms) as ttft from llm_staging.stg_otel__spans "
                              "where service_name = 'librechat' and span_name like 'chat %' "
                              "group by conversation_id order by conversation_id")
    assert rows == [
        {'conversation_id': '5c7b0e2a-1f4e-4c71-9a51-0d6f1e9b3a10', 'input': 790, 'output': 218,
         'streaming': 1, 'ttft': 410},
        {'conversation_id': '9e2d41c8-6b0a-4f3e-8c2d-7a1b5e4f6d21', 'input': 1215, 'output': 285,
         'streaming': 1, 'ttft': 410},
    ]


def test_litellm_proxy_spans(built):
    rows = sql_json(built[0], "select is_error, error_type, input_tokens, is_streaming, user_id "
                              "from llm_staging.stg_otel__spans where span_name = 'litellm_request' "
                              "order by started_at")
    assert [(r['is_error'], r['error_type'], r['input_tokens']) for r in rows] == [
        (0, None, 1500), (1, 'RateLimitError', None)]
    assert all(r['is_streaming'] == 0 and r['user_id'] == 'user-eve' for r in rows)


def test_missing_usage_is_null_not_zero(built):
    rows = sql_json(built[0], "select count() as n, countIf(input_tokens is null) as missing "
                              "from llm_staging.stg_otel__spans where span_name like 'tools/call%'")
    assert rows[0]['n'] == rows[0]['missing'] > 0


def test_every_model_and_column_is_documented(built):
    """Each model and seed, and every column it really has, carries a YAML description."""
    env = built[0]
    manifest = json.loads((Path(env['DBT_TARGET_PATH']) / 'manifest.json').read_text())
    nodes = [n for n in manifest['nodes'].values()
             if n['resource_type'] in ('model', 'seed') and n['package_name'] == 'llm_otel']
    assert len(nodes) >= 15
    undocumented = []
    for node in nodes:
        if not node['description'].strip():
            undocumented.append(node['name'])
        actual = [r['name'] for r in sql_json(
            env, f"select name from system.columns where database = '{node['schema']}' "
                 f"and table = '{node['alias']}'")]
        assert actual, f"{node['name']} was not built"
        documented = {name: col['description'].strip() for name, col in node['columns'].items()}
        undocumented += [f"{node['name']}.{c}" for c in actual if not documented.get(c)]
    assert undocumented == []


def test_dbt_docs_generate_covers_the_marts(built):
    """`dbt docs generate` works on the built warehouse and its catalog has every mart column."""
    env = built[0]
    dbt('docs', 'generate', env_extra=env, check=True)
    catalog = json.loads((Path(env['DBT_TARGET_PATH']) / 'catalog.json').read_text())
    marts = {n['metadata']['name']: n['columns'] for n in catalog['nodes'].values()
             if n['metadata']['schema'] == 'llm'}
    assert {'fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily', 'dim_models'} <= set(marts)
    assert {'cost_usd', 'model_id', 'model_family', 'unpriced_reason'} <= set(marts['fct_llm_calls'])
