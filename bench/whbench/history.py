"""Step 0: a generated base, loaded as a collector backfill, grown into a 7-day history.

The base comes from `llmwh generate` (real SDK output with faults: retries,
late data, sampling) and `llmwh load otlp`; replication (whbench.replicate)
then builds millions of spans inside ClickHouse in minutes.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from whbench import replicate
from whbench.workspace import Proc, StepFailed, Workspace, progress

# Largest base worth generating: about a minute of generator and loader time each.
MAX_BASE_SPANS = 45_000
# Spans per generated conversation (measured: 2,083 spans from 200 conversations).
SPANS_PER_CONVERSATION = 10.4
OTLP_GLOBS = ('traces*.jsonl', 'logs*.jsonl', 'metrics*.jsonl')
BILLING = {'openai': 'openai_usage_completions.jsonl', 'anthropic': 'anthropic_usage_messages.jsonl'}
_LOADED = re.compile(r'Loaded \d+ file\(s\).*?: ([\d,]+) rows in ([\d.]+)s')


@dataclass
class Loaded:
    """What `llmwh load otlp` reported for the base: rows and its own in-process seconds."""
    rows: int
    seconds: float
    proc: Proc


def base_spans_for(small_spans: int) -> int:
    """The base must fit in the smallest history (replica 0 is the base itself); the
    generator overshoots its target by a few percent."""
    return min(MAX_BASE_SPANS, int(small_spans * 0.9))


def generate_base(ws: Workspace, spans: int, seed: int) -> Path:
    out = ws.root / 'generated'
    conversations = max(10, round(spans / SPANS_PER_CONVERSATION))
    progress(f'step 0: llmwh generate --days 7 --conversations {conversations} --seed {seed}')
    proc = ws.llmwh('generate', '--out', out, '--days', 7, '--conversations', conversations, '--seed', seed)
    manifest = json.loads((out / 'manifest.json').read_text())
    progress(f'  generated {manifest["tables"]["otel_traces"]:,} spans in {proc.seconds:.0f}s')
    return out


def load_base(ws: Workspace, generated: Path) -> Loaded:
    """init (no TTL: a backfill), load the OTLP files timed, then the billing exports."""
    ws.llmwh('init', '--no-ttl')
    files = sorted(str(p) for pattern in OTLP_GLOBS for p in generated.glob(pattern))
    progress(f'step 0/1: llmwh load otlp ({len(files)} files)')
    proc = ws.llmwh('load', 'otlp', *files)
    match = _LOADED.search(proc.stdout)
    if not match:
        raise StepFailed(f'cannot read the loader summary from:\n{proc.stdout[-2000:]}')
    loaded = Loaded(int(match.group(1).replace(',', '')), float(match.group(2)), proc)
    progress(f'  loaded {loaded.rows:,} rows in {loaded.seconds:.1f}s (wall {proc.seconds:.1f}s)')
    for provider, name in BILLING.items():
        ws.llmwh('load', 'usage', '--provider', provider, generated / 'billing' / name)
    return loaded


def table_counts(ws: Workspace, database: str) -> dict:
    tables = ', '.join(f"'{t}'" for t in replicate.TABLES)
    rows = ws.query(f"select table, sum(rows) from system.parts where active and database = '{database}' "
                    f'and table in ({tables}) group by table')
    return {table: int(n) for table, n in rows}


def snapshot(ws: Workspace) -> dict:
    """Copy the loaded base to bench_base, the source of every replica; returns its row counts."""
    ws.sql([{'kind': 'command', 'sql': s} for s in replicate.snapshot_sql()])
    counts = table_counts(ws, replicate.BASE_DB)
    progress(f'  base: {counts}')
    return counts


def grow(ws: Workspace, from_units: float, to_units: float) -> dict:
    """Replicate the base until the history holds `to_units` copies of it."""
    if to_units <= from_units:
        return table_counts(ws, replicate.OTEL_DB)
    progress(f'step 0: replicating the base from {from_units:.2f} to {to_units:.2f} copies')
    results = ws.sql([{'kind': 'command', 'sql': s} for s in replicate.history_sql(from_units, to_units)])
    counts = table_counts(ws, replicate.OTEL_DB)
    progress(f'  history: {counts} ({sum(r["seconds"] for r in results):.0f}s of inserts)')
    return counts


def append_hour(ws: Workspace, index: int, hour_units: float, history_units: float) -> dict:
    """Deliver one more hour of data after the newest span; returns the rows added per table."""
    before = table_counts(ws, replicate.OTEL_DB)
    newest = ws.query('select toString(max(Timestamp)) from otel.otel_traces')[0][0]
    ws.sql([{'kind': 'command', 'sql': s}
            for s in replicate.append_hour_sql(index, newest, hour_units, history_units)])
    after = table_counts(ws, replicate.OTEL_DB)
    added = {t: after[t] - before.get(t, 0) for t in after}
    progress(f'  appended the hour after {newest}: {added}')
    return added
