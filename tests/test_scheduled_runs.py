"""The scheduled path equals one full build.

A warehouse built the way cron builds it (dbt build on empty tables, load part
of the telemetry, build, load the rest with late and duplicate deliveries and a
trace that crosses midnight over two runs, build, build again) must hold
exactly the marts of a warehouse that loaded everything and built once.
"""

import json
import math
from pathlib import Path

import pytest

from conftest import dbt, llmwh, warehouse_env

MARTS = {
    'fct_llm_calls': 'trace_id, call_id',
    'fct_traces': 'trace_id',
    'fct_conversations': 'conversation_id',
    'fct_model_daily': 'call_date, provider, model_family',
    'fct_evaluations': 'evaluation_id',
    'fct_evaluation_daily': 'evaluation_date, model_family, evaluation_name',
}
START = '2026-11-20'
DAYS = 3
# A trace of two LLM calls either side of midnight at the end of the data:
# its root span lands in one run, the child after midnight in the next.
CROSSING_TRACE = 'c0ffee00' * 4


def _span(span_id, parent, start_ns, end_ns, name, attrs):
    return {'traceId': CROSSING_TRACE, 'spanId': span_id, 'parentSpanId': parent, 'name': name, 'kind': 3,
            'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(end_ns),
            'attributes': [{'key': k, 'value': {'stringValue': v}} for k, v in attrs.items()]}


def _crossing_lines():
    from datetime import datetime, timezone
    midnight = int(datetime.fromisoformat(f'{START}T00:00:00+00:00').timestamp() + DAYS * 86400) * 10**9
    chat = {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
            'gen_ai.conversation.id': 'conv-crossing'}
    before = _span('00000000000000a1', '', midnight - 4 * 10**9, midnight - 1 * 10**9, 'chat gpt-4o',
                   {**chat, 'gen_ai.usage.input_tokens': '100', 'gen_ai.usage.output_tokens': '10'})
    after = _span('00000000000000a2', '00000000000000a1', midnight + 11 * 10**9, midnight + 15 * 10**9,
                  'chat gpt-4o', {**chat, 'gen_ai.usage.input_tokens': '200', 'gen_ai.usage.output_tokens': '20'})

    def request(span):
        return json.dumps({'resourceSpans': [{
            'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'night-owl'}}]},
            'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})
    return request(before), request(after)


@pytest.fixture(scope='module')
def telemetry(tmp_path_factory):
    """Generated telemetry split into what the first and the second load see."""
    out = tmp_path_factory.mktemp('telemetry')
    llmwh('generate', '--out', str(out / 'gen'), '--days', str(DAYS), '--start', START, '--seed', '11',
          '--conversations', '60', check=True)
    first, second = out / 'first', out / 'second'
    first.mkdir()
    second.mkdir()
    for name in ('traces', 'logs', 'metrics'):
        lines = (out / 'gen' / f'{name}.jsonl').read_text().splitlines()
        cut = len(lines) * 6 // 10
        (first / f'{name}.jsonl').write_text('\n'.join(lines[:cut]) + '\n')
        # The second load repeats a line of the first: a collector retry.
        (second / f'{name}.jsonl').write_text('\n'.join(lines[cut:] + lines[cut - 1:cut]) + '\n')
    for name in ('traces.late', 'logs.late'):
        (second / f'{name}.jsonl').write_text((out / 'gen' / f'{name}.jsonl').read_text())
    before, after = _crossing_lines()
    (first / 'crossing.jsonl').write_text(before + '\n')
    (second / 'crossing.jsonl').write_text(after + '\n')
    return first, second


def _files(directory: Path) -> list:
    return sorted(str(p) for p in directory.glob('*.jsonl'))


def _marts(env) -> dict:
    result = {}
    for mart, key in MARTS.items():
        out = llmwh('sql', f'select * from llm.{mart} order by {key}', '--format', 'json',
                    env_extra=env, check=True).stdout
        result[mart] = [_normalised(json.loads(line)) for line in out.splitlines()]
    return result


def _normalised(row: dict) -> dict:
    # Sums of floats may add in another order: compare to 12 significant digits.
    return {k: float(f'{v:.12g}') if isinstance(v, float) and math.isfinite(v) else v for k, v in row.items()}


@pytest.fixture(scope='module')
def scheduled(tmp_path_factory, profiles_dir, telemetry):
    first, second = telemetry
    env = warehouse_env(tmp_path_factory.mktemp('scheduled'), profiles_dir)
    llmwh('init', env_extra=env, check=True)
    builds = [dbt('build', env_extra=env, check=True)]            # cron's first run: empty tables
    llmwh('load', 'otlp', *_files(first), env_extra=env, check=True)
    builds.append(dbt('build', env_extra=env, check=True))
    after_first = _marts(env)
    llmwh('load', 'otlp', *_files(second), env_extra=env, check=True)
    builds.append(dbt('build', env_extra=env, check=True))
    marts = _marts(env)
    builds.append(dbt('build', env_extra=env, check=True))     # a rerun with nothing new
    return marts, _marts(env), after_first, builds


@pytest.fixture(scope='module')
def full(tmp_path_factory, profiles_dir, telemetry):
    first, second = telemetry
    env = warehouse_env(tmp_path_factory.mktemp('full'), profiles_dir)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *_files(first), *_files(second), env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return _marts(env)


def test_first_run_on_empty_tables_does_not_freeze_the_marts(scheduled):
    _, _, after_first, _ = scheduled
    assert after_first['fct_llm_calls'] and after_first['fct_traces'] and after_first['fct_model_daily']


@pytest.mark.parametrize('mart', list(MARTS))
def test_scheduled_runs_equal_one_full_build(scheduled, full, mart):
    marts = scheduled[0]
    assert full[mart], f'{mart} is empty'
    assert len(marts[mart]) == len(full[mart])
    assert marts[mart] == full[mart]


@pytest.mark.parametrize('mart', list(MARTS))
def test_a_rerun_changes_nothing(scheduled, mart):
    marts, rerun, _, _ = scheduled
    assert rerun[mart] == marts[mart]


def test_a_trace_crossing_midnight_over_two_runs_has_one_row(scheduled):
    marts = scheduled[0]
    rows = [r for r in marts['fct_traces'] if r['trace_id'] == CROSSING_TRACE]
    assert len(rows) == 1
    # The child arrived in the second run and made the root its umbrella:
    # one leaf call, dated by the root's start before midnight.
    assert rows[0]['llm_calls'] == 1 and rows[0]['input_tokens'] == 200
    assert rows[0]['trace_date'] == f'2026-11-{20 + DAYS - 1}'
    calls = [r for r in marts['fct_llm_calls'] if r['trace_id'] == CROSSING_TRACE]
    assert [c['call_id'] for c in calls] == ['00000000000000a2']


def test_keys_are_unique_after_scheduled_runs(scheduled):
    marts = scheduled[0]
    for mart, key in MARTS.items():
        columns = [c.strip() for c in key.split(',')]
        keys = [tuple(r[c] for c in columns) for r in marts[mart]]
        assert len(keys) == len(set(keys)), mart
