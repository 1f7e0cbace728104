"""Step 1 of bench_warehouse.py alone, in well under a minute: the loader vs JSONEachRow on a generated base.

Generates a base with `llmwh generate` (as step 0 does; cached in --cache so
reruns compare the same files), loads its traces/logs/metrics files with the
loader into a fresh embedded warehouse (`llmwh init --no-ttl` tables), takes
the loader's own reported seconds, then exports the rows of every table it
filled, empties the tables and inserts the same rows again with `INSERT ...
FORMAT JSONEachRow` (worker.py's insert, same settings), timed in this
process. Prints both rates and their ratio, the number step 1 reports.

    .venv/bin/python bench/bench_ingest.py                       # 18k spans, as make bench ARGS='--spans 200000'
    .venv/bin/python bench/bench_ingest.py --profile prof.out    # also cProfile the load
"""

import argparse
import cProfile
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whbench import history  # noqa: E402
from llmwh.config import Target  # noqa: E402
from llmwh.otlp.loader import INSERT_SETTINGS, load_otlp_files  # noqa: E402
from llmwh.warehouse import connect  # noqa: E402
from llmwh.warehouse.ddl import DdlOptions  # noqa: E402
from llmwh.warehouse.exporter import INSERT_COLUMNS  # noqa: E402
from llmwh.warehouse.schema import apply_ddl  # noqa: E402

BIN = Path(sys.executable).parent


def generate(cache: Path, spans: int, seed: int) -> Path:
    out = cache / f'base-{spans}-{seed}'
    if not (out / 'manifest.json').exists():
        conversations = max(10, round(spans / history.SPANS_PER_CONVERSATION))
        subprocess.run([str(BIN / 'llmwh'), 'generate', '--out', str(out), '--days', '7',
                        '--conversations', str(conversations), '--seed', str(seed)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--spans', type=int, default=18_000, help='base size (step 1 of --spans 200000: 18,000)')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--cache', type=Path, default=Path(tempfile.gettempdir()) / 'llmwh_bench_ingest')
    parser.add_argument('--jobs', type=int, default=None)
    parser.add_argument('--profile', help='write a cProfile of the load to this file')
    args = parser.parse_args()

    base = generate(args.cache, args.spans, args.seed)
    files = sorted(str(p) for pattern in history.OTLP_GLOBS for p in base.glob(pattern))
    tmp = Path(tempfile.mkdtemp(prefix='bench_ingest_'))
    try:
        wh = connect(Target(name='bench', type='chdb', schema='default', path=str(tmp / 'wh')), create=True)
        apply_ddl(wh, DdlOptions(database='otel', retention={'default': 0}))
        cpu = time.process_time()
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        summary = load_otlp_files(wh, 'otel', files, jobs=args.jobs)
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        loader_cpu = time.process_time() - cpu
        loaded = sum(summary.rows.values())

        tables = sorted(t for t, n in summary.rows.items() if n)
        paths = {t: tmp / f'{t}.jsonl' for t in tables}
        for t, path in paths.items():
            cols = ', '.join(f'`{c}`' for c in INSERT_COLUMNS[t])
            wh.command(f"select {cols} from otel.{t} into outfile '{path}' format JSONEachRow")
        for t in (*tables, 'otel_traces_trace_id_ts'):
            wh.command(f'truncate table otel.{t}')
        plain = plain_cpu = 0.0
        for t, path in paths.items():
            def blocks():
                with open(path, 'rb') as fh:
                    while block := fh.read(8 << 20):
                        yield block
            started, cpu = time.perf_counter(), time.process_time()
            wh.insert_formatted(t, list(INSERT_COLUMNS[t]), blocks(), 'JSONEachRow', 'otel',
                                settings=INSERT_SETTINGS)
            plain += time.perf_counter() - started
            plain_cpu += time.process_time() - cpu
        again = sum(wh.rows(f'select count() from otel.{t}')[0][0] for t in tables)
        assert again == loaded, (again, loaded)

        loader_rate, plain_rate = loaded / summary.seconds, loaded / plain
        print(f'{"llmwh load otlp":<30} {loaded:>8,} rows in {summary.seconds:6.2f}s {loader_rate:>9,.0f} rows/s')
        print(f'{"INSERT ... FORMAT JSONEachRow":<30} {loaded:>8,} rows in {plain:6.2f}s {plain_rate:>9,.0f} rows/s')
        print(f'ratio {loader_rate / plain_rate:.2f}x (target >= 0.5x; load average {os.getloadavg()[0]:.1f})')
        # On a busy machine wall times swing; CPU seconds of this process (engine threads
        # included, parser workers not) are steadier: compare them with --jobs 1.
        print(f'CPU seconds in this process: loader {loader_cpu:.2f}, JSONEachRow {plain_cpu:.2f}, '
              f'ratio {plain_cpu / loader_cpu:.2f}x')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
