"""Re-pricing history after a price seed changes: `llmwh run --reprice`.

A user corrects a price with a row in seeds/model_price_overrides.csv (as
`llmwh prices` suggests for a model without one) on a warehouse whose raw
tables already dropped their oldest day (the TTL, done here by dropping the
partitions). New telemetry arrived since the last build and is not extracted
yet. `llmwh run --reprice` is killed part way (the price model rebuilt, the
marts not), the next scheduled `llmwh run` finishes the re-pricing, and a
scheduled `dbt build` follows: the marts must be those of one build of all
the data with the new prices, every call re-priced, also those of the day
only the warehouse's own tables still hold, and nothing lost or counted
twice. A plain `dbt build --full-refresh` would rebuild from the raw tables
and lose that day.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import time as clock
from datetime import datetime, time, timedelta, timezone

import pytest

from conftest import BIN, ROOT, child_env, dbt, llmwh, release_warehouses, sql_rows, sql_write, warehouse_env
from scheduled_telemetry import MARTS, marts_of

# What a dbt project is made of (dbt_project.yml's paths), plus what `llmwh` reads from it.
PROJECT_FILES = ('dbt_project.yml', 'selectors.yml')
PROJECT_DIRS = ('models', 'macros', 'seeds', 'tests/dbt', 'ddl', 'gx')
BUILD = ('build', '--exclude-resource-type', 'unit_test')
NEW_INPUT_PRICE, NEW_OUTPUT_PRICE = '123', '456'    # USD per 1M tokens, unlike any list price
# Where the killed re-pricing stops: the calls re-priced, the marts built from them not yet.
KILL_AFTER = 'OK created sql incremental model `llm_intermediate`.`int_llm_calls_priced`'


def _copy_project(to):
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, to / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, to / name)
    return to


def _times(node):
    """Every *UnixNano time in an OTLP/JSON request."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith('UnixNano'):
                yield int(value)
            else:
                yield from _times(value)
    elif isinstance(node, list):
        for value in node:
            yield from _times(value)


def _split(gen, older, newest, newest_day):
    """Requests wholly on `newest_day` (arriving after the oldest day expired), and all the others
    with the late deliveries (arriving before): as the raw TTL sees it, nothing new lands on an
    expired day. The newest requests come with a retried one."""
    since = int(datetime.combine(newest_day, time(), timezone.utc).timestamp()) * 10**9
    for name in ('traces', 'logs', 'metrics'):
        lines = (gen / f'{name}.jsonl').read_text().splitlines()
        new = [line for line in lines if min(_times(json.loads(line)), default=0) >= since]
        old = [line for line in lines if line not in new]
        assert new and old, name
        (older / f'{name}.jsonl').write_text('\n'.join(old) + '\n')
        (newest / f'{name}.jsonl').write_text('\n'.join(new + new[:1]) + '\n')
    for late in gen.glob('*.late.jsonl'):
        shutil.copy(late, older / late.name)


def _jsonl(directory):
    return sorted(str(p) for p in directory.glob('*.jsonl'))


def _expire(env, day):
    """Drop `day` from the raw telemetry tables, as their TTL does (whole day partitions); the
    billing exports are kept longer (otel_retention_days)."""
    tables = [r['table'] for r in sql_rows(env, f"select distinct table from system.parts where active "
                                                f"and database = 'otel' and startsWith(table, 'otel_') "
                                                f"and partition = '{day}' order by table")]
    assert 'otel_traces' in tables
    for table in tables:
        sql_write(env, f"alter table otel.{table} drop partition '{day}'")


def _override_row(env, project, day):
    """An override of the price of the model with the most calls on `day`."""
    model = sql_rows(env, f"""
        select calls.provider as provider, calls.model_family as model_family, calls.priced_model as pattern,
               providers.catalogue_provider as catalogue_provider
        from llm.fct_llm_calls as calls
        inner join llm.price_providers as providers on calls.provider = providers.provider
        where calls.call_date = '{day}' and calls.priced_model is not null
          and calls.priced_model not in (select model_pattern from llm.model_price_overrides)
        group by all order by count() desc, pattern limit 1""")[0]
    with open(project / 'seeds' / 'model_price_overrides.csv', newline='') as fh:
        header = next(csv.reader(fh))
    row = dict.fromkeys(header, '')
    row.update(catalogue_provider=model['catalogue_provider'], model_family=model['model_family'],
               model_pattern=model['pattern'], pattern_priority='0', valid_from='2023-01-01',
               input_usd_per_mtok=NEW_INPUT_PRICE, output_usd_per_mtok=NEW_OUTPUT_PRICE, currency='USD',
               source='tests/test_reprice.py', reason='a corrected price')
    return header, row, model


def _add_override(project, header, row):
    with open(project / 'seeds' / 'model_price_overrides.csv', 'a', newline='') as fh:
        csv.DictWriter(fh, header).writerow(row)


def _killed_when_logged(args, env, log, line, timeout=600):
    """Run `args` in a session of its own and SIGKILL it (dbt child included) once `log` gets `line`."""
    release_warehouses()
    offset = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen(args, cwd=ROOT, env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline and proc.poll() is None:
        if log.exists():
            with open(log, errors='replace') as fh:
                fh.seek(offset)
                if line in fh.read():
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
        clock.sleep(0.05)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == -signal.SIGKILL, f'not killed at {line!r}:\n{output}'
    return output


def _built(env, project, billing, *otlp):
    """init, the telemetry and billing exports loaded, one build: a warehouse as the schedule leaves it."""
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *otlp, env_extra=env, check=True)
    llmwh('load', 'usage', '--provider', 'openai', *billing, env_extra=env, check=True)
    dbt(*BUILD, env_extra=env, cwd=project, check=True)


def _day_calls(env, day, pattern):
    return sql_rows(env, f"""
        select call_id, cost_usd, priced_model from llm.fct_llm_calls
        where call_date = '{day}' and priced_model = '{pattern}' order by call_id""")


@pytest.fixture(scope='module')
def repriced(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('reprice')
    project = _copy_project(tmp_path_factory.mktemp('project'))
    gen, first, second = tmp / 'gen', tmp / 'first', tmp / 'second'
    first.mkdir()
    second.mkdir()
    # The day before yesterday to today: the newest data is fresh, so the cycle's freshness passes.
    today = datetime.now(timezone.utc).date()
    llmwh('generate', '--out', str(gen), '--days', '3', '--start', (today - timedelta(days=2)).isoformat(),
          '--seed', '13', '--conversations', '40', check=True)
    _split(gen, first, second, today)
    billing = [str(gen / 'billing' / 'openai_usage_completions.jsonl')]

    env = {**warehouse_env(tmp / 'repriced', profiles_dir), 'LLMWH_PROJECT_DIR': str(project)}
    _built(env, project, billing, *_jsonl(first))
    expired_day = sql_rows(env, 'select toString(min(call_date)) as day from llm.fct_llm_calls')[0]['day']
    header, row, model = _override_row(env, project, expired_day)
    before = _day_calls(env, expired_day, model['pattern'])

    _expire(env, expired_day)
    llmwh('load', 'otlp', *_jsonl(second), env_extra=env, check=True)
    _add_override(project, header, row)
    killed = _killed_when_logged([str(BIN / 'llmwh'), 'run', '--reprice'], env,
                                 tmp / 'repriced' / 'logs' / 'dbt.log', KILL_AFTER)
    run = llmwh('run', env_extra=env)
    raw_left = sql_rows(env, f"select count() as n from otel.otel_traces where toDate(Timestamp) = '{expired_day}'")
    extracted = sql_rows(env, f"select count() as n from llm_intermediate.int_spans_deduplicated "
                              f"where span_date = '{expired_day}'")
    dbt(*BUILD, env_extra=env, cwd=project, check=True)
    after = _day_calls(env, expired_day, model['pattern'])
    got = marts_of(env)

    # One build of everything with the new prices, raw data all there.
    reference_env = {**warehouse_env(tmp / 'reference', profiles_dir), 'LLMWH_PROJECT_DIR': str(project)}
    _built(reference_env, project, billing, *_jsonl(first), *_jsonl(second))
    return {'killed': killed, 'run': run, 'got': got, 'expected': marts_of(reference_env), 'before': before, 'after': after,
            'raw_left': raw_left[0]['n'], 'extracted': extracted[0]['n']}


def test_the_cycle_after_a_killed_reprice_reprices_and_says_so(repriced):
    assert 're-pricing: the price seeds' in repriced['killed']
    run = repriced['run']
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'recovered a stale run lock' in run.stderr
    assert 're-pricing: the last re-pricing cycle did not finish' in run.stderr


def test_the_oldest_day_is_held_only_by_the_warehouse_tables(repriced):
    """The case that matters: a full rebuild from raw would lose the day."""
    assert repriced['raw_left'] < repriced['extracted']


def test_calls_of_a_day_the_raw_tables_dropped_are_repriced_not_lost(repriced):
    before, after = repriced['before'], repriced['after']
    assert before and [c['call_id'] for c in after] == [c['call_id'] for c in before]
    changed = [(b['cost_usd'], a['cost_usd']) for b, a in zip(before, after) if b['cost_usd'] != a['cost_usd']]
    assert len(changed) == sum(b['cost_usd'] is not None and b['cost_usd'] > 0 for b in before) > 0


@pytest.mark.parametrize('mart', list(MARTS))
def test_repriced_marts_equal_one_build_with_the_new_prices(repriced, mart):
    assert repriced['got'][mart] == repriced['expected'][mart]
