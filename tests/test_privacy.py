"""Issue 10: prompts and completions never reach a mart.

Generated telemetry carries message content the way instrumentations emit it
(gen_ai.input.messages / output.messages, gen_ai.prompt.N / completion.N,
OpenInference input.value / llm.input_messages, tool arguments and results,
LibreChat `text`, log and span event bodies, evaluation explanations). After
a build, no String or Array(String) column of any mart in database llm holds
any of that text.
"""

import json
import re
from datetime import date, timedelta

import pytest

from conftest import dbt, llmwh, warehouse_env, sql_rows as q

# Attribute keys that carry prompt, completion or tool payload text.
CONTENT_KEY = re.compile(
    r'(^|\.)(input|output)\.messages$|^gen_ai\.(prompt|completion)\.\d+\.content$'
    r'|^llm\.(input|output)_messages\.|^(input|output)\.value$|(^|\.)(arguments|result)$'
    r'|^gen_ai\.tool\.call\.|^db\.query\.text$|^text$|^ai\.(prompt|response\.text)'
    r'|^(gen_ai\.evaluation|metadata)\.explanation$')
# Shorter texts ("stop", "user", model names) are not content and may appear anywhere.
MIN_LENGTH = 16


def _any_text(value):
    """Every string inside an OTLP AnyValue."""
    if 'stringValue' in value:
        yield value['stringValue']
    for item in value.get('arrayValue', {}).get('values', []):
        yield from _any_text(item)
    for kv in value.get('kvlistValue', {}).get('values', []):
        yield from _any_text(kv.get('value', {}))


def content_texts(out):
    texts = set()

    def attrs(items):
        for kv in items or []:
            if CONTENT_KEY.search(kv['key']):
                texts.update(_any_text(kv.get('value', {})))

    for path in out.glob('*.jsonl'):
        if path.name.startswith('truth'):
            continue
        for line in path.read_text().splitlines():
            request = json.loads(line)
            for rs in request.get('resourceSpans', []):
                for ss in rs.get('scopeSpans', []):
                    for span in ss.get('spans', []):
                        attrs(span.get('attributes'))
                        for event in span.get('events', []):
                            attrs(event.get('attributes'))
                            texts.update(t for kv in event.get('attributes', []) if kv['key'].endswith('body')
                                         for t in _any_text(kv.get('value', {})))
            for rl in request.get('resourceLogs', []):
                for sl in rl.get('scopeLogs', []):
                    for record in sl.get('logRecords', []):
                        attrs(record.get('attributes'))
                        texts.update(_any_text(record.get('body', {})))
    return {t for t in texts if len(t) >= MIN_LENGTH}


@pytest.fixture(scope='module')
def generated(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('privacy')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    start = (date.today() - timedelta(days=1)).isoformat()
    llmwh('generate', '--out', str(out), '--days', '1', '--conversations', '20', '--seed', '3',
          '--start', start, check=True)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    return env, content_texts(out)


def test_the_generator_emits_content_to_look_for(generated):
    _, texts = generated
    assert any('rotate the API key' in t for t in texts)
    assert any('refund policy' in t for t in texts)
    assert any('the answer to' in t for t in texts)          # evaluation explanations quote the question
    assert len(texts) >= 5


def test_no_mart_column_holds_prompt_or_completion_text(generated):
    env, texts = generated
    columns = q(env, "select table, name from system.columns where database = 'llm' "
                     "and (type like '%String%') order by table, name")
    assert columns
    leaks = []
    for table in sorted({c['table'] for c in columns}):
        names = [c['name'] for c in columns if c['table'] == table]
        for row in q(env, f"select {', '.join(f'toString(`{n}`) as `{n}`' for n in names)} from llm.`{table}`"):
            for name, value in row.items():
                leaks += [(table, name, t[:40]) for t in texts if value and t in value]
    assert not leaks, leaks[:20]
