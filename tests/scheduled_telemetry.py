"""Telemetry split into two scheduled loads, and the marts of one full build over it.

Shared by the tests that compare a way of building (scheduled runs, another
target) with one embedded build of everything.
"""

import json
import math
from pathlib import Path

from conftest import INIT_FIXED_DAYS, MART_KEYS, dbt, llmwh, sql_rows, warehouse_env

# Every mart the scheduled path must build exactly as one full build does.
MARTS = MART_KEYS
START = '2026-11-20'
DAYS = 3
# A trace of two LLM calls either side of midnight at the end of the data:
# its root span lands in one run, the child after midnight in the next.
CROSSING_TRACE = 'c0ffee00' * 4
# The same two runs a day later, on a day with no other call: once its child
# arrives, the root is an umbrella and its day has no calls at all.
LONELY_TRACE = 'bead0000' * 4
LONELY_DAY = f'2026-11-{20 + DAYS + 1}'
# The only call of its day, and its span ends before it starts: its duration
# is unknown, so the day's latencies are NULL (never a value made up).
BACKWARDS_TRACE = 'bac0000d' * 4
BACKWARDS_DAY = f'2026-11-{20 + DAYS + 3}'


def _span(span_id, parent, start_ns, end_ns, name, attrs, trace_id=CROSSING_TRACE):
    return {'traceId': trace_id, 'spanId': span_id, 'parentSpanId': parent, 'name': name, 'kind': 3,
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
    lonely_midnight = midnight + 2 * 86400 * 10**9
    lonely = {**chat, 'gen_ai.conversation.id': 'conv-lonely', 'gen_ai.usage.input_tokens': '300',
              'gen_ai.usage.output_tokens': '30'}
    lonely_root = _span('00000000000000b1', '', lonely_midnight - 5 * 10**9, lonely_midnight - 2 * 10**9,
                        'chat gpt-4o', lonely, LONELY_TRACE)
    lonely_child = _span('00000000000000b2', '00000000000000b1', lonely_midnight + 5 * 10**9,
                         lonely_midnight + 9 * 10**9, 'chat gpt-4o', lonely, LONELY_TRACE)

    backwards_noon = midnight + (3 * 86400 + 12 * 3600) * 10**9
    backwards = _span('00000000000000c1', '', backwards_noon, backwards_noon - 10**9, 'chat gpt-4o',
                      {**chat, 'gen_ai.conversation.id': 'conv-backwards', 'gen_ai.usage.input_tokens': '40',
                       'gen_ai.usage.output_tokens': '4'}, BACKWARDS_TRACE)

    def request(span):
        return json.dumps({'resourceSpans': [{
            'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'night-owl'}}]},
            'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})
    return ('\n'.join(map(request, (before, lonely_root, backwards))),
            request(after) + '\n' + request(lonely_child))


def split_telemetry(out: Path):
    """Generated telemetry split into what the first and the second load see."""
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


def files(directory: Path) -> list:
    return sorted(str(p) for p in directory.glob('*.jsonl'))


def marts_of(env) -> dict:
    result = {}
    for mart, key in MARTS.items():
        result[mart] = [_normalised(row) for row in sql_rows(env, f'select * from llm.{mart} order by {key}')]
    return result


def _normalised(row: dict) -> dict:
    # Sums of floats may add in another order: compare to 12 significant digits.
    return {k: float(f'{v:.12g}') if isinstance(v, float) and math.isfinite(v) else v for k, v in row.items()}


def full_build(tmp: Path, profiles_dir, telemetry) -> dict:
    first, second = telemetry
    env = warehouse_env(tmp, profiles_dir)
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', *files(first), *files(second), env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return marts_of(env)
