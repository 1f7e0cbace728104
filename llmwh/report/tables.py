"""Tables of mart rows and how their cells are written, shared by the HTML and the text summary.

A cell shows the mart's value, only rounded for display; NULL (unknown) is
written as UNKNOWN, never as 0.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

UNKNOWN = '—'


@dataclass
class Column:
    header: str
    key: str            # the query's column alias
    kind: str = 'text'  # text, int, usd, pct, ms, score, bool, date, time


@dataclass
class Table:
    name: str           # stable id: the HTML's data-table attribute
    columns: list
    rows: list = field(default_factory=list)   # dicts keyed by Column.key

    def cells(self, row: dict) -> list:
        return [format_cell(row[c.key], c.kind) for c in self.columns]


def format_cell(value, kind: str) -> str:
    if value is None:
        return UNKNOWN
    if kind == 'int':
        return f'{int(value):,}'
    if kind == 'usd':
        return f'{value:,.4f}'
    if kind == 'pct':
        return f'{value * 100:,.1f}%'
    if kind == 'ms':
        return f'{value:,.0f}'
    if kind == 'score':
        return f'{value:,.3f}'
    if kind == 'bool':
        return 'yes' if value else 'no'
    if kind == 'time' and isinstance(value, datetime):
        return f'{value:%Y-%m-%d %H:%M}'
    if kind == 'date' and isinstance(value, (date, datetime)):
        return f'{value:%Y-%m-%d}'
    return str(value) if value != '' else UNKNOWN


def text_table(table: Table, limit: Optional[int] = None) -> list:
    """The table as aligned lines of text (numbers right-aligned), columns two spaces apart."""
    rows = [table.cells(r) for r in table.rows[:limit]]
    headers = [c.header for c in table.columns]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    right = [c.kind not in ('text', 'date', 'time', 'bool') for c in table.columns]

    def line(cells):
        return '  '.join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return [line(headers)] + [line(r) for r in rows]
