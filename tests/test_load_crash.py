"""Issue 10, crash recovery of `llmwh load otlp`: a load killed with SIGKILL at
any point, rerun, ends with the raw rows and marts of an undisturbed load.

The kills use the loader's test hook LLMWH_FAULT (README, "Guarantees"):
`after_insert:<table>` kills the process right after a table's insert commits,
`before_record` after all of a file's inserts but before the file is recorded
in llmwh_loaded_files. One warehouse goes through a partial file, its
completed version and a kill at each point; another loads the same files
once. Both are then built and compared: raw row counts and contents, the
trace-id lookup, and every mart.
"""

import signal

import pytest

from conftest import dbt, llmwh, warehouse_env, sql_rows as q

FILES = ('traces.jsonl', 'logs.jsonl', 'metrics.jsonl')
RAW = ('otel_traces', 'otel_logs', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram',
       'otel_metrics_exponential_histogram', 'otel_metrics_summary')
MARTS = ('fct_llm_calls', 'fct_traces', 'fct_conversations', 'fct_model_daily', 'fct_data_quality_issues')
KILLED = -signal.SIGKILL


def hashed_columns(env, database, tables, column_filter='', rounded=False) -> dict:
    """Per table: the column expressions its fingerprint hashes."""
    names = ', '.join(f"'{t}'" for t in tables)
    columns = {}
    for c in q(env, f"select table, name, type from system.columns where database = '{database}' "
                    f"and table in ({names}) {column_filter} order by table, position"):
        # Floats rounded: the summation order of two builds may differ in the last bits.
        float_column = rounded and 'Float' in c['type'] and 'Array' not in c['type']
        columns.setdefault(c['table'], []).append(f"round(`{c['name']}`, 6)" if float_column else f"`{c['name']}`")
    return columns


def fingerprints(env, database, columns, extra=()) -> dict:
    """Per table: rows and an order-independent fingerprint of their content, in one query."""
    union = ' union all '.join(
        [f"select '{t}' as t, count() as n, sum(cityHash64({', '.join(cols)})) as h from {database}.{t}"
         for t, cols in columns.items()] + list(extra))
    return {r['t']: (int(r['n']), r['h']) for r in q(env, union)}


RAW_EXTRA = (
    # The lookup gets a row per trace and insert block; what it answers must match.
    "select 'otel_traces_trace_id_ts' as t, count() as n, sum(cityHash64(*)) as h from ("
    'select TraceId, min(Start), max(End) from otel.otel_traces_trace_id_ts group by TraceId)',
    "select 'llmwh_loaded_files' as t, count() as n, 0 as h from otel.llmwh_loaded_files",
)


def raw_state(env, columns):
    return fingerprints(env, 'otel', columns, RAW_EXTRA)


def load(env, *paths, fault=None):
    extra = dict(env, LLMWH_FAULT=fault) if fault else env
    return llmwh('load', 'otlp', *map(str, paths), env_extra=extra)


def build(env):
    dbt('build', '--select', *(f'+{m}' for m in MARTS), '--exclude-resource-type', 'test', env_extra=env,
        check=True)


@pytest.fixture(scope='module')
def telemetry(tmp_path_factory):
    out = tmp_path_factory.mktemp('crash_data')
    llmwh('generate', '--out', str(out), '--days', '2', '--conversations', '8', '--seed', '11', check=True)
    return out


@pytest.fixture(scope='module')
def undisturbed(tmp_path_factory, profiles_dir, telemetry):
    env = warehouse_env(tmp_path_factory.mktemp('crash_undisturbed'), profiles_dir)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    load(env, *(telemetry / f for f in FILES)).check_returncode()
    build(env)
    raw = hashed_columns(env, 'otel', RAW, "and default_kind != 'MATERIALIZED'")
    marts = hashed_columns(env, 'llm', MARTS, rounded=True)
    return env, raw, marts, raw_state(env, raw), fingerprints(env, 'llm', marts)


@pytest.fixture(scope='module')
def crashed(tmp_path_factory, profiles_dir, telemetry, undisturbed):
    """A warehouse loaded through a partial file and four kills, then a clean rerun."""
    _, raw, marts, full, _ = undisturbed
    tmp = tmp_path_factory.mktemp('crash_disturbed')
    env = warehouse_env(tmp, profiles_dir)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    traces = tmp / 'traces.jsonl'
    lines = (telemetry / 'traces.jsonl').read_text().splitlines(keepends=True)
    traces.write_text(''.join(lines[:len(lines) // 2]))   # the exporter's file, half written
    load(env, traces).check_returncode()
    steps = []

    def step(fault):
        proc = load(env, traces, telemetry / 'logs.jsonl', telemetry / 'metrics.jsonl', fault=fault)
        steps.append((proc, raw_state(env, raw)))

    traces.write_text(''.join(lines))                      # ... and complete
    step('after_insert:otel_traces')
    step('before_record')
    step('after_insert:otel_logs')
    first_metrics = min(t for t in RAW if t.startswith('otel_metrics') and full[t][0])
    step(f'after_insert:{first_metrics}')
    step(None)
    build(env)
    return steps, first_metrics, raw_state(env, raw), fingerprints(env, 'llm', marts)


def without_records(state):
    return {t: v for t, v in state.items() if t != 'llmwh_loaded_files'}


def test_every_fault_point_killed_the_load(crashed):
    steps, _, _, _ = crashed
    assert [proc.returncode for proc, _ in steps] == [KILLED] * 4 + [0]


def test_a_killed_load_left_its_rows_unrecorded_and_the_rerun_added_none(crashed, undisturbed):
    full = undisturbed[3]
    steps, first_metrics, _, _ = crashed
    after_traces, before_record, after_logs, after_metrics = [state for _, state in steps[:4]]
    # Killed after the insert, before the record (the window of issue 10): only
    # the partial file is recorded, yet the rerun adds no span.
    assert after_traces['otel_traces'] == full['otel_traces'] and after_traces['llmwh_loaded_files'][0] == 1
    assert before_record['otel_traces'] == full['otel_traces'] and before_record['llmwh_loaded_files'][0] == 1
    assert after_logs['otel_logs'] == full['otel_logs'] and after_logs['llmwh_loaded_files'][0] == 2
    assert after_metrics[first_metrics] == full[first_metrics] and after_metrics['llmwh_loaded_files'][0] == 3


def test_reruns_warn_that_rows_were_already_present(crashed):
    steps, first_metrics, _, _ = crashed
    outputs = [proc.stdout + proc.stderr for proc, _ in steps]
    # The completed file shares its first half with the partial load.
    assert 'otel_traces rows were already in the warehouse' in outputs[0]
    assert 'otel_traces rows were already in the warehouse' in outputs[1]
    assert f'{first_metrics} rows were already in the warehouse' in outputs[4]


def test_the_rerun_converges_to_the_raw_rows_of_an_undisturbed_load(crashed, undisturbed):
    full = undisturbed[3]
    _, _, raw, _ = crashed
    assert without_records(raw) == without_records(full)
    assert full['otel_traces'][0] > 0 and full['otel_logs'][0] > 0


def test_the_rerun_converges_to_the_marts_of_an_undisturbed_load(crashed, undisturbed):
    marts = undisturbed[4]
    _, _, _, got = crashed
    assert got == marts
    assert marts['fct_llm_calls'][0] > 0
