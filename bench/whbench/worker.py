"""SQL worker: opens the warehouse once and runs a list of operations read from stdin.

Run by the driver as `python -m whbench.worker` (a child process: chDB allows
one process per warehouse directory, and dbt needs it between worker runs).
Timing happens here, inside one process, so engine start-up is not measured.

stdin: a JSON list of operations, each {"kind": ..., "sql": ...}:
  command      run a statement                      -> {"seconds"}
  rows         run a query                          -> {"seconds", "rows"}
  time         `warmup` untimed + `repeat` timed runs of a query -> {"times", "rows"}
  insert_file  insert a JSONEachRow file into `table` (`columns`) -> {"seconds"}
stdout (last line): a JSON list with one result per operation.
"""

import json
import sys
import time

from llmwh.config import load_target
from llmwh.otlp.loader import INSERT_SETTINGS
from llmwh.warehouse import connect

SETTINGS = {'mutations_sync': 2}


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _rows(wh, sql):
    return [list(map(_plain, row)) for row in wh.rows(sql)]


def _plain(value):
    """JSON-friendly cell: numbers and strings as they are, anything else as text."""
    return value if isinstance(value, (int, float, str, type(None))) else str(value)


def _blocks(path, size=8 << 20):
    with open(path, 'rb') as fh:
        while block := fh.read(size):
            yield block


def run_op(wh, op: dict) -> dict:
    kind = op['kind']
    if kind == 'command':
        seconds, _ = _timed(lambda: wh.command(op['sql'], settings=SETTINGS))
        return {'seconds': seconds}
    if kind == 'rows':
        seconds, rows = _timed(lambda: _rows(wh, op['sql']))
        return {'seconds': seconds, 'rows': rows}
    if kind == 'time':
        for _ in range(op.get('warmup', 1)):
            wh.rows(op['sql'])
        runs = [_timed(lambda: wh.rows(op['sql'])) for _ in range(op.get('repeat', 7))]
        return {'times': [seconds for seconds, _ in runs], 'rows': len(runs[-1][1])}
    if kind == 'insert_file':
        database, table = op['table'].split('.')
        seconds, _ = _timed(lambda: wh.insert_formatted(table, op['columns'], _blocks(op['path']),
                                                        'JSONEachRow', database, settings=INSERT_SETTINGS))
        return {'seconds': seconds}
    raise ValueError(f'unknown operation kind {kind!r}')


def main():
    ops = json.load(sys.stdin)
    wh = connect(load_target())
    results = [run_op(wh, op) for op in ops]
    print(json.dumps(results))


if __name__ == '__main__':
    main()
