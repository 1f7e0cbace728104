"""`llmwh run`: one scheduled cycle, locked, recorded in otel.llmwh_runs, with exit codes
that tell data-quality failures from infrastructure failures."""

import json
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from conftest import ROOT, llmwh, warehouse_env
from llmwh.errors import ExitCode
from llmwh.run import cycle
from llmwh.run.checks import default_checks
from llmwh.run.lock import RunLock

DATA = ROOT / 'tests' / 'data' / 'billing'
MARTS = ('fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily')


def _mart_rows(env) -> dict:
    query = ' union all '.join(f"select '{m}' as mart, count() as n from llm.{m}" for m in MARTS)
    out = llmwh('sql', query, '--format', 'json', env_extra=env, check=True).stdout
    return {row['mart']: int(row['n']) for row in map(json.loads, out.splitlines())}


def _runs(env) -> list:
    out = llmwh('sql', 'select run_id, status, exit_code, models_built, rows, freshness, tests_run, '
                'tests_failed, failures, failed_checks from otel.llmwh_runs order by started_at', '--format', 'json',
                env_extra=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


@pytest.fixture(scope='module')
def runs(tmp_path_factory, profiles_dir):
    """init, load 2 small generated days, `llmwh run`; then a stale lock and `llmwh run` again."""
    tmp = tmp_path_factory.mktemp('run')
    env = warehouse_env(tmp, profiles_dir)
    # Yesterday and today: the newest data is fresh whatever the hour, so freshness passes.
    start = (date.today() - timedelta(days=1)).isoformat()
    llmwh('generate', '--out', str(tmp / 'gen'), '--days', '2', '--conversations', '20', '--start', start,
          '--seed', '7', check=True)
    llmwh('init', env_extra=env, check=True)
    otlp = [str(tmp / 'gen' / f'{name}.jsonl') for name in ('traces', 'logs', 'metrics')]
    llmwh('load', 'otlp', *otlp, env_extra=env, check=True)
    # Billing exports too: their sources have freshness thresholds as well.
    llmwh('load', 'usage', '--provider', 'openai', str(tmp / 'gen/billing/openai_usage_completions.jsonl'),
          str(DATA / 'openai_costs.json'), env_extra=env, check=True)
    llmwh('load', 'usage', '--provider', 'anthropic', str(tmp / 'gen/billing/anthropic_usage_messages.jsonl'),
          env_extra=env, check=True)
    first = llmwh('run', env_extra=env)
    after_first = _mart_rows(env)
    lock_file = tmp / '.wh.llmwh-run.lock'
    assert lock_file.exists() and lock_file.read_text() == ''      # released: emptied
    lock_file.write_text(f'pid={_dead_pid()} host=elsewhere started=2026-01-01T00:00:00+00:00\n')
    second = llmwh('run', env_extra=env)
    return dict(env=env, tmp=tmp, lock_file=lock_file, first=first, second=second,
                after_first=after_first, after_second=_mart_rows(env))


def test_two_runs_in_a_row_succeed(runs):
    from llmwh.run.checks import load_suites
    expectations = sum(len(s['expectations']) for s in load_suites())
    for proc in (runs['first'], runs['second']):
        assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
        assert ': success in ' in proc.stdout
        # The great-expectations checkpoint ran on the marts.
        assert f'checks: {expectations} run, 0 failed' in proc.stdout


def test_the_second_run_does_no_duplicate_work(runs):
    assert all(runs['after_first'][m] > 0 for m in MARTS), runs['after_first']
    assert runs['after_second'] == runs['after_first']


def test_both_runs_are_recorded(runs):
    recorded = _runs(runs['env'])
    assert len(recorded) == 2
    for record in recorded:
        assert record['status'] == 'success' and record['exit_code'] == 0
        assert record['models_built'] > 0 and record['tests_run'] > 0 and record['tests_failed'] == 0
        assert record['failed_checks'] == []
        assert record['failures'] == []
        assert record['rows']['llm.fct_traces'] == runs['after_first']['fct_traces']
        assert record['freshness'] and set(record['freshness'].values()) <= {'pass', 'warn'}
    assert recorded[0]['run_id'] != recorded[1]['run_id']


def test_a_run_builds_and_tests_the_data_but_leaves_unit_tests_to_ci(runs):
    results = json.loads((runs['tmp'] / 'target' / 'run_results.json').read_text())['results']
    kinds = {r['unique_id'].split('.')[0] for r in results}
    assert {'model', 'test'} <= kinds
    assert 'unit_test' not in kinds


def test_a_stale_lock_is_recovered(runs):
    assert 'recovered a stale run lock left by pid' in runs['second'].stderr
    assert runs['lock_file'].read_text() == ''


def test_an_overlapping_run_is_refused_at_once(runs):
    before = len(_runs(runs['env']))
    with RunLock(runs['lock_file']):
        started = time.monotonic()
        proc = llmwh('run', env_extra=runs['env'])
        elapsed = time.monotonic() - started
    assert proc.returncode == ExitCode.LOCKED, proc.stdout + proc.stderr
    assert elapsed < 30
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith('llmwh: error: another llmwh run holds the lock')
    assert 'pid ' in errors[0]
    assert len(_runs(runs['env'])) == before       # nothing ran, nothing recorded


def test_run_without_init_is_an_infrastructure_failure(tmp_path, profiles_dir):
    env = warehouse_env(tmp_path, profiles_dir)
    proc = llmwh('run', env_extra=env)
    assert proc.returncode == ExitCode.INFRASTRUCTURE, proc.stdout + proc.stderr


# ------------------------------------------------- classification, without dbt

def _fake_dbt(tmp_path, monkeypatch, results, returncode=1):
    monkeypatch.setenv('DBT_TARGET_PATH', str(tmp_path))

    def fake(target, args, echo):
        if args[0] == 'build' and results is not None:
            (tmp_path / 'run_results.json').write_text(json.dumps({'results': results}))
        return subprocess.CompletedProcess(args, returncode, 'boom\n', '')
    monkeypatch.setattr(cycle, '_dbt', fake)


def _record():
    return cycle.RunRecord(run_id='r', started_at=None, target='t')


def test_the_checks_set_up_runs_once_in_the_background():
    """great-expectations takes seconds to import: the cycle starts it before the dbt steps
    and does not wait for it."""
    calls, release = [], threading.Event()

    def prepare():
        calls.append(threading.current_thread())
        release.wait(30)
    threads = cycle._prepare([SimpleNamespace(prepare=prepare), SimpleNamespace(prepare=prepare), object()])
    try:
        assert len(threads) == 1 and threads[0].is_alive()      # returned while prepare still runs
        threads[0].join(0.5)
        assert calls == threads
    finally:
        release.set()
    threads[0].join(30)


def test_a_failing_set_up_is_left_to_the_check_itself(monkeypatch):
    uncaught = []
    monkeypatch.setattr(threading, 'excepthook', uncaught.append)

    def prepare():
        raise RuntimeError('no great_expectations')
    for thread in cycle._prepare([SimpleNamespace(prepare=prepare)]):
        thread.join(30)
    assert uncaught == []


def test_the_gx_checks_share_one_set_up():
    assert len({check.prepare for check in default_checks()}) == 1 < len(default_checks())


def test_a_failing_test_is_a_data_quality_failure(tmp_path, monkeypatch):
    _fake_dbt(tmp_path, monkeypatch, [
        {'unique_id': 'model.llm_otel.fct_traces', 'status': 'success'},
        {'unique_id': 'test.llm_otel.unique_fct_traces_trace_id.abc', 'status': 'fail', 'message': 'Got 2 results'},
        {'unique_id': 'test.llm_otel.not_null_fct_traces_trace_id.def', 'status': 'pass'},
    ])
    record = _record()
    cycle._build(None, record, lambda *a, **k: None, ())
    assert record.status == cycle.DATA_QUALITY and record.exit_code == ExitCode.DATA_QUALITY
    assert record.failed_checks == ['unique_fct_traces_trace_id']
    assert 'unique_fct_traces_trace_id' in str(record.error())
    assert record.tests_run == 2 and record.tests_failed == 1 and record.models_built == 1


def test_a_model_error_is_an_infrastructure_failure(tmp_path, monkeypatch):
    _fake_dbt(tmp_path, monkeypatch, [
        {'unique_id': 'model.llm_otel.fct_traces', 'status': 'error', 'message': 'Code: 60. Unknown table'},
        {'unique_id': 'test.llm_otel.unique_fct_traces_trace_id.abc', 'status': 'fail'},
    ])
    record = _record()
    cycle._build(None, record, lambda *a, **k: None, ())
    assert record.status == cycle.INFRASTRUCTURE and record.exit_code == ExitCode.INFRASTRUCTURE
    assert any('Unknown table' in f for f in record.failures)


MODEL_OK = {'unique_id': 'model.llm_otel.fct_llm_calls', 'status': 'success'}
TEST_FAILED = {'unique_id': 'test.llm_otel.assert_llm_calls_unique_per_trace', 'status': 'fail'}
MODEL_SKIPPED = {'unique_id': 'model.llm_otel.fct_traces', 'status': 'skipped'}   # below a failed test
MODEL_ERROR = {'unique_id': 'model.llm_otel.fct_traces', 'status': 'error', 'message': 'Code: 60'}


@pytest.mark.parametrize('results, built', [
    ([MODEL_OK, TEST_FAILED], True),
    ([MODEL_OK, TEST_FAILED, MODEL_SKIPPED], False),
    ([MODEL_OK, MODEL_ERROR], False),
    (None, False),
])
def test_a_build_built_only_when_every_selected_model_did(tmp_path, monkeypatch, results, built):
    _fake_dbt(tmp_path, monkeypatch, results, returncode=1 if results else 2)
    assert cycle._build(None, _record(), lambda *a, **k: None, ()) is built


def test_a_reprice_that_did_not_build_is_redone_by_the_next_cycle(tmp_path, monkeypatch):
    """`llmwh run --reprice` leaves a marker until its build built every model; a plain cycle
    that finds it re-prices instead of building incrementally."""
    builds, outcomes = [], [[MODEL_OK, TEST_FAILED, MODEL_SKIPPED], [MODEL_OK, TEST_FAILED], [MODEL_OK]]
    monkeypatch.setenv('DBT_TARGET_PATH', str(tmp_path))

    def fake(target, args, echo):
        builds.append(tuple(args[1:]))
        (tmp_path / 'run_results.json').write_text(json.dumps({'results': outcomes[len(builds) - 1]}))
        return subprocess.CompletedProcess(args, 1, '', '')
    monkeypatch.setattr(cycle, '_dbt', fake)
    for name in ('_check_warehouse', '_freshness', '_count_rows', '_record', '_close'):
        monkeypatch.setattr(cycle, name, lambda *a, **k: None)
    monkeypatch.setattr(cycle, '_open', lambda target: None)
    lock = tmp_path / 'run.lock'
    target = SimpleNamespace(name='t', describe=lambda: 't')
    marker = cycle.pending_reprice_file(lock)

    cycle.run_cycle(target, lock_file=lock, reprice=True)       # a test failed, a model below it skipped
    assert marker.exists()
    cycle.run_cycle(target, lock_file=lock)                     # re-prices: every model built
    assert not marker.exists()
    cycle.run_cycle(target, lock_file=lock)                     # back to incremental
    assert builds == [(*cycle.BUILD_ARGS, *cycle.REPRICE_ARGS)] * 2 + [cycle.BUILD_ARGS]


def test_dbt_that_writes_no_results_is_an_infrastructure_failure(tmp_path, monkeypatch):
    _fake_dbt(tmp_path, monkeypatch, None, returncode=2)
    record = _record()
    cycle._build(None, record, lambda *a, **k: None, ())
    assert record.status == cycle.INFRASTRUCTURE and 'boom' in record.message


def _freshness_of(tmp_path, monkeypatch, results, optional=()):
    """cycle._freshness with a dbt that writes sources.json and manifest.json as dbt does."""
    monkeypatch.setenv('DBT_TARGET_PATH', str(tmp_path))

    def fake(target, args, echo):
        (tmp_path / 'sources.json').write_text(json.dumps({'results': [
            {'unique_id': uid, 'status': status, 'max_loaded_at': loaded} for uid, status, loaded in results]}))
        (tmp_path / 'manifest.json').write_text(json.dumps({'sources': {
            uid: {'meta': {'optional': True} if uid in optional else {}} for uid, _, _ in results}}))
        return subprocess.CompletedProcess(args, 1, '', '')
    monkeypatch.setattr(cycle, '_dbt', fake)
    record = _record()
    cycle._freshness(None, record, lambda *a, **k: None, ())
    return record


def test_an_optional_source_never_loaded_is_not_a_failure(tmp_path, monkeypatch):
    usage = 'source.llm_otel.billing.provider_usage'
    record = _freshness_of(tmp_path, monkeypatch, [
        (usage, 'error', '1970-01-01T00:00:00+00:00'),
        ('source.llm_otel.otel.otel_traces', 'pass', '2026-11-30T15:01:00+00:00')], optional={usage})
    assert record.freshness == {'billing.provider_usage': 'not loaded', 'otel.otel_traces': 'pass'}
    assert record.status == 'success' and record.failures == []


def test_an_optional_source_once_loaded_is_held_to_its_thresholds(tmp_path, monkeypatch):
    usage = 'source.llm_otel.billing.provider_usage'
    record = _freshness_of(tmp_path, monkeypatch, [(usage, 'error', '2026-10-01T00:00:00+00:00')],
                           optional={usage})
    assert record.freshness == {'billing.provider_usage': 'error'}
    assert record.exit_code == ExitCode.DATA_QUALITY


def test_an_empty_raw_telemetry_table_is_still_stale(tmp_path, monkeypatch):
    record = _freshness_of(tmp_path, monkeypatch, [
        ('source.llm_otel.otel.otel_traces', 'error', '1970-01-01T00:00:00+00:00')])
    assert record.freshness == {'otel.otel_traces': 'error'}
    assert record.exit_code == ExitCode.DATA_QUALITY


def test_the_billing_sources_are_the_optional_ones(runs):
    manifest = json.loads((runs['tmp'] / 'target' / 'manifest.json').read_text())
    optional = {node['source_name'] for node in manifest['sources'].values() if node['meta'].get('optional')}
    assert optional == {'billing'}


def test_a_failing_check_names_itself(tmp_path):
    record = _record()
    checks = [lambda wh: [cycle.CheckResult('fct_traces.trace_id not null', True),
                          cycle.CheckResult('fct_llm_calls.cost_usd >= 0', False, '3 of 90 rows')]]
    cycle._run_checks(None, checks, record, lambda *a, **k: None)
    assert record.status == cycle.DATA_QUALITY
    assert record.failed_checks == ['fct_llm_calls.cost_usd >= 0']
    assert 'fct_llm_calls.cost_usd >= 0' in str(record.error())


# ------------------------------------------------- the great-expectations checkpoint

def test_the_gx_suites_load_and_name_their_queries_marts():
    from llmwh.run.checks import default_checks, load_suites
    suites = {s['name']: s for s in load_suites()}
    assert set(suites) >= {'fct_llm_calls', 'fct_traces'}
    for name, spec in suites.items():
        assert f'llm.{name}' in spec['meta']['query'] and spec['expectations']
    assert len(default_checks()) == len(suites)


def test_a_failing_expectation_names_itself_on_the_warehouse(wh):
    from llmwh.run.checks import GxSuiteCheck
    wh.command('create database if not exists gx_test')
    wh.command('create or replace table gx_test.calls (call_id String, cost_usd Nullable(Float64)) '
               'engine = MergeTree order by call_id')
    wh.command("insert into gx_test.calls values ('a', 0.5), ('b', -1), ('c', NULL)")
    spec = {'name': 'calls', 'meta': {'query': 'select call_id, cost_usd from gx_test.calls'},
            'expectations': [
                {'type': 'expect_column_values_to_be_between', 'kwargs': {'column': 'cost_usd', 'min_value': 0}},
                {'type': 'expect_column_values_to_be_unique', 'kwargs': {'column': 'call_id'}}]}
    results = GxSuiteCheck(spec)(wh)
    assert [(r.name, r.success) for r in results] == [
        ('calls: expect_column_values_to_be_between(cost_usd)', False),
        ('calls: expect_column_values_to_be_unique(call_id)', True)]
    assert results[0].detail == '1 of 3 rows unexpected'
    record = _record()
    cycle._run_checks(wh, [GxSuiteCheck(spec)], record, lambda *a, **k: None)
    assert record.exit_code == ExitCode.DATA_QUALITY
    assert record.failed_checks == ['calls: expect_column_values_to_be_between(cost_usd)']
