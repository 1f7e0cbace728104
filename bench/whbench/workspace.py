"""The benchmark's scratch warehouse and the child processes that use it.

chDB allows one process per warehouse directory, so the driver never opens
the warehouse itself: `llmwh`, `dbt` and the SQL worker (whbench.worker) run
one after another as children, each with the environment tests/conftest.py's
warehouse_env gives them (own warehouse, profiles, dbt target and log dirs).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIME_BIN = '/usr/bin/time'
_STARTED = time.monotonic()


def progress(message: str):
    """One progress line with the time since start: the full run takes many minutes."""
    print(f'[{time.monotonic() - _STARTED:7.1f}s] {message}', flush=True)


class StepFailed(Exception):
    """A child process failed: the benchmark cannot go on (exit code 1)."""


@dataclass
class Proc:
    """What one child process did: output, wall time and peak resident memory."""
    stdout: str
    stderr: str
    seconds: float
    max_rss_bytes: Optional[int]


class Workspace:
    """A temp dir holding the warehouse, dbt's target/log dirs and generated files."""

    def __init__(self, root: Optional[str] = None):
        self.root = Path(root or tempfile.mkdtemp(prefix='bench_warehouse_'))
        # Only a directory this run made is removed at the end, never one it was handed.
        self.owned = root is None or not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        self.warehouse = self.root / 'wh'

    def env(self) -> dict:
        """The parent's environment minus LLMWH_/DBT_ settings, plus this workspace's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(('LLMWH_', 'DBT_'))}
        env.update({
            'LLMWH_PATH': str(self.warehouse), 'DBT_PROFILES_DIR': str(ROOT),
            'DBT_TARGET_PATH': str(self.root / 'target'), 'DBT_LOG_PATH': str(self.root / 'logs'),
            'PYTHONPATH': str(ROOT / 'bench'),
        })
        if not (ROOT / 'profiles.yml').is_file():
            shutil.copy(ROOT / 'profiles.example.yml', self.root / 'profiles.yml')
            env['DBT_PROFILES_DIR'] = str(self.root)
        return env

    def run(self, args, stdin: Optional[str] = None, timeout: float = 7200) -> Proc:
        """Run a child to completion, measuring wall time and (via /usr/bin/time) peak RSS."""
        rss_file = self.root / 'rss.txt'
        measured = os.access(TIME_BIN, os.X_OK)
        command = [TIME_BIN, '-f', '%M', '-o', str(rss_file), *args] if measured else list(args)
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, env=self.env(), input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            tail = '\n'.join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            raise StepFailed(f'{" ".join(map(str, args))} exited {proc.returncode}:\n{tail}')
        return Proc(proc.stdout, proc.stderr, seconds, _peak_rss(rss_file if measured else None))

    def llmwh(self, *args) -> Proc:
        return self.run([str(BIN / 'llmwh'), *map(str, args)])

    def dbt(self, *args) -> Proc:
        return self.run([str(BIN / 'dbt'), *map(str, args)])

    def sql(self, ops: list) -> list:
        """Run operations in one worker process (one engine start); returns their results."""
        proc = self.run([sys.executable, '-m', 'whbench.worker'], stdin=json.dumps(ops))
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def query(self, sql: str) -> list:
        """Rows of one query (a worker process of its own)."""
        return self.sql([{'kind': 'rows', 'sql': sql}])[0]['rows']

    def dbt_elapsed(self, slowest: int = 10) -> dict:
        """dbt's own timings of its last invocation (run_results.json): total, per resource
        type and the slowest nodes, to tell engine work from dbt's fixed costs."""
        results = json.loads((self.root / 'target' / 'run_results.json').read_text())
        by_type, nodes = {}, {}
        for node in results['results']:
            kind = node['unique_id'].split('.')[0]
            by_type[kind] = by_type.get(kind, 0.0) + node['execution_time']
            nodes[node['unique_id']] = node['execution_time']
        top = dict(sorted(nodes.items(), key=lambda kv: -kv[1])[:slowest])
        return {'elapsed': results['elapsed_time'], 'by_resource_type': by_type, 'slowest_nodes': top}

    def remove(self):
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)


def _peak_rss(rss_file: Optional[Path]) -> Optional[int]:
    """Peak RSS of the last child in bytes: GNU time's %M (KiB), else this process's children."""
    if rss_file is not None:
        try:
            return int(rss_file.read_text().strip().splitlines()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
    import resource
    # Without /usr/bin/time: the largest child so far (an upper bound for the last one).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
