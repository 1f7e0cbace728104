"""dbt, killed with SIGKILL before or during a chosen statement.

    python tests/dbt_killed.py <regex> <n> <seconds> <dbt args...>

runs dbt in this process (the embedded engine with it) and kills the whole
process, engine included, as the OOM killer or a lost machine would stop a
scheduled build: right before the n-th statement whose SQL matches <regex>
would run (<seconds> 0), or that many seconds after it started, while the
engine is most likely still executing it. Exits 3 without killing when fewer
than n statements matched, so a test notices a kill point its build never
reaches.
"""

import os
import re
import signal
import sys
import threading

from dbt.adapters.chdb.client import ChdbClient

NOT_REACHED = 3


def main():
    pattern, nth, delay, args = re.compile(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
    matched = [0]

    def kill():
        os.kill(os.getpid(), signal.SIGKILL)

    def killing(run):
        def statement(self, sql, *rest, **kwargs):
            if pattern.search(sql):
                matched[0] += 1
                if matched[0] == nth and delay:
                    threading.Timer(delay, kill).start()
                elif matched[0] == nth:
                    kill()
            return run(self, sql, *rest, **kwargs)
        return statement

    ChdbClient.query = killing(ChdbClient.query)
    ChdbClient.command = killing(ChdbClient.command)

    from dbt.cli.main import dbtRunner
    dbtRunner().invoke(args)
    sys.exit(NOT_REACHED)


if __name__ == '__main__':
    main()
