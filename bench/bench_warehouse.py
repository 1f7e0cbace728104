"""Warehouse benchmark (`make bench`): ingest, builds, scheduled runs, storage, mart queries, memory.

Builds a 7-day history of --spans spans in a temp embedded warehouse (a
generated base, loaded with `llmwh load otlp`, replicated inside ClickHouse),
then measures each target of issue 8 and prints one table with PASS/MISS per
target. A benchmark, not a test: it exits 0 when targets miss, 1 when a step
fails. Results go to bench/results/<timestamp>.json (or --out).

    .venv/bin/python bench/bench_warehouse.py                    # 1M spans
    .venv/bin/python bench/bench_warehouse.py --spans 200000     # quick: 5-13 minutes here
    .venv/bin/python bench/bench_warehouse.py --spans 10000000   # the full run
    .venv/bin/python bench/bench_warehouse.py --spans 200000 --only storage   # step 0 + 4 only

The scheduled-run comparison uses a history of --spans / 10 first, then
grows the same warehouse to --spans; both runs append the same hour of data
(--spans / 168 spans: one hour at the large history's average rate).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from whbench import history, steps, targets  # noqa: E402
from whbench.report import print_table, write_json  # noqa: E402
from whbench.workspace import StepFailed, Workspace, progress  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / 'results'
HOURS_IN_HISTORY = 7 * 24


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--spans', type=int, default=1_000_000, help='history size (default 1M)')
    parser.add_argument('--seed', type=int, default=42, help='generator seed of the base')
    parser.add_argument('--repeat', type=int, default=7, help='timed runs per mart query (median)')
    parser.add_argument('--raw-repeat', type=int, default=7, help='timed runs per raw query (median)')
    parser.add_argument('--raw-pass-repeat', type=int, default=3, help='timed runs of the raw pass (median)')
    parser.add_argument('--out', type=Path, help='JSON results file (default bench/results/<timestamp>.json)')
    parser.add_argument('--workdir', help='warehouse and scratch dir (default: a new temp dir)')
    parser.add_argument('--keep', action='store_true', help='keep the workdir (warehouse) afterwards')
    parser.add_argument('--only', choices=('storage',),
                        help='only step 0 and this step (storage: a DDL candidate measured in minutes)')
    args = parser.parse_args(argv)
    if args.spans < 20_000:
        parser.error('--spans must be at least 20000: the first history is a tenth of it and holds the base')
    return args


def measure(ws: Workspace, args, details: dict) -> list:
    """Steps 0-6 in order; fills `details` with raw measurements as it goes and returns report lines."""
    small_spans = args.spans // 10
    generated = history.generate_base(ws, history.base_spans_for(small_spans), args.seed)
    loaded = history.load_base(ws, generated)
    details['load'] = {'rows': loaded.rows, 'seconds': loaded.seconds, 'wall_seconds': loaded.proc.seconds,
                       'max_rss_bytes': loaded.proc.max_rss_bytes}
    details['jsoneachrow'] = steps.ingest_jsoneachrow(ws)
    lines = targets.ingest(loaded, details['jsoneachrow'])

    base_spans = history.snapshot(ws)['otel_traces']
    small_units, big_units = small_spans / base_spans, args.spans / base_spans
    hour_units = args.spans / HOURS_IN_HISTORY / base_spans
    history.grow(ws, 1.0, small_units)
    small = details['small'] = steps.full_then_scheduled(ws, 1, hour_units, small_units)
    history.grow(ws, small_units, big_units)
    raw = details['raw_pass'] = steps.raw_pass(ws, args.raw_pass_repeat)
    big = details['big'] = steps.full_then_scheduled(ws, 2, hour_units, big_units)
    spans = big['history_spans']

    lines += targets.full_build(big, raw, spans)
    lines += targets.scheduled(small, big)
    details['dashboard'] = steps.dashboard(ws, args.repeat, args.raw_repeat)
    details['storage'] = steps.storage(ws)
    storage_lines, top_columns = targets.storage(details['storage'])
    details['top_columns'] = top_columns
    lines += storage_lines + targets.dashboard(details['dashboard']) + targets.memory(big, loaded, spans)
    return lines


def measure_storage(ws: Workspace, args, details: dict) -> list:
    """Step 0 straight to --spans, then step 4: the storage numbers without the builds."""
    generated = history.generate_base(ws, history.base_spans_for(args.spans // 10), args.seed)
    history.load_base(ws, generated)
    base_spans = history.snapshot(ws)['otel_traces']
    history.grow(ws, 1.0, args.spans / base_spans)
    details['storage'] = steps.storage(ws)
    lines, details['top_columns'] = targets.storage(details['storage'])
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    stamp = time.strftime('%Y%m%dT%H%M%S')
    out = args.out or RESULTS_DIR / f'{stamp}.json'
    ws = Workspace(args.workdir)
    config = {**{k: str(v) for k, v in vars(args).items()}, 'started': stamp, 'workdir': str(ws.root),
              'load_average_at_start': os.getloadavg()}
    progress(f'benchmark: {args.spans:,} spans, workdir {ws.root}')
    details, lines, error = {}, [], None
    try:
        lines = (measure_storage if args.only == 'storage' else measure)(ws, args, details)
    except (StepFailed, subprocess.SubprocessError, OSError, KeyError, ValueError) as ex:
        error = f'{type(ex).__name__}: {ex}'
        print(f'\nbenchmark step failed: {error}', file=sys.stderr)
    finally:
        if not args.keep:
            ws.remove()
    if lines:
        print_table(lines, f'llm-otel-warehouse benchmark: {args.spans:,} spans ({stamp})')
        targets.print_top_columns(details['top_columns'])
    write_json(out, config, lines, details, error)
    print(f'\nresults: {out}')
    return 1 if error else 0


if __name__ == '__main__':
    sys.exit(main())
