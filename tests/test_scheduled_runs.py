"""The scheduled path equals one full build.

A warehouse built the way cron builds it (dbt build on empty tables, load part
of the telemetry, build, load the rest with late and duplicate deliveries and a
trace that crosses midnight over two runs, build, build again) must hold
exactly the marts of a warehouse that loaded everything and built once. So
must one whose builds were killed part way, once the next build finished.
"""

import sys

import pytest

from conftest import INIT_FIXED_DAYS, ROOT, dbt, llmwh, run, sql_rows, warehouse_env
from scheduled_telemetry import (BACKWARDS_DAY, BACKWARDS_TRACE, CROSSING_TRACE, DAYS, LONELY_DAY, LONELY_TRACE,
                                 MARTS, files, marts_of)

# Statements a build is killed before, or a moment after the engine started
# one (SIGKILL, engine included: tests/dbt_killed.py), in the order one build
# reaches them, each in a build of its own: the next build redoes the killed
# one's uncommitted work and goes on to the next kill point. Name: (statement
# pattern, seconds after its start).
KILL_POINTS = {
    # Part way through writing the new spans (the build's largest insert here).
    'during_insert': (r'insert into `llm_intermediate`\.`int_spans_deduplicated__dbt_new_data_', 0.2),
    # Its new spans written, no day swapped in yet.
    'day_replace': (r'alter table\s+`llm_intermediate`\.`int_spans_deduplicated`\s+replace partition', 0),
    # The calls replaced, the record of what was read not committed.
    'record_commit': (r"select\s+consumer,[\s\S]*consumer = 'int_llm_calls_priced'", 0),
    # The traces' days rebuilt aside, none swapped in.
    'trace_days_replace': (r'alter table\s+`llm`\.`fct_traces`\s+replace partition', 0),
    # The recomputed conversations deleted, their new rows not inserted.
    'insert_after_delete': (r'insert into `llm`\.`fct_conversations` select', 0),
}
WORK_TABLES = ("select concat(database, '.', name) as t from system.tables where database like 'llm%' "
               "and match(name, '__dbt_(new_data|rebuilt)_')")


@pytest.fixture(scope='module')
def killed(tmp_path_factory, profiles_dir, telemetry):
    """The scheduled path with a build killed at each of KILL_POINTS before the one that finishes."""
    first, second = telemetry
    env = warehouse_env(tmp_path_factory.mktemp('killed'), profiles_dir)
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    llmwh('load', 'otlp', *files(first), env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    llmwh('load', 'otlp', *files(second), env_extra=env, check=True)
    killed_build = [sys.executable, str(ROOT / 'tests' / 'dbt_killed.py')]
    exits = {point: run([*killed_build, pattern, '1', str(seconds), 'build'], env_extra=env).returncode
             for point, (pattern, seconds) in KILL_POINTS.items()}
    left = [r['t'] for r in sql_rows(env, WORK_TABLES)]
    finished = dbt('build', env_extra=env, check=True)
    return exits, left, marts_of(env), [r['t'] for r in sql_rows(env, WORK_TABLES)], finished.stdout


def test_every_kill_point_is_reached(killed):
    exits = killed[0]
    assert exits == {point: -9 for point in KILL_POINTS}


@pytest.mark.parametrize('mart', list(MARTS))
def test_builds_killed_part_way_then_one_finished_equal_one_full_build(killed, full, mart):
    marts = killed[2]
    assert len(marts[mart]) == len(full[mart])
    assert marts[mart] == full[mart]


def test_a_killed_builds_work_tables_are_dropped_by_the_next(killed):
    _, left, _, after, log = killed
    # The last killed build was writing fct_conversations' new rows.
    assert any(t.startswith('llm.fct_conversations__dbt_new_data_') for t in left), left
    assert after == []
    assert all(f'dropping {t}, left by a build that did not finish' in log for t in left)


@pytest.fixture(scope='module')
def scheduled(tmp_path_factory, profiles_dir, telemetry):
    first, second = telemetry
    env = warehouse_env(tmp_path_factory.mktemp('scheduled'), profiles_dir)
    llmwh(*INIT_FIXED_DAYS, env_extra=env, check=True)
    builds = [dbt('build', env_extra=env, check=True)]            # cron's first run: empty tables
    llmwh('load', 'otlp', *files(first), env_extra=env, check=True)
    builds.append(dbt('build', env_extra=env, check=True))
    after_first = marts_of(env)
    llmwh('load', 'otlp', *files(second), env_extra=env, check=True)
    builds.append(dbt('build', env_extra=env, check=True))
    marts = marts_of(env)
    builds.append(dbt('build', env_extra=env, check=True))     # a rerun with nothing new
    return marts, marts_of(env), after_first, builds


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


def test_a_day_whose_only_call_became_an_umbrella_leaves_the_rollups(scheduled):
    marts, _, after_first, _ = scheduled
    # After the first run the lonely root is its day's only call ...
    # ... its child arrives after midnight: the day has no call left, and no
    # rollup row may keep counting the root.
    assert [c['call_id'] for c in marts['fct_llm_calls'] if c['trace_id'] == LONELY_TRACE] == ['00000000000000b2']
    for mart, day in (('fct_model_daily', 'call_date'), ('fct_usage_hourly', 'call_date'),
                      ('fct_latency_buckets', 'bucket_date')):
        assert [r for r in after_first[mart] if r[day] == LONELY_DAY], mart
        assert not [r for r in marts[mart] if r[day] == LONELY_DAY], mart


def test_a_day_whose_only_call_has_no_duration_has_unknown_latencies(scheduled):
    """A span ending before it starts has no duration; alone on its day (and its trace), its latencies are NULL,
    not made up."""
    marts = scheduled[0]
    [call] = [c for c in marts['fct_llm_calls'] if c['trace_id'] == BACKWARDS_TRACE]
    assert call['duration_ms'] is None and call['input_tokens'] == 40
    [day] = [r for r in marts['fct_model_daily'] if r['call_date'] == BACKWARDS_DAY]
    assert day['calls'] == 1
    assert (day['duration_ms_p50'], day['duration_ms_p95'], day['duration_ms_p99']) == (None, None, None)
    [trace] = [t for t in marts['fct_traces'] if t['trace_id'] == BACKWARDS_TRACE]
    assert (trace['llm_calls'], trace['llm_time_ms'], trace['tool_time_ms']) == (1, None, 0)
    buckets = [r for r in marts['fct_latency_buckets'] if r['bucket_date'] == BACKWARDS_DAY]
    assert buckets and all(r['calls'] == 1 and r['duration_ms_p50'] is None and r['duration_ms_histogram'] == {}
                           for r in buckets)


def test_keys_are_unique_after_scheduled_runs(scheduled):
    marts = scheduled[0]
    for mart, key in MARTS.items():
        columns = [c.strip() for c in key.split(',')]
        keys = [tuple(r[c] for c in columns) for r in marts[mart]]
        assert len(keys) == len(set(keys)), mart
