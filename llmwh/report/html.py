"""The report as one self-contained HTML file: plotly charts with plotly.js inlined once, no CDN.

Tables carry the marts' numbers (see tables.py); charts draw the same rows.
"""

import html
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from llmwh.errors import LlmwhError
from llmwh.report.data import PROBLEM_STATUSES, ReportData
from llmwh.report.tables import UNKNOWN, Table
from llmwh.reporting import Echo, quiet

# No plotly logo (a link to plotly's site) in the modebar: nothing on the page points elsewhere.
PLOTLY_CONFIG = {'displaylogo': False, 'responsive': True}

STYLE = '''
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } h3 { margin-top: 1.5em; }
.meta, .note { color: #555; }
table.data { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 6px; }
table.data th { background: #f4f4f4; text-align: left; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data td.unknown { color: #999; text-align: center; }
.chart { margin: 0.5em 0 1.5em; }
nav a { margin-right: 1em; }
'''


def model_label(row: dict) -> str:
    return f'{row["model_family"] or "unknown model"} ({row["provider"] or "unknown provider"})'


def _figures():
    # Imported here: plotly is only needed when a report is drawn.
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
    return go, make_subplots


def _layout(fig, title: str, **kwargs):
    fig.update_layout(title=title, template='plotly', height=kwargs.pop('height', 420),
                      margin={'l': 60, 'r': 20, 't': 60, 'b': 40}, legend={'orientation': 'v'}, **kwargs)
    return fig


def _by_model(daily: list, panels: list, title: str, kind: str = 'bar'):
    """One trace per model and panel: x the day, y a fct_model_daily column."""
    go, make_subplots = _figures()
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[1] for p in panels]) if len(panels) > 1 \
        else go.Figure()
    series = defaultdict(list)
    for row in daily:
        series[model_label(row)].append(row)
    colours = _colourway()
    for i, (label, rows) in enumerate(sorted(series.items())):
        colour = colours[i % len(colours)]
        for col, (key, _) in enumerate(panels, start=1):
            x, y = [r['call_date'] for r in rows], [r[key] for r in rows]
            common = {'name': label, 'legendgroup': label, 'showlegend': col == 1}
            trace = (go.Bar(x=x, y=y, marker_color=colour, **common) if kind == 'bar'
                     else go.Scatter(x=x, y=y, mode='lines+markers', line_color=colour, **common))
            if len(panels) > 1:
                fig.add_trace(trace, row=1, col=col)
            else:
                fig.add_trace(trace)
    return _layout(fig, title, barmode='stack')


def _colourway() -> list:
    import plotly.colors
    return list(plotly.colors.qualitative.Plotly) + list(plotly.colors.qualitative.D3)


def _verdicts_chart(daily: list):
    go, make_subplots = _figures()
    fig = make_subplots(rows=1, cols=2, subplot_titles=['spans vs token metrics', 'spans vs billing export'])
    statuses = sorted({r['reconciliation_status'] for r in daily} | {r['billing_reconciliation_status'] for r in daily},
                      key=lambda s: (s in PROBLEM_STATUSES, s))
    colours = _colourway()
    days = sorted({r['call_date'] for r in daily})
    for i, status in enumerate(statuses):
        for col, key in enumerate(('reconciliation_status', 'billing_reconciliation_status'), start=1):
            counts = [sum(1 for r in daily if r['call_date'] == d and r[key] == status) for d in days]
            fig.add_trace(go.Bar(x=days, y=counts, name=status, legendgroup=status, showlegend=col == 1,
                                 marker_color=colours[i % len(colours)]), row=1, col=col)
    return _layout(fig, 'Reconciliation verdicts per day (day-model rows of fct_model_daily)', barmode='stack')


def _budgets_chart(table: Table):
    go, _ = _figures()
    rows = list(reversed(table.rows))   # plotly draws the first category at the bottom
    labels = [r['budget_id'] for r in rows]
    fig = go.Figure([
        go.Bar(y=labels, x=[_pct(r['utilisation']) for r in rows], orientation='h', name='spent so far'),
        go.Bar(y=labels, x=[_pct(r['forecast_utilisation']) for r in rows], orientation='h',
               name='forecast to period end'),
    ])
    fig.add_vline(x=100, line_dash='dash', line_color='#d62728')
    return _layout(fig, 'Budget utilisation (% of the amount)', barmode='group',
                   height=max(300, 60 + 50 * len(rows)), xaxis_ticksuffix='%')


def _pct(value):
    return None if value is None else value * 100


def _anomalies_chart(table: Table):
    go, _ = _figures()
    counts = defaultdict(lambda: defaultdict(int))
    for r in table.rows:
        counts[r['metric']][r['bucket_date']] += 1
    fig = go.Figure([go.Bar(x=[f'{d}' for d in sorted(days)], y=[days[d] for d in sorted(days)], name=metric)
                     for metric, days in sorted(counts.items())])
    # Days as categories: a few scattered days would otherwise get hour ticks.
    return _layout(fig, 'Anomalies per day by metric (fct_usage_anomalies)', barmode='stack',
                   xaxis_type='category', yaxis_dtick=1)


def _mean_score_chart(table: Table):
    """One panel per evaluator: scores of different evaluators have different scales."""
    go, make_subplots = _figures()
    by_evaluator = defaultdict(lambda: defaultdict(list))
    for r in table.rows:
        if r['mean_score'] is not None:
            by_evaluator[r['evaluation_name'] or 'unknown evaluator'][r['model_family'] or 'unknown model'].append(r)
    if not by_evaluator:
        return None
    names = sorted(by_evaluator)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    models = sorted({m for series in by_evaluator.values() for m in series})
    colours = _colourway()
    for col, name in enumerate(names, start=1):
        for model, rows in sorted(by_evaluator[name].items()):
            colour = colours[models.index(model) % len(colours)]
            fig.add_trace(go.Scatter(x=[r['evaluation_date'] for r in rows], y=[r['mean_score'] for r in rows],
                                     mode='lines+markers', name=model, legendgroup=model, line_color=colour,
                                     showlegend=model not in {t.name for t in fig.data}), row=1, col=col)
    return _layout(fig, 'Mean score per day, by evaluator (own scale each)')


def _quality_chart(table: Table, key: str, title: str):
    go, _ = _figures()
    series = defaultdict(list)
    for r in table.rows:
        if r[key] is not None:
            series[f'{r["evaluation_name"]} · {r["model_family"] or "unknown model"}'].append(r)
    if not series:
        return None
    fig = go.Figure([go.Scatter(x=[r['evaluation_date'] for r in rows], y=[_pct(r[key]) for r in rows],
                                mode='lines+markers', name=label) for label, rows in sorted(series.items())])
    return _layout(fig, title, yaxis_ticksuffix='%', yaxis_rangemode='tozero')


def _table_html(table: Table) -> str:
    head = ''.join(f'<th>{html.escape(c.header)}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for column, text in zip(table.columns, table.cells(row)):
            if text == UNKNOWN:
                cells.append(f'<td class="unknown" title="unknown (NULL)">{UNKNOWN}</td>')
            else:
                cls = ' class="num"' if column.kind not in ('text', 'date', 'time', 'bool') else ''
                cells.append(f'<td{cls}>{html.escape(text)}</td>')
        body.append('<tr>' + ''.join(cells) + '</tr>')
    return (f'<table class="data" data-table="{table.name}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _chart_html(name: str, fig) -> str:
    return (f'<div class="chart" data-chart="{name}">'
            + fig.to_html(full_html=False, include_plotlyjs=False, div_id=f'chart-{name}', config=PLOTLY_CONFIG)
            + '</div>')


def _p(text: str, cls: str = 'note') -> str:
    return f'<p class="{cls}">{html.escape(text)}</p>'


def charts(data: ReportData) -> dict:
    """{name: plotly figure} of the charts the report draws (the data decides which)."""
    daily = data.daily
    out = {
        'cost_per_day': _by_model(daily, [('cost_usd', 'cost (USD)')], 'Cost per day (USD, priced calls)'),
        'calls_per_day': _by_model(daily, [('calls', 'calls')], 'Calls per day'),
        'tokens_per_day': _by_model(daily, [('input_tokens', 'input tokens'), ('output_tokens', 'output tokens')],
                                    'Tokens per day'),
        'latency_per_day': _by_model(daily, [('duration_ms_p50', 'median call duration (ms)'),
                                             ('duration_ms_p95', '95th percentile (ms)')],
                                     'Call latency per day', kind='line'),
        'reconciliation_per_day': _verdicts_chart(daily),
    }
    if data.budgets.rows:
        out['budgets'] = _budgets_chart(data.budgets)
    if data.anomalies.rows:
        out['anomalies_per_day'] = _anomalies_chart(data.anomalies)
    if data.evaluations is not None and data.evaluations.rows:
        if (fig := _mean_score_chart(data.evaluations)) is not None:
            out['mean_score_per_day'] = fig
        for name, key, title in (('pass_rate_per_day', 'pass_rate', 'Pass rate per day'),
                                 ('hallucination_rate_per_day', 'hallucination_rate', 'Hallucination rate per day')):
            fig = _quality_chart(data.evaluations, key, title)
            if fig is not None:
                out[name] = fig
    return out


def render(data: ReportData, echo: Echo = quiet) -> str:
    """The report page."""
    from plotly.offline import get_plotlyjs

    figures = charts(data)
    echo(f'Drawing {len(figures)} charts')
    chart = {name: _chart_html(name, fig) for name, fig in figures.items()}
    now = datetime.now(timezone.utc)
    parts = [
        f'<h1>LLM usage report: {data.first} to {data.last}</h1>',
        _p(f'From the marts in `{data.database}` (LLM calls from {data.data_first} to {data.data_last}); '
           f'days are UTC, both ends included. Generated {now:%Y-%m-%d %H:%M} UTC. '
           f'{UNKNOWN} marks a value the marts do not know (NULL), never zero.', 'meta'),
        '<nav><a href="#cost">Cost, usage and latency</a><a href="#reconciliation">Reconciliation</a>'
        '<a href="#budgets">Budgets</a><a href="#anomalies">Anomalies</a><a href="#quality">Quality</a></nav>',

        '<section id="cost"><h2>Cost, usage and latency</h2>',
        '<h3>Totals</h3>', _p('Sums over fct_model_daily. Cost is of priced calls: a lower bound '
                              'unless "cost complete".'),
        _table_html(data.totals),
        chart['cost_per_day'], chart['calls_per_day'], chart['tokens_per_day'],
        '<h3>By model</h3>', _p('Sums over fct_model_daily by provider and model family, most cost first.'),
        _table_html(data.models),
        chart['latency_per_day'],
        '<h3>Latency by model</h3>', _p('Exact quantiles over the calls of the range (fct_llm_calls).'),
        _table_html(data.latency),
        '</section>',

        '<section id="reconciliation"><h2>Reconciliation</h2>',
        _p('Verdicts of fct_model_daily: span tokens against the gen_ai.client.token.usage metrics, and against '
           "the provider's usage export."),
        _table_html(data.verdicts), chart['reconciliation_per_day'],
        f'<h3>Problems ({", ".join(PROBLEM_STATUSES)})</h3>',
        _table_html(data.problems) if data.problems.rows else _p('No reconciliation problems in the range.'),
        '</section>',

        '<section id="budgets"><h2>Budgets</h2>',
    ]
    if data.budgets.rows:
        parts += [_p(f'fct_budget_status as of {data.budget_as_of:%Y-%m-%d %H:%M} UTC: the budget periods '
                     'containing that time, whatever the report range.'),
                  _table_html(data.budgets), chart['budgets']]
    else:
        parts.append(_p('No budgets (seeds/budgets.csv has none).'))
    parts += ['</section>', '<section id="anomalies"><h2>Anomalies</h2>']
    if data.anomalies.rows:
        parts += [_p('fct_usage_anomalies in the range, newest first.'), chart['anomalies_per_day'],
                  _table_html(data.anomalies)]
    else:
        parts.append(_p(f'No anomalies from {data.first} to {data.last}.'))
    parts += ['</section>', '<section id="quality"><h2>Quality</h2>']
    if 'quality' in data.notes:
        parts.append(_p(data.notes['quality']))
    else:
        parts += [chart[n] for n in ('mean_score_per_day', 'pass_rate_per_day', 'hallucination_rate_per_day')
                  if n in chart]
        parts += [_p('fct_evaluation_daily rows in the range; scores keep their evaluator\'s scale.'),
                  _table_html(data.evaluations)]
    parts.append('</section>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>LLM usage report {data.first} to {data.last}</title><style>{STYLE}</style>'
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>\n<body>\n'
            + '\n'.join(parts) + '\n</body></html>\n')


def write(data: ReportData, out: str, echo: Echo = quiet) -> Path:
    page = render(data, echo)
    path = Path(out)
    try:
        path.write_text(page, encoding='utf-8')
    except OSError as ex:
        raise LlmwhError(f'cannot write {out}: {ex.strerror or ex}') from None
    echo(f'Wrote {path} ({len(page.encode()) / 1e6:.1f} MB)')
    return path
