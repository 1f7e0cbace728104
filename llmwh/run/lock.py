"""The run lock: one `llmwh run` per warehouse at a time.

An advisory `flock` on a lock file does the exclusion, so the kernel releases
it when its holder dies however it dies (kill -9 included): a lock left by a
killed run never blocks the next one. The file keeps the holder's pid, host and
start time, so a refused run can say who holds it and a run that finds the pid
of a dead run in it can say that it recovered a stale lock.
"""

import fcntl
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from llmwh.errors import LlmwhError, LockedError


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:        # alive, another user's
        return True
    return True


def _read_holder(text: str) -> dict:
    holder = {}
    for part in text.split():
        key, sep, value = part.partition('=')
        if sep:
            holder[key] = value
    return holder


class RunLock:
    """`with RunLock(path) as lock:` holds the lock or raises LockedError at once.

    After acquiring, `lock.stale` describes the earlier holder when it left the
    file behind without releasing it (a killed run), else None.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.fd: Optional[int] = None
        self.stale: Optional[str] = None

    def acquire(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as ex:
            raise LlmwhError(f'cannot open the run lock {self.path}: {ex.strerror}') from ex
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(os.pread(fd, 4096, 0).decode(errors='replace'))
            os.close(fd)
            who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"
            raise LockedError(f'another llmwh run holds the lock {self.path} ({who}); not starting') from None
        previous = _read_holder(os.pread(fd, 4096, 0).decode(errors='replace'))
        if previous.get('pid'):
            # The file is only ever left with a pid in it by a run that did not release it.
            alive = previous.get('host') == socket.gethostname() and previous['pid'].isdigit() \
                and pid_alive(int(previous['pid']))
            self.stale = (f"recovered a stale run lock left by pid {previous['pid']} "
                          f"(started {previous.get('started', '?')}, "
                          f"{'alive but not holding it' if alive else 'no longer running'})")
        started = datetime.now(timezone.utc).isoformat(timespec='seconds')
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'pid={os.getpid()} host={socket.gethostname()} started={started}\n'.encode(), 0)
        self.fd = fd
        return self

    def release(self):
        if self.fd is not None:
            # Emptied before unlocking: a file with a pid in it means "not released".
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
