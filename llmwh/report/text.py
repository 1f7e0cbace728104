"""`llmwh report --text`: the report's key tables as plain lines for a terminal."""

from llmwh.report.data import PROBLEM_STATUSES, TOP_MODELS, ReportData
from llmwh.report.tables import UNKNOWN, Table, text_table


def summary(data: ReportData, top: int = TOP_MODELS) -> list:
    """Lines: top models by cost, reconciliation problems, budgets over a threshold."""
    lines = [f'LLM usage {data.first} to {data.last} (marts in {data.database}; '
             f'{UNKNOWN} = unknown)', '']
    lines += ['Totals:'] + _indent(text_table(data.totals)) + ['']
    shown = min(top, len(data.models.rows))
    lines += [f'Top {shown} of {len(data.models.rows)} models by cost:']
    lines += _indent(text_table(data.models, limit=top)) + ['']
    lines += [f'Reconciliation problems ({", ".join(PROBLEM_STATUSES)}): {len(data.problems.rows)} day-model row(s)']
    if data.problems.rows:
        lines += _indent(text_table(data.problems))
    lines.append('')
    over = Table(data.budgets.name, data.budgets.columns, data.budgets_over)
    as_of = f' as of {data.budget_as_of:%Y-%m-%d %H:%M} UTC' if data.budget_as_of else ''
    lines += [f'Budgets over a threshold{as_of}: {len(over.rows)} of {len(data.budgets.rows)}']
    if over.rows:
        lines += _indent(text_table(over))
    return lines


def _indent(lines: list) -> list:
    return ['  ' + line for line in lines]
