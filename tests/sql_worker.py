"""A child process that holds one warehouse open and answers queries as `llmwh sql` does.

Tests read their warehouses a query at a time; starting `llmwh sql` for each
(Python, chDB, the warehouse's metadata) took about 1.4 s, most of the suite's
query time. conftest's `sql_rows` sends its queries here instead, one JSON
object per line: {"sql"} in, {"out"} (JSONEachRow) or {"error"} back. The
target comes from the same environment and the query goes through the same
`run_sql` as the CLI's, so the rows are the CLI's. Reads only: after a
read-only query the engine session stays read-only (the client cannot set
`readonly` back), so writes keep their own `llmwh sql --write` process.
conftest closes this child (end of input) before it starts any other, since
chDB lets one process at a time open a warehouse directory.
"""

import json
import os
import sys

from llmwh.config import load_target
from llmwh.warehouse import connect
from llmwh.warehouse.query import run_sql


def main():
    target = load_target(profiles_dir=os.environ.get('DBT_PROFILES_DIR'),
                         target=os.environ.get('LLMWH_TARGET'), path=None)
    wh = connect(target)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {'out': run_sql(wh, request['sql'], 'json').decode()}
        except Exception as ex:  # noqa: BLE001 -- the test reports any failure with its query
            reply = {'error': f'{type(ex).__name__}: {ex}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
