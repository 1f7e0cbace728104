"""Targets, PASS/MISS verdicts, the printed table and the JSON results file.

Every report line compares one ratio with one threshold: for a relative
target (loader vs JSONEachRow, build vs raw pass) the ratio itself, for an
absolute one (60 s, 100 ms, 4 GB) measured / limit. A target stated for the
10M run is shown at other sizes too, with status n/a: a 1M number says
little about whether 10M fits.
"""

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class Line:
    step: str
    report: str
    measured: str
    target: str
    ratio: Optional[float]
    threshold: Optional[float] = None
    at_most: bool = True          # PASS when ratio <= threshold (else >=)
    applies: bool = True          # False: the target is stated for another size
    note: str = ''
    data: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.threshold is None or self.ratio is None:
            return 'info'
        if not self.applies:
            return 'n/a'
        ok = self.ratio <= self.threshold if self.at_most else self.ratio >= self.threshold
        return 'PASS' if ok else 'MISS'


def seconds(s: float) -> str:
    return f'{s:,.1f} s' if s >= 1 else f'{s * 1000:,.0f} ms'


def gb(n: Optional[int]) -> str:
    return 'unknown' if n is None else f'{n / 1e9:,.2f} GB'


def print_table(lines: list, title: str):
    """The side-by-side table: one line per report, then the notes."""
    headers = ('step', 'report', 'measured', 'target', 'ratio', 'status')
    rows = [(ln.step, ln.report, ln.measured, ln.target,
             '' if ln.ratio is None else f'{ln.ratio:,.2f}x', ln.status) for ln in lines]
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    rule = '-+-'.join('-' * w for w in widths)
    print(f'\n{title}')
    print(' | '.join(h.ljust(w) for h, w in zip(headers, widths)))
    print(rule)
    for row in rows:
        print(' | '.join(str(c).ljust(w) for c, w in zip(row, widths)))
    notes = [f'  {ln.step} {ln.report}: {ln.note}' for ln in lines if ln.note]
    if notes:
        print('notes:')
        print('\n'.join(notes))
    counts = {s: sum(ln.status == s for ln in lines) for s in ('PASS', 'MISS', 'n/a', 'info')}
    print('  '.join(f'{k}: {v}' for k, v in counts.items()))


def machine() -> dict:
    """What the numbers were measured on: they mean little without it."""
    info = {'cpus': os.cpu_count(), 'platform': platform.platform(), 'python': platform.python_version()}
    try:
        meminfo = Path('/proc/meminfo').read_text().split('\n')[0].split()
        info['memory_gib'] = round(int(meminfo[1]) / 2**20, 1)
        info['cpu_model'] = next(line.split(':', 1)[1].strip() for line in
                                 Path('/proc/cpuinfo').read_text().splitlines() if line.startswith('model name'))
        info['load_average'] = os.getloadavg()
    except (OSError, StopIteration, IndexError, ValueError):
        pass
    try:
        import chdb
        info['chdb'] = chdb.__version__
        from importlib.metadata import version
        info['dbt_core'] = version('dbt-core')
    except Exception:  # noqa: BLE001 -- versions are informative only
        pass
    return info


def write_json(path: Path, config: dict, lines: list, details: dict, error: Optional[str]):
    """Results, config, machine and raw measurements, for comparing runs later."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        'config': config, 'machine': machine(), 'error': error,
        'results': [{**asdict(ln), 'status': ln.status} for ln in lines],
        'details': details,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
