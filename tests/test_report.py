"""`llmwh report`: the HTML renders in headless Chromium and every number it shows equals the marts.

One small generated warehouse (all faults on, so reconciliation has problems)
is built once. Budgets are replaced by ones sized from the generated spend
so that some are over a threshold, and two anomaly rows are written into
fct_usage_anomalies (the report only reads that mart; one row has the
NULLs an anomaly can have). The truth for every table is computed here in
Python from the mart rows, never by the report's own queries.
"""

import re
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import dbt, llmwh, warehouse_env, sql_rows as q, sql_write as execute
from llmwh.report.data import PROBLEM_STATUSES

START, DAYS = date(2026, 3, 2), 8
FIRST, LAST = '2026-03-03', '2026-03-08'        # a range inside the data: rows outside must not count
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-quic', '--enable-logging=stderr', '--v=0', '--window-size=1280,6000',
                  '--virtual-time-budget=20000']
UNKNOWN = '—'


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('report')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(out), '--days', str(DAYS), '--conversations', '60', '--seed', '11',
          '--start', START.isoformat(), check=True)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    for provider in ('openai', 'anthropic'):
        export = next((out / 'billing').glob(f'{provider}_usage_*.jsonl'))
        llmwh('load', 'usage', '--provider', provider, str(export), env_extra=env, check=True)
    dbt('build', '--exclude-resource-type', 'test', 'unit_test', '--select', '+fct_model_daily', '+fct_budget_status',
        '+fct_usage_anomalies', '+fct_evaluation_daily', env_extra=env, check=True)
    # Budgets sized from the spend so far: two over a threshold, two not.
    spend = q(env, 'select toFloat64(sum(cost_usd)) as s from llm.fct_llm_calls '
                   "where call_date >= toStartOfMonth((select max(call_date) from llm.fct_llm_calls))")[0]['s']
    assert spend > 0
    budgets = [('over', 'all', '', spend / 1.5), ('warn', 'all', '', spend / 0.9), ('fine', 'all', '', spend * 100),
               ('idle', 'service', 'no-such-service', 10.0)]
    execute(env, 'truncate table llm.budgets')
    execute(env, 'insert into llm.budgets select * from values(' + ', '.join(
        f"('{b}', '{s}', '{v}', 'month', {a!r}, 0.8, 1.0, 'test')" for b, s, v, a in budgets) + ')')
    dbt('run', '-s', 'fct_budget_status', env_extra=env, check=True)
    anomalies = [
        (1, 'hour', 'service', 'librechat', 'cost_usd', 2.5, 0.25, 0.05, 30.3526, 2.25, 9, 7, 40,
         '2026-03-05 10:00:00'),
        (2, 'day', 'model', 'gpt-4o', 'error_rate', 0.6, 0, 0, None, 0.6, None, 7, 12, '2026-03-06 00:00:00'),
        (3, 'day', 'model', 'gpt-4o', 'error_rate', 0.6, 0, 0, None, 0.6, None, 7, 12, '2026-03-09 00:00:00'),
    ]
    execute(env, 'insert into llm.fct_usage_anomalies (anomaly_id, granularity, dimension, dimension_value, '
                 'metric, metric_value, baseline_median, baseline_mad, robust_z, deviation, relative_deviation, '
                 'baseline_points, calls, bucket_start, bucket_date) ' + ' union all '.join(
                     'select ' + ', '.join('null' if v is None else repr(v) for v in a) + f", '{a[-1][:10]}'"
                     for a in anomalies))
    return env, tmp


@pytest.fixture(scope='module')
def report(warehouse):
    env, tmp = warehouse
    path = tmp / 'report.html'
    proc = llmwh('report', '--from', FIRST, '--to', LAST, '--out', str(path), env_extra=env, check=True)
    return path, path.read_text(encoding='utf-8'), proc.stderr


# ------------------------------------------------------------------ reading the page

class _Tables(HTMLParser):
    """{data-table: [[header, ...], [cell, ...], ...]} and the script/link/img sources."""

    def __init__(self):
        super().__init__()
        self.tables, self.sources, self.scripts = {}, [], 0
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'table' and 'data-table' in attrs:
            self._table = self.tables.setdefault(attrs['data-table'], [])
        elif tag == 'tr' and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ('td', 'th') and self._row is not None:
            self._cell = []
        if tag == 'script':
            self.scripts += 1
        for name in ('src', 'href'):
            if attrs.get(name):
                self.sources.append((tag, attrs[name]))

    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self._cell is not None:
            self._row.append(''.join(self._cell).strip())
            self._cell = None
        elif tag == 'table':
            self._table = self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(page):
    parser = _Tables()
    parser.feed(page)
    return parser


def records(table):
    """The table's rows as dicts keyed by header."""
    headers, *rows = table
    return [dict(zip(headers, row)) for row in rows]


def _number(value):
    if isinstance(value, str) and re.fullmatch(r'-?\d+(\.\d+)?(e[-+]?\d+)?', value):
        return float(value)
    return value


def shows(text, value):
    """Whether a cell's text shows the mart's value (rounded only as the text's decimals say)."""
    value = _number(value)
    if value is None or value == '':
        return text == UNKNOWN
    if isinstance(value, bool):
        return text == ('yes' if value else 'no')
    if isinstance(value, (int, float)):
        scale = 100 if text.endswith('%') else 1
        digits = text.rstrip('%').replace(',', '')
        decimals = len(digits.partition('.')[2])
        return abs(float(digits) / scale - value) <= 0.5 * 10 ** -decimals / scale + 1e-9 * abs(value)
    if re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d', value):
        return text == value[:16]
    return text == value


def assert_table(page_table, truth, columns, key):
    """Every row of the truth is shown once (matched on `key` headers), every cell equal."""
    shown = records(page_table)
    assert [h for h in page_table[0]] == list(columns), page_table[0]
    assert len(shown) == len(truth), (len(shown), len(truth))
    by_key = {tuple(r[h] for h in key): r for r in shown}
    assert len(by_key) == len(shown)
    for row in truth:
        match = [r for k, r in by_key.items() if all(shows(t, row[columns[h]]) for h, t in zip(key, k))]
        assert len(match) == 1, (row, key)
        for header, column in columns.items():
            assert shows(match[0][header], row[column]), (header, match[0][header], row[column], row)


def nullable_sum(values):
    known = [_number(v) for v in values if v is not None]
    return sum(known) if known else None


def quantile_exact(values, level):
    """ClickHouse quantileExact: the element at floor(level * n) of the sorted values."""
    values = sorted(_number(v) for v in values if v is not None)
    if not values:
        return None
    return values[min(int(level * len(values)), len(values) - 1)]


def daily_rows(env):
    return q(env, f"select * from llm.fct_model_daily where call_date between '{FIRST}' and '{LAST}'")


# ------------------------------------------------------------------ numbers

MODEL_COLUMNS = {'provider': 'provider', 'model family': 'model_family', 'calls': 'calls',
                 'error calls': 'error_calls', 'input tokens': 'input_tokens', 'output tokens': 'output_tokens',
                 'calls without usage': 'calls_without_usage', 'cost (USD)': 'cost_usd',
                 'unpriced calls': 'unpriced_calls', 'cost complete': 'cost_complete'}
SUMMED = ['calls', 'error_calls', 'input_tokens', 'output_tokens', 'calls_without_usage', 'cost_usd',
          'unpriced_calls']


def model_truth(env):
    groups = defaultdict(list)
    for row in daily_rows(env):
        groups[(row['provider'], row['model_family'])].append(row)
    truth = []
    for (provider, family), rows in groups.items():
        truth.append({'provider': provider, 'model_family': family,
                      **{c: nullable_sum(r[c] for r in rows) for c in SUMMED},
                      'cost_complete': all(r['cost_complete'] for r in rows)})
    # Most cost first, unknown cost last.
    truth.sort(key=lambda r: (r['cost_usd'] is None, -(r['cost_usd'] or 0), -r['calls']))
    return truth


def test_totals_and_models_equal_fct_model_daily(warehouse, report):
    env, _ = warehouse
    tables = parse(report[1]).tables
    models = model_truth(env)
    assert len(models) > 3
    assert_table(tables['models'], models, MODEL_COLUMNS, key=['provider', 'model family'])
    rows = daily_rows(env)
    totals = {c: nullable_sum(r[c] for r in rows) for c in SUMMED}
    totals['cost_complete'] = all(r['cost_complete'] for r in rows)
    assert_table(tables['totals'], [totals], {h: c for h, c in MODEL_COLUMNS.items() if h not in
                                              ('provider', 'model family')}, key=['calls'])
    # The range bounds the sums: the whole of the data has more calls.
    everything = q(env, 'select sum(calls) as n from llm.fct_model_daily')[0]['n']
    assert int(everything) > totals['calls']


def test_latency_equals_quantiles_over_fct_llm_calls(warehouse, report):
    env, _ = warehouse
    calls = q(env, "select coalesce(provider, '') as provider, coalesce(model_family, '') as model_family, "
                   f"duration_ms, ttft_ms from llm.fct_llm_calls where call_date between '{FIRST}' and '{LAST}'")
    groups = defaultdict(list)
    for c in calls:
        groups[(c['provider'], c['model_family'])].append(c)
    truth = [{'provider': p, 'model_family': m, 'calls': len(rows),
              'p50': quantile_exact([r['duration_ms'] for r in rows], 0.5),
              'p95': quantile_exact([r['duration_ms'] for r in rows], 0.95),
              'p99': quantile_exact([r['duration_ms'] for r in rows], 0.99),
              'ttft': quantile_exact([r['ttft_ms'] for r in rows], 0.5),
              'streamed': sum(r['ttft_ms'] is not None for r in rows)}
             for (p, m), rows in groups.items()]
    assert any(r['ttft'] is None for r in truth) and any(r['ttft'] is not None for r in truth)
    assert_table(parse(report[1]).tables['latency'], truth, {
        'provider': 'provider', 'model family': 'model_family', 'calls': 'calls', 'duration p50 (ms)': 'p50',
        'duration p95 (ms)': 'p95', 'duration p99 (ms)': 'p99', 'time to first token p50 (ms)': 'ttft',
        'streamed calls': 'streamed'}, key=['provider', 'model family'])


PROBLEM_COLUMNS = {
    'day': 'call_date', 'provider': 'provider', 'model family': 'model_family',
    'spans vs metrics': 'reconciliation_status', 'metered input tokens': 'metered_input_tokens',
    'metric input tokens': 'metric_input_tokens', 'metered output tokens': 'metered_output_tokens',
    'metric output tokens': 'metric_output_tokens', 'spans vs billing': 'billing_reconciliation_status',
    'input tokens': 'input_tokens', 'billed input tokens': 'billed_input_tokens', 'output tokens': 'output_tokens',
    'billed output tokens': 'billed_output_tokens'}


def test_reconciliation_equals_fct_model_daily_verdicts(warehouse, report):
    env, _ = warehouse
    tables = parse(report[1]).tables
    rows = daily_rows(env)
    statuses = {r['reconciliation_status'] for r in rows} | {r['billing_reconciliation_status'] for r in rows}
    verdicts = [{'status': s, 'metric': sum(r['reconciliation_status'] == s for r in rows),
                 'billing': sum(r['billing_reconciliation_status'] == s for r in rows)} for s in statuses]
    assert_table(tables['verdicts'], verdicts, {
        'verdict': 'status', 'day-model rows: spans vs token metrics': 'metric',
        'day-model rows: spans vs billing export': 'billing'}, key=['verdict'])
    problems = [r for r in rows if r['reconciliation_status'] in PROBLEM_STATUSES
                or r['billing_reconciliation_status'] in PROBLEM_STATUSES]
    assert problems and len(problems) < len(rows), 'the faults make some problems, not only problems'
    assert_table(tables['problems'], problems, PROBLEM_COLUMNS, key=['day', 'provider', 'model family'])


BUDGET_COLUMNS = {
    'budget': 'budget_id', 'scope': 'scope', 'scope value': 'scope_value', 'period': 'period',
    'period start': 'period_start', 'amount (USD)': 'amount_usd', 'spend (USD)': 'spend_usd',
    'utilisation': 'utilisation', 'linear forecast (USD)': 'forecast_linear_usd',
    'weekday forecast (USD)': 'forecast_weekday_usd', 'forecast utilisation': 'forecast_utilisation',
    'state': 'threshold_state', 'unpriced calls': 'unpriced_calls'}


def test_budgets_equal_fct_budget_status(warehouse, report):
    env, _ = warehouse
    truth = q(env, 'select * from llm.fct_budget_status')
    assert {r['threshold_state'] for r in truth} >= {'exceeded', 'warning', 'ok'}
    assert_table(parse(report[1]).tables['budgets'], truth, BUDGET_COLUMNS, key=['budget'])


def test_anomalies_in_range_equal_fct_usage_anomalies(warehouse, report):
    env, _ = warehouse
    truth = q(env, f"select * from llm.fct_usage_anomalies where bucket_date between '{FIRST}' and '{LAST}'")
    assert len(truth) == 2 and any(r['robust_z'] is None for r in truth)
    assert_table(parse(report[1]).tables['anomalies'], truth, {
        'bucket start (UTC)': 'bucket_start', 'granularity': 'granularity', 'dimension': 'dimension',
        'value': 'dimension_value', 'metric': 'metric', 'metric value': 'metric_value',
        'baseline median': 'baseline_median', 'deviation': 'deviation', 'relative deviation': 'relative_deviation',
        'robust z': 'robust_z', 'calls': 'calls'}, key=['bucket start (UTC)', 'value', 'metric'])


def test_quality_equals_fct_evaluation_daily(warehouse, report):
    env, _ = warehouse
    truth = q(env, f"select * from llm.fct_evaluation_daily where evaluation_date between '{FIRST}' and '{LAST}'")
    assert truth and any(r['hallucination_rate'] is None for r in truth)
    assert_table(parse(report[1]).tables['evaluations'], truth, {
        'day': 'evaluation_date', 'model family': 'model_family', 'evaluation': 'evaluation_name',
        'results': 'results', 'scored results': 'scored_results', 'mean score': 'mean_score',
        'pass rate': 'pass_rate', 'hallucination rate': 'hallucination_rate'},
        key=['day', 'model family', 'evaluation'])


def _quality_section(page):
    return page[page.index('<section id="quality">'):]


def test_quality_without_evaluation_results_says_so(warehouse, tmp_path):
    env, _ = warehouse
    out = tmp_path / 'no-evaluations.html'

    def quality():
        llmwh('report', '--from', FIRST, '--to', LAST, '--out', str(out), env_extra=env, check=True)
        page = out.read_text()
        assert 'evaluations' not in parse(page).tables
        return _quality_section(page)

    execute(env, 'rename table llm.fct_evaluation_daily to llm.fct_evaluation_daily_hidden')
    try:
        # Marts built before the evaluation marts existed: the report still works and says why.
        assert 'No evaluation results: llm.fct_evaluation_daily is not in the warehouse' in quality()
        # The mart without rows in the range.
        execute(env, 'create table llm.fct_evaluation_daily as llm.fct_evaluation_daily_hidden')
        assert f'No evaluation results from {FIRST} to {LAST} in llm.fct_evaluation_daily.' in quality()
    finally:
        execute(env, 'drop table if exists llm.fct_evaluation_daily')
        execute(env, 'rename table llm.fct_evaluation_daily_hidden to llm.fct_evaluation_daily')


# ------------------------------------------------------------------ the file and the browser

def test_the_file_is_self_contained_with_plotly_inlined_once(report):
    from plotly.offline import get_plotlyjs

    path, page, stderr = report
    parsed = parse(page)
    # Nothing fetched: no script, stylesheet or image from elsewhere (in-page anchors only).
    assert all(tag == 'a' and src.startswith('#') for tag, src in parsed.sources), parsed.sources
    assert page.count(get_plotlyjs()) == 1
    assert not re.search(r'url\(\s*["\']?(https?:)?//', page.split(get_plotlyjs())[0])
    assert 'Wrote' in stderr and 'Drawing' in stderr, stderr      # progress went to stderr


def run_chromium(tmp_path, url, *args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f'{CHROMIUM} is missing: `make test` installs the Debian packages chromium and '
                    'chromium-driver')
    profile = tmp_path / f'profile-{len(list(tmp_path.glob("profile-*")))}'
    proc = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args, url],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def console_messages(stderr):
    return re.findall(r':CONSOLE[^\]]*\] (.*)', stderr)


def test_the_browser_harness_sees_console_errors(tmp_path):
    page = tmp_path / 'broken.html'
    page.write_text('<html><body><script>console.error("planted"); notAFunction();</script></body></html>')
    messages = console_messages(run_chromium(tmp_path, page.as_uri(), '--dump-dom').stderr)
    assert any('planted' in m for m in messages) and any('notAFunction' in m for m in messages), messages


def test_chromium_draws_every_chart_without_console_errors(report, tmp_path):
    from PIL import Image
    from plotly.colors import qualitative

    path, page, _ = report
    names = re.findall(r'data-chart="([a-z_]+)"', page)
    assert set(names) >= {'cost_per_day', 'calls_per_day', 'tokens_per_day', 'latency_per_day',
                          'reconciliation_per_day', 'budgets', 'anomalies_per_day', 'mean_score_per_day',
                          'pass_rate_per_day', 'hallucination_rate_per_day'}, names
    dom = run_chromium(tmp_path, path.as_uri(), '--dump-dom')
    assert console_messages(dom.stderr) == []
    for name, chunk in zip(names, re.split(r'data-chart="[a-z_]+"', dom.stdout)[1:]):
        # Plotly's drawn SVG with at least one trace inside each chart's block.
        assert 'class="main-svg"' in chunk and re.search(r'class="trace (bars|scatter)', chunk), name
    shot = tmp_path / 'report.png'
    screenshot = run_chromium(tmp_path, path.as_uri(), f'--screenshot={shot}')
    assert console_messages(screenshot.stderr) == []
    image = Image.open(shot).convert('RGB')
    colours = {colour: n for n, colour in image.getcolors(maxcolors=1 << 24)}
    first_trace = tuple(int(qualitative.Plotly[0][i:i + 2], 16) for i in (1, 3, 5))
    assert colours.get(first_trace, 0) > 2000, 'no chart drew its first trace colour'
    assert sum(colours.values()) - colours.get((255, 255, 255), 0) > 0.05 * image.width * image.height


# ------------------------------------------------------------------ terminal summary and errors

def _section(lines, title):
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith('  ')), len(lines))
    return lines[start], [re.split(r' {2,}', line.strip()) for line in lines[start + 1:end]]


def test_text_lists_top_models_and_budgets_over_threshold(warehouse):
    env, _ = warehouse
    proc = llmwh('report', '--text', '--from', FIRST, '--to', LAST, env_extra=env, check=True)
    lines = proc.stdout.splitlines()
    title, rows = _section(lines, 'Top ')
    header, *rows = rows
    truth = model_truth(env)[:10]
    assert len(rows) == len(truth)
    for shown, row in zip(rows, truth):
        record = dict(zip(header, shown))
        for h, column in MODEL_COLUMNS.items():
            assert shows(record[h], row[column]), (h, record, row)
    title, rows = _section(lines, 'Budgets over a threshold')
    over = {r['budget_id'] for r in q(env, "select budget_id from llm.fct_budget_status where threshold_state != 'ok'")}
    assert over and {r[0] for r in rows[1:]} == over
    assert f'{len(over)} of 4' in title


def test_an_empty_range_is_one_clear_line(warehouse):
    env, _ = warehouse
    proc = llmwh('report', '--from', '2020-01-01', '--to', '2020-01-31', env_extra=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f'llmwh: error: no LLM calls from 2020-01-01 to 2020-01-31: fct_model_daily holds {START} to '
        f'{q(env, "select toString(max(call_date)) as d from llm.fct_model_daily")[0]["d"]}']
    proc = llmwh('report', '--from', LAST, '--to', FIRST, env_extra=env)
    assert proc.returncode == 1 and 'is after' in proc.stderr and 'Traceback' not in proc.stderr


def test_a_warehouse_without_marts_is_one_clear_line(tmp_path, profiles_dir):
    env = warehouse_env(tmp_path, profiles_dir)
    llmwh('init', env_extra=env, check=True)
    for args in (['--text'], ['--out', str(tmp_path / 'r.html')]):
        proc = llmwh('report', *args, env_extra=env)
        assert proc.returncode == 1
        assert proc.stderr.strip() == 'llmwh: error: no llm.fct_model_daily in the warehouse; run `dbt build` first'
    assert not (tmp_path / 'r.html').exists()
