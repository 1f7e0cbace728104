import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope='session')
def engine_dir(tmp_path_factory):
    """The one embedded engine directory this pytest process may open (chDB: one per process)."""
    return tmp_path_factory.mktemp('engine')


@pytest.fixture(scope='session')
def wh(engine_dir):
    """A Warehouse on this process's embedded engine; tests use their own databases in it."""
    from llmwh.config import Target
    from llmwh.warehouse import connect

    return connect(Target(name='test', type='chdb', schema='default', path=str(engine_dir)), create=True)


@pytest.fixture(scope='session')
def profiles_dir(tmp_path_factory):
    """A profiles dir holding the shipped profiles.example.yml, as `make setup` would."""
    d = tmp_path_factory.mktemp('profiles')
    shutil.copy(ROOT / 'profiles.example.yml', d / 'profiles.yml')
    return d


# Each mart's grain: the columns one row is keyed by (the order rows are compared in).
MART_KEYS = {
    'fct_llm_calls': 'trace_id, call_id',
    'fct_traces': 'trace_id',
    'fct_conversations': 'conversation_id',
    'fct_model_daily': 'call_date, provider, model_family',
    'fct_evaluations': 'evaluation_id',
    'fct_evaluation_daily': 'evaluation_date, model_family, evaluation_name',
    'fct_data_quality_issues': 'issue_date, source_table, rule_name',
    'fct_usage_hourly': 'call_hour, service_name, provider, model_family',
    'fct_latency_buckets': 'granularity, dimension, dimension_value, bucket_start',
    'fct_budget_status': 'budget_id',
}

# `llmwh init` for telemetry generated on fixed past days: without the raw tables' TTL,
# which would drop those days, and the test's data with them, once they are past the
# retention (30 days after them).
INIT_FIXED_DAYS = ('init', '--no-ttl')


def warehouse_env(tmp, profiles_dir):
    """Environment for CLI/dbt children that use their own warehouse under `tmp`."""
    return {'LLMWH_PATH': str(tmp / 'wh'), 'DBT_PROFILES_DIR': str(profiles_dir),
            'DBT_TARGET_PATH': str(tmp / 'target'), 'DBT_LOG_PATH': str(tmp / 'logs')}


def child_env(env_extra=None) -> dict:
    """The environment of a child: this one without LLMWH_/DBT_ settings, plus `env_extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('LLMWH_', 'DBT_'))}
    env.update(env_extra or {})
    return env


def run(args, env_extra=None, check=False, cwd=ROOT, timeout=600):
    """Run a command in a child process (each child may open its own warehouse)."""
    release_warehouses()
    proc = subprocess.run(args, cwd=cwd, env=child_env(env_extra), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}')
    return proc


def llmwh(*args, **kwargs):
    return run([str(BIN / 'llmwh'), *args], **kwargs)


def dbt(*args, **kwargs):
    return run([str(BIN / 'dbt'), *args], **kwargs)


def project_var(name):
    """A var of dbt_project.yml: tests read shared facts from the project, never a copy."""
    import yaml
    return yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars'][name]


class _SqlWorker:
    """tests/sql_worker.py on one environment's warehouse: `llmwh sql` without a start-up per query."""

    def __init__(self, env: dict):
        self.env = env
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / 'tests' / 'sql_worker.py')], cwd=ROOT,
                                     env=child_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)

    def ask(self, sql: str) -> str:
        self.proc.stdin.write(json.dumps({'sql': sql}) + '\n')
        self.proc.stdin.flush()
        if not select.select([self.proc.stdout], [], [], SQL_TIMEOUT)[0]:
            self.close()
            raise AssertionError(f'no answer in {SQL_TIMEOUT} s to:\n{sql}')
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.stderr.seek(0)
            raise AssertionError(f'the SQL worker exited {self.proc.returncode} on:\n{sql}\n'
                                 f'{self.stderr.read().decode(errors="replace")[-4000:]}')
        reply = json.loads(line)
        if 'error' in reply:
            raise AssertionError(f'{sql}\nfailed: {reply["error"]}')
        return reply['out']

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


# At most one, since it holds its warehouse open; closed before any other child starts.
_sql_worker = None
SQL_TIMEOUT = 600


def release_warehouses():
    """Close the SQL worker, so that another process may open its warehouse."""
    global _sql_worker
    if _sql_worker is not None:
        worker, _sql_worker = _sql_worker, None
        worker.close()


def sql_rows(env, sql) -> list:
    """Rows of `llmwh sql --format json` on the warehouse of `env`, as dicts."""
    global _sql_worker
    if _sql_worker is not None and _sql_worker.env != env:
        release_warehouses()
    if _sql_worker is None:
        _sql_worker = _SqlWorker(dict(env))
    # Split on newlines only, since values may hold other line separators (U+2028, \x1c).
    return [json.loads(line) for line in _sql_worker.ask(sql).split('\n') if line]


def sql_write(env, sql):
    """Run a writing statement with `llmwh sql --write` (its own process: a session that ran
    a read-only query stays read-only)."""
    llmwh('sql', '--write', sql, env_extra=env, check=True)


@pytest.fixture(scope='session')
def telemetry(tmp_path_factory):
    """Generated telemetry split into what a first and a second scheduled load see."""
    from scheduled_telemetry import split_telemetry

    return split_telemetry(tmp_path_factory.mktemp('telemetry'))


@pytest.fixture(scope='session')
def full(tmp_path_factory, profiles_dir, telemetry):
    """The marts of one embedded build over all of `telemetry`: what other ways of building must equal."""
    from scheduled_telemetry import full_build

    return full_build(tmp_path_factory.mktemp('full'), profiles_dir, telemetry)
