"""One embedded chDB engine per process, shared by dbt and any other caller.

chDB runs one engine per process, bound to one data directory, and a
directory another process has open cannot be opened. This module keeps the
single client and turns chDB's open failures into plain messages. It imports
no dbt code so light callers (a CLI) can share the engine cheaply.
"""

import os
import sys
import tempfile
import threading
from contextlib import contextmanager

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError

_lock = threading.Lock()
_shared = {'path': None, 'client': None}


class EngineOpenError(Exception):
    """The embedded engine could not be opened; the message says why."""


def shared_client(path: str, settings=None):
    """The process-wide chDB client for `path`, created (with its directory) on first use."""
    path = os.path.abspath(path)
    with _lock:
        client = _shared['client']
        if client is not None:
            if _shared['path'] != path:
                raise EngineOpenError(
                    f'this process already opened the embedded warehouse at {_shared["path"]}; '
                    f'chDB cannot open a second one ({path}) in the same process'
                )
            # A later caller may need settings (mutations_sync, ...) the first did not set.
            for key, value in (settings or {}).items():
                client.set_client_setting(key, value)
            return client
        if os.path.exists(path) and not os.path.isdir(path):
            raise EngineOpenError(f'warehouse path {path} exists but is not a directory')
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as ex:
            raise EngineOpenError(f'cannot create warehouse directory {path}: {ex.strerror}') from ex
        with _captured_stderr() as captured:
            try:
                client = clickhouse_connect.get_client(interface='chdb', path=path, settings=settings or {})
            except ClickHouseError as ex:
                raise EngineOpenError(_explain(path, str(ex), captured())) from ex
        _shared.update(path=path, client=client)
        return client


@contextmanager
def _captured_stderr():
    """Hold back what the engine writes straight to fd 2 while it starts.

    A failed start prints a raw engine message there; it is folded into the
    error instead. After a good start anything held back is passed on.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    buffer = tempfile.TemporaryFile()
    os.dup2(buffer.fileno(), 2)
    text = {}

    def read():
        if 'value' not in text:
            os.dup2(saved, 2)
            buffer.seek(0)
            text['value'] = buffer.read().decode(errors='replace').strip()
        return text['value']

    failed = False
    try:
        yield read
    except BaseException:
        failed = True
        raise
    finally:
        leftover = read()
        os.close(saved)
        buffer.close()
        if leftover and not failed:
            sys.stderr.write(leftover + '\n')


def _explain(path: str, error: str, engine_output: str) -> str:
    """One line on why the engine did not start. Its exception only says that
    it did not ("Error initializing EmbeddedServer"); the reason, such as the
    lock another process holds or a metadata file it cannot read, is what it
    printed."""
    if 'Cannot lock file' in engine_output or 'Cannot lock file' in error:
        return (f'cannot open the embedded warehouse at {path}: another process has it open '
                '(an embedded warehouse serves one process at a time)')
    reasons = [line for line in engine_output.splitlines() if 'DB::Exception' in line]
    reason = ' '.join((reasons[0] if reasons else error).split())
    return f'cannot open the embedded warehouse at {path}: {reason}'


def close_shared():
    """Close this process's engine, so another process (a dbt child) can open
    the directory; the next shared_client() call opens it again."""
    with _lock:
        client = _shared['client']
        _shared.update(path=None, client=None)
    if client is not None:
        client.close()
