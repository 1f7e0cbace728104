"""The CLI: clear one-line errors (never tracebacks), formats, profile handling."""

import json
import subprocess
import sys

import pytest

from conftest import BIN, ROOT, llmwh


def assert_clean_error(proc, *needles):
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert proc.stderr.startswith('llmwh: error: '), proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    """A warehouse created by `llmwh init` in a child process."""
    path = tmp_path_factory.mktemp('cli') / 'wh'
    proc = llmwh('init', '--path', str(path), '--profiles-dir', str(profiles_dir), check=True)
    assert 'otel_traces' in proc.stdout and 'created' in proc.stdout
    return path


def test_wrong_path_is_a_clear_error(tmp_path, profiles_dir):
    not_a_dir = tmp_path / 'file'
    not_a_dir.write_text('x')
    proc = llmwh('init', '--path', str(not_a_dir), '--profiles-dir', str(profiles_dir))
    assert_clean_error(proc, str(not_a_dir), 'not a directory')


def test_missing_warehouse_is_a_clear_error_and_not_created(tmp_path, profiles_dir):
    missing = tmp_path / 'nowhere'
    proc = llmwh('sql', 'select 1', '--path', str(missing), '--profiles-dir', str(profiles_dir))
    assert_clean_error(proc, 'no embedded warehouse at', 'llmwh init')
    assert not missing.exists()


def test_unknown_target_is_a_clear_error(profiles_dir):
    proc = llmwh('sql', 'select 1', '--target', 'prod-eu', '--profiles-dir', str(profiles_dir))
    assert_clean_error(proc, "unknown target 'prod-eu'", 'embedded', 'server', 'cluster')


def test_unknown_target_from_environment(profiles_dir):
    proc = llmwh('sql', 'select 1', '--profiles-dir', str(profiles_dir), env_extra={'LLMWH_TARGET': 'nope'})
    assert_clean_error(proc, "unknown target 'nope'")


def test_missing_profile_is_a_clear_error(tmp_path):
    proc = llmwh('sql', 'select 1', '--profiles-dir', str(tmp_path))
    assert_clean_error(proc, 'no profiles.yml found', 'profiles.example.yml')


def test_bad_sql_is_a_clear_error(warehouse, profiles_dir):
    proc = llmwh('sql', 'select nonsense_column from otel.otel_traces', '--path', str(warehouse),
                 '--profiles-dir', str(profiles_dir))
    assert_clean_error(proc, 'nonsense_column')


def test_bad_retention_is_a_clear_error(warehouse, profiles_dir):
    proc = llmwh('init', '--path', str(warehouse), '--profiles-dir', str(profiles_dir),
                 '--retention', 'otel_logs=forever')
    assert_clean_error(proc, 'TABLE=DAYS')


def test_warehouse_in_use_by_another_process_is_a_clear_error(warehouse, profiles_dir):
    holder = subprocess.Popen(
        [sys.executable, '-c',
         'import sys, dbt_chdb_engine; dbt_chdb_engine.shared_client(sys.argv[1]).query("select 1");'
         'print("open", flush=True); sys.stdin.read()', str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'open'
        proc = llmwh('sql', 'select 1', '--path', str(warehouse), '--profiles-dir', str(profiles_dir))
        assert_clean_error(proc, 'another process has it open')
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_a_warehouse_the_engine_cannot_read_says_why(tmp_path, profiles_dir):
    """Not every failed start is another process holding the directory: the
    engine's own reason (here a metadata file it cannot parse) is the error."""
    path = tmp_path / 'wh'
    llmwh('init', '--path', str(path), '--profiles-dir', str(profiles_dir), check=True)
    (path / 'metadata' / 'broken.sql').write_text('this is not sql\n')
    proc = llmwh('sql', 'select 1', '--path', str(path), '--profiles-dir', str(profiles_dir))
    assert_clean_error(proc, 'metadata/broken.sql', 'Syntax error')
    assert 'another process' not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_sql_formats(warehouse, profiles_dir):
    args = ['--path', str(warehouse), '--profiles-dir', str(profiles_dir)]
    query = "select number as n, toString(number * 2) as s from numbers(3)"
    out = llmwh('sql', query, '--format', 'json', *args, check=True).stdout
    assert [json.loads(line) for line in out.splitlines()] == [
        {'n': 0, 's': '0'}, {'n': 1, 's': '2'}, {'n': 2, 's': '4'}]
    out = llmwh('sql', query, '-f', 'tsv', *args, check=True).stdout
    assert out.splitlines() == ['n\ts', '0\t0', '1\t2', '2\t4']
    out = llmwh('sql', query, '-f', 'csv', *args, check=True).stdout
    assert out.splitlines()[0] == '"n","s"'
    table = llmwh('sql', query, *args, check=True).stdout
    assert '┌─n─┬─s─┐' in table
    assert table.endswith('\n') and len(table.splitlines()) == 5


def test_sql_reads_stdin(warehouse, profiles_dir):
    proc = subprocess.run([str(BIN / 'llmwh'), 'sql', '-', '-f', 'tsv', '--path', str(warehouse),
                           '--profiles-dir', str(profiles_dir)],
                          input='select 40 + 2 as answer;\n', capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ['answer', '42']


def test_init_twice_reports_existing_tables(warehouse, profiles_dir):
    proc = llmwh('init', '--path', str(warehouse), '--profiles-dir', str(profiles_dir), check=True)
    lines = [line.split() for line in proc.stdout.splitlines()[1:]]
    # + provider_usage/costs, + llmwh_loaded_files/quarantine, + llmwh_runs
    assert len(lines) == 9 + 2 + 2 + 1 and all(state == 'exists' for _, state in lines)


def test_init_warns_when_configured_retention_differs(warehouse, profiles_dir):
    proc = llmwh('init', '--path', str(warehouse), '--profiles-dir', str(profiles_dir),
                 '--retention', 'otel_logs=7', check=True)
    assert 'otel_logs keeps its retention of 30 days (configured: 7)' in proc.stderr


def test_ddl_command_prints_cluster_form():
    out = llmwh('ddl', '--cluster', 'prod', check=True).stdout
    # + provider_usage/costs, llmwh_loaded_files/quarantine and llmwh_runs, local and Distributed
    assert out.count('on cluster `prod`') == 18 + 4 + 4 + 2
    assert 'ReplicatedMergeTree(' in out and 'Distributed(`prod`' in out


# ---------------------------------------------------------------- safety (issue 10)

def wh_args(warehouse, profiles_dir):
    return ['--path', str(warehouse), '--profiles-dir', str(profiles_dir)]


def test_sql_is_read_only_unless_write(warehouse, profiles_dir):
    args = wh_args(warehouse, profiles_dir)
    llmwh('sql', '--write', 'create table if not exists default.scratch (n UInt8) engine = MergeTree order by n',
          *args, check=True)
    for statement in ('insert into default.scratch select 1', 'drop table default.scratch',
                      'truncate table default.scratch', 'alter table default.scratch delete where 1'):
        proc = llmwh('sql', statement, *args)
        assert_clean_error(proc, 'readonly', 'add --write')
    out = llmwh('sql', 'select count() from system.tables where database = \'default\' and name = \'scratch\'',
                '-f', 'tsv', *args, check=True).stdout
    assert out.splitlines() == ['count()', '1']
    # Settings may still change per query in read-only mode (readonly=2, not 1).
    out = llmwh('sql', 'select 7 as n settings max_threads = 1', '-f', 'tsv', *args, check=True).stdout
    assert out.splitlines() == ['n', '7']
    llmwh('sql', '--write', 'insert into default.scratch select 1', *args, check=True)
    llmwh('sql', '--write', 'drop table default.scratch', *args, check=True)
    out = llmwh('sql', "select count() from system.tables where name = 'scratch'", '-f', 'tsv', *args,
                check=True).stdout
    assert out.splitlines() == ['count()', '0']


def test_sql_write_runs_insert_values_and_set(warehouse, profiles_dir):
    # No FORMAT clause is appended to statements that return no rows.
    args = wh_args(warehouse, profiles_dir)
    llmwh('sql', '--write', 'create table default.scratch_values (n UInt8) engine = MergeTree order by n',
          *args, check=True)
    assert_clean_error(llmwh('sql', 'insert into default.scratch_values values (9)', *args),
                       'readonly', 'add --write')
    llmwh('sql', '--write', 'insert into default.scratch_values values (1), (2)', *args, check=True)
    llmwh('sql', '--write', '\n-- a comment first\n/* and another */ INSERT INTO default.scratch_values VALUES (3);',
          *args, check=True)
    for write in (['--write'], []):
        assert llmwh('sql', *write, 'set max_threads = 1', *args, check=True).stdout == ''
    out = llmwh('sql', '(select groupArray(n) as ns from (select n from default.scratch_values order by n))',
                '-f', 'tsv', *args, check=True).stdout
    assert out.splitlines() == ['ns', '[1,2,3]']
    llmwh('sql', '--write', 'drop table default.scratch_values', *args, check=True)


def test_sql_syntax_error_is_one_line_without_the_format_clause(warehouse, profiles_dir):
    proc = llmwh('sql', 'selec 1', '-f', 'tsv', *wh_args(warehouse, profiles_dir))
    assert_clean_error(proc, 'Syntax error')
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert 'FORMAT' not in proc.stderr and 'TabSeparated' not in proc.stderr


def test_ddl_cluster_name_cannot_inject_a_statement():
    out = llmwh('ddl', '--cluster', "c'; drop table t; --", check=True).stdout
    statements = [s for s in out.split(';\n') if s.strip()]
    assert not any(line.strip().lower().startswith('drop') for line in out.splitlines())
    assert all('on cluster `c\'; drop table t; --`' in s or 'Distributed' in s or 'as ' in s
               for s in statements if 'on cluster' in s)
    # As many statements as with a harmless cluster name: nothing was injected.
    plain = llmwh('ddl', '--cluster', 'c', check=True).stdout
    assert len(statements) == len([s for s in plain.split(';\n') if s.strip()])


def test_unknown_retention_table_lists_the_known_tables():
    proc = llmwh('ddl', '--retention', 'otel_trace=7')
    assert_clean_error(proc, 'unknown table otel_trace', 'otel_traces', 'provider_usage', 'default')
    assert llmwh('ddl', '--retention', 'otel_traces=7', '--retention', 'default=30').returncode == 0


def test_loads_honour_database(tmp_path, profiles_dir):
    args = wh_args(tmp_path / 'wh', profiles_dir)
    llmwh('init', '--database', 'other_raw', *args, check=True)
    llmwh('load', 'sample', '--database', 'other_raw', *args, check=True)
    usage = ROOT / 'tests' / 'data' / 'billing' / 'openai_completions_page.json'
    llmwh('load', 'usage', '--provider', 'openai', '--database', 'other_raw', str(usage), *args, check=True)
    out = llmwh('sql', "select (select count() from other_raw.otel_traces) > 0 as traces, "
                       "(select count() from other_raw.provider_usage) as usage", '-f', 'json', *args,
                check=True).stdout
    assert json.loads(out) == {'traces': True, 'usage': 3}
    # load otlp too: the same file into another database is a separate load.
    proc = llmwh('load', 'otlp', '--database', 'nowhere_db', str(usage), *args)
    assert proc.returncode != 0 and 'nowhere_db' in proc.stderr, proc.stderr
