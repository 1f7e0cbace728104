"""One scheduled cycle of the warehouse: what cron / the systemd timer runs.

1. Take the run lock (an overlapping run stops at once; a killed run's lock is recovered).
2. Check the warehouse answers and has otel.llmwh_runs (`llmwh init`).
3. `dbt source freshness`: stale raw sources are a data-quality finding.
4. `dbt build` (incremental models and data tests; unit tests check model logic
   on fixtures, which is CI's job, not every cycle's), as a subprocess with the
   same target and profiles. A re-pricing cycle (`reprice`) instead rebuilds
   whole the price seeds and the models downstream of them (selectors.yml),
   under the same lock, so it never overlaps a scheduled cycle; until such a
   build has built every model it selected, every next cycle re-prices
   instead (pending_reprice_file).
5. Data-quality checks on the marts (llmwh.run.checks), if any are configured.
6. Record the run in otel.llmwh_runs: start, end, status, models built, their
   rows, failures, freshness, test counts.

The embedded engine (chDB) serves one process at a time: this process closes
its own connection before each dbt subprocess and opens it again after.

Status and exit code (llmwh.errors.ExitCode): success 0; data_quality_failure 3
(a test failed, a source is past its error_after, a check failed);
infrastructure_failure 4 (the warehouse, dbt or a model failed). The lock
refusal (5) happens before anything runs and is not recorded.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from llmwh.config import Target, otel_database, project_dir
from llmwh.errors import DataQualityError, ExitCode, InfrastructureError, LlmwhError
from llmwh.reporting import Echo, quiet
from llmwh.run.lock import RunLock

RUNS_TABLE = 'llmwh_runs'
SUCCESS, DATA_QUALITY, INFRASTRUCTURE = 'success', 'data_quality_failure', 'infrastructure_failure'
EXIT_CODES = {SUCCESS: ExitCode.OK, DATA_QUALITY: ExitCode.DATA_QUALITY, INFRASTRUCTURE: ExitCode.INFRASTRUCTURE}


@dataclass
class CheckResult:
    name: str
    success: bool
    detail: str = ''


@dataclass
class RunRecord:
    run_id: str
    started_at: datetime
    target: str
    finished_at: Optional[datetime] = None
    status: str = SUCCESS
    models_built: int = 0
    rows: dict = field(default_factory=dict)          # model -> rows after the run
    failures: list = field(default_factory=list)      # 'node: message'
    freshness: dict = field(default_factory=dict)     # source table -> pass|warn|error|runtime error|not loaded
    tests_run: int = 0
    tests_failed: int = 0
    tests_warned: int = 0
    failed_checks: list = field(default_factory=list)
    message: str = ''
    stale_lock: Optional[str] = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def fail(self, status: str, message: str):
        """Worst status wins: infrastructure over data quality over success."""
        if status == INFRASTRUCTURE or self.status == SUCCESS:
            self.status = status
        self.message = '; '.join(m for m in (self.message, message) if m)

    def error(self) -> Optional[LlmwhError]:
        """The error the CLI exits with, or None for a successful run."""
        if self.status == SUCCESS:
            return None
        kind = DataQualityError if self.status == DATA_QUALITY else InfrastructureError
        return kind(f'run {self.run_id} {self.status.replace("_", " ")}: {self.message}')


def default_lock_file(target: Target) -> Path:
    """One lock per warehouse: beside the embedded directory, or per server target in the project."""
    if target.is_embedded:
        path = Path(target.path)
        return path.parent / f'.{path.name}.llmwh-run.lock'
    return project_dir() / f'.llmwh-run.{target.name}.lock'


def dbt_executable() -> str:
    """The dbt of this environment (beside this Python), else the one on PATH."""
    local = Path(sys.executable).parent / 'dbt'
    return str(local) if local.exists() else 'dbt'


EPOCH = '1970-01-01'
BUILD_ARGS = ('--exclude-resource-type', 'unit_test')
# After a price seed changes: the models downstream of the price seeds read the
# warehouse's own incremental tables, not the raw ones, so rebuilding them whole
# re-prices all history, also the days the raw TTL already dropped.
REPRICE_ARGS = ('--full-refresh', '--selector', 'reprice')
NOT_LOADED = 'not loaded'


def pending_reprice_file(lock_path: Path) -> Path:
    """Beside the run lock until a re-pricing build has built every model it selected: a
    killed or failed one leaves the models downstream of the prices partly re-priced, and
    the next cycle, of either kind, re-prices again."""
    return lock_path.with_name(lock_path.name + '.reprice-pending')


def target_dir() -> Path:
    """Where dbt writes run_results.json and sources.json (dbt honours DBT_TARGET_PATH too)."""
    return project_dir() / os.environ.get('DBT_TARGET_PATH', 'target')


def run_cycle(target: Target, lock_file=None, checks: Optional[list] = None, echo: Echo = quiet,
              dbt_args: tuple = (), reprice: bool = False) -> RunRecord:
    """One cycle on `target`; returns its record (also written to otel.llmwh_runs).

    With `reprice` the build re-prices history (REPRICE_ARGS) instead of the
    incremental build; the next cycle builds the rest incrementally, or
    re-prices again if this build did not build every model it selected.

    Raises LockedError when another run holds the lock, InfrastructureError when
    the run cannot even be recorded (no warehouse, no llmwh_runs table).
    """
    lock = RunLock(lock_file or default_lock_file(target))
    with lock:
        record = RunRecord(run_id=uuid.uuid4().hex[:16], started_at=datetime.now(timezone.utc),
                           target=target.name, stale_lock=lock.stale)
        if lock.stale:
            echo(f'warning: {lock.stale}', err=True)
        echo(f'Run {record.run_id} on target {target.describe()}')
        _prepare(checks)
        _check_warehouse(target)
        _freshness(target, record, echo, dbt_args)
        pending = pending_reprice_file(lock.path)
        if reprice:
            pending.touch()
            echo('  re-pricing: the price seeds and every model downstream of them are rebuilt whole')
        elif pending.exists():
            reprice = True
            echo('  re-pricing: the last re-pricing cycle did not finish its build; doing it now', err=True)
        built = _build(target, record, echo, (*REPRICE_ARGS, *dbt_args) if reprice else dbt_args)
        if reprice and built:
            pending.unlink(missing_ok=True)
        wh = _open(target)
        try:
            _count_rows(wh, record)
            if checks and record.status != INFRASTRUCTURE:
                _run_checks(wh, checks, record, echo)
            record.finished_at = datetime.now(timezone.utc)
            _record(wh, record)
        finally:
            _close(wh)
    return record


# ------------------------------------------------------------ the warehouse

def _open(target: Target):
    from llmwh.warehouse import connect
    try:
        return connect(target)
    except LlmwhError as ex:
        raise InfrastructureError(f'cannot open the warehouse: {ex}') from ex


def _close(wh):
    """Release the warehouse so a child process (dbt) can open it (chDB: one process at a time)."""
    if wh.target.is_embedded:
        from dbt_chdb_engine import close_shared
        close_shared()
    else:
        wh.client.close()


def _check_warehouse(target: Target):
    wh = _open(target)
    try:
        database = otel_database()
        found = wh.rows('select count() from system.tables where database = {db:String} and name = {t:String}',
                        {'db': database, 't': RUNS_TABLE})[0][0]
        if not found:
            raise InfrastructureError(f'{database}.{RUNS_TABLE} does not exist; run `llmwh init` first')
    finally:
        _close(wh)


def _record(wh, record: RunRecord):
    columns = ['run_id', 'started_at', 'finished_at', 'status', 'exit_code', 'target', 'host', 'models_built',
               'rows', 'failures', 'freshness', 'tests_run', 'tests_failed', 'tests_warned', 'failed_checks',
               'message']
    row = [record.run_id, record.started_at, record.finished_at, record.status, record.exit_code, record.target,
           socket.gethostname(), record.models_built, record.rows, record.failures, record.freshness,
           record.tests_run, record.tests_failed, record.tests_warned, record.failed_checks, record.message]
    wh.insert(RUNS_TABLE, [row], columns, database=otel_database())


def recent_runs(wh, limit: int = 10) -> list:
    """The latest runs, newest first, as dicts."""
    from llmwh.warehouse.ddl import quote
    result = wh.query(f'select * from {quote(otel_database())}.{quote(RUNS_TABLE)} '
                      f'order by started_at desc limit {int(limit)}')
    return [dict(zip(result.column_names, row)) for row in result.result_rows]


# ------------------------------------------------------------ dbt

def _dbt(target: Target, args: list, echo: Echo) -> subprocess.CompletedProcess:
    command = [dbt_executable(), *args, '--target', target.name]
    if target.profiles_dir:
        command += ['--profiles-dir', target.profiles_dir]
    env = dict(os.environ)
    if target.is_embedded:
        env['LLMWH_PATH'] = target.path       # --path given to llmwh reaches dbt too
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=project_dir(), env=env, capture_output=True, text=True)
    except OSError as ex:
        raise InfrastructureError(f'cannot start {command[0]}: {ex.strerror}') from ex
    echo(f'  dbt {args[0]}{" " + args[1] if len(args) > 1 and not args[1].startswith("-") else ""}: '
         f'exit {proc.returncode} in {time.monotonic() - started:.0f} s')
    return proc


def _last_lines(proc, n=5) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return ' | '.join(line.strip() for line in lines[-n:])


def _freshness(target: Target, record: RunRecord, echo: Echo, dbt_args: tuple):
    sources = target_dir() / 'sources.json'
    sources.unlink(missing_ok=True)
    proc = _dbt(target, ['source', 'freshness', *dbt_args], echo)
    try:
        results = json.loads(sources.read_text())['results']
    except (FileNotFoundError, KeyError, ValueError):
        record.fail(INFRASTRUCTURE, f'dbt source freshness failed (exit {proc.returncode}): {_last_lines(proc)}')
        return
    optional = _optional_sources()
    for result in results:
        name = '.'.join(result['unique_id'].split('.')[-2:])
        status = result['status']
        # An empty table's max(loaded_at) is the epoch. A source whose YAML marks it
        # `meta: {optional: true}` (billing exports) and that never received a row is
        # not in use, not stale; an empty raw telemetry table stays an error.
        if status in ('warn', 'error') and str(result.get('max_loaded_at', '')).startswith(EPOCH):
            status = NOT_LOADED if result['unique_id'] in optional else status
        record.freshness[name] = status
    not_loaded = sorted(n for n, s in record.freshness.items() if s == NOT_LOADED)
    if not_loaded:
        echo(f'  not loaded yet (optional): {", ".join(not_loaded)}')
    stale = sorted(n for n, s in record.freshness.items() if s == 'error')
    broken = sorted(n for n, s in record.freshness.items() if s == 'runtime error')
    warned = sorted(n for n, s in record.freshness.items() if s == 'warn')
    if warned:
        echo(f'  warning: sources past warn_after: {", ".join(warned)}', err=True)
    if stale:
        record.fail(DATA_QUALITY, f'sources past error_after: {", ".join(stale)}')
    if broken:
        record.fail(INFRASTRUCTURE, f'freshness query failed: {", ".join(broken)}')


def _optional_sources() -> set:
    """unique_ids of sources marked `meta: {optional: true}` (from the manifest dbt just wrote)."""
    try:
        sources = json.loads((target_dir() / 'manifest.json').read_text())['sources']
    except (FileNotFoundError, KeyError, ValueError):
        return set()
    return {uid for uid, node in sources.items() if (node.get('meta') or {}).get('optional') is True}


def _build(target: Target, record: RunRecord, echo: Echo, dbt_args: tuple) -> bool:
    """dbt build; True when every model and seed it selected built (tests may have failed;
    dbt skips the models below a failed test, and a skipped model did not build)."""
    results_file = target_dir() / 'run_results.json'
    results_file.unlink(missing_ok=True)
    proc = _dbt(target, ['build', *BUILD_ARGS, *dbt_args], echo)
    try:
        results = json.loads(results_file.read_text())['results']
    except (FileNotFoundError, KeyError, ValueError):
        record.fail(INFRASTRUCTURE, f'dbt build failed (exit {proc.returncode}): {_last_lines(proc)}')
        return False
    errors, failed, unbuilt = [], [], 0
    for result in results:
        kind, name = _node(result['unique_id'])
        status = result['status']
        is_test = kind in ('test', 'unit_test')
        if kind in ('model', 'seed', 'snapshot'):
            record.models_built += kind == 'model' and status == 'success'
            unbuilt += status != 'success'
        if is_test:
            record.tests_run += status in ('pass', 'fail', 'warn')
            record.tests_warned += status == 'warn'
        if status == 'fail':
            record.tests_failed += 1
            failed.append(name)
            record.failures.append(f'{name}: {_message(result)}')
        elif status in ('error', 'runtime error'):
            errors.append(name)
            record.failures.append(f'{name}: {_message(result)}')
        elif status == 'skipped':
            record.failures.append(f'{name}: skipped')
    record.failed_checks += failed
    echo(f'  built {record.models_built} model(s); tests: {record.tests_run} run, '
         f'{record.tests_failed} failed, {record.tests_warned} warned')
    if errors:
        record.fail(INFRASTRUCTURE, f'dbt build errors in {", ".join(errors)}')
    elif proc.returncode not in (0, 1):
        record.fail(INFRASTRUCTURE, f'dbt build exited {proc.returncode}: {_last_lines(proc)}')
    if failed:
        record.fail(DATA_QUALITY, f'failed tests: {", ".join(failed)}')
    return not unbuilt and proc.returncode in (0, 1)


def _node(unique_id: str) -> tuple:
    """(resource type, name): test.pkg.name.hash, model.pkg.name, unit_test.pkg.model.name."""
    parts = unique_id.split('.')
    return parts[0], '.'.join(parts[2:]) if parts[0] == 'unit_test' else parts[2]


def _message(result) -> str:
    return ' '.join(str(result.get('message') or result['status']).split())[:500]


def _count_rows(wh, record: RunRecord):
    from llmwh.warehouse.status import built_relations, count_built_rows
    try:
        relations = count_built_rows(wh, built_relations(target_dir()))
    except LlmwhError:
        return
    record.rows = {f'{r.database}.{r.alias}': r.rows for r in relations if r.built and r.rows is not None}


def _prepare(checks: Optional[list]) -> list:
    """Start the checks' slow set-up (a check's optional `prepare`, e.g. imports) in the
    background, once per distinct `prepare`: it overlaps the dbt steps, which run in
    child processes. Returns the threads started."""
    threads = [threading.Thread(target=_quietly, args=(prepare,), daemon=True)
               for prepare in {check.prepare for check in checks or () if hasattr(check, 'prepare')}]
    for thread in threads:
        thread.start()
    return threads


def _quietly(prepare):
    # Ahead-of-time work only: a failure shows again, and is recorded, when the check runs.
    try:
        prepare()
    except Exception:
        pass


def _run_checks(wh, checks: list, record: RunRecord, echo: Echo):
    failed, ran = [], 0
    for check in checks:
        try:
            results = check(wh)
        except LlmwhError as ex:
            record.fail(INFRASTRUCTURE, f'check {getattr(check, "__name__", check)} failed to run: {ex}')
            continue
        for result in results:
            ran += 1
            record.tests_run += 1
            if not result.success:
                record.tests_failed += 1
                failed.append(result.name)
                record.failures.append(f'{result.name}: {result.detail}')
                echo(f'  check failed: {result.name} {result.detail}', err=True)
    record.failed_checks += failed
    echo(f'  checks: {ran} run, {len(failed)} failed')
    if failed:
        record.fail(DATA_QUALITY, f'failed checks: {", ".join(failed)}')
