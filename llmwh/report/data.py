"""What `llmwh report` shows, read from the marts `dbt build` wrote.

Every number comes from a mart: day rows as they are, or sums of additive
columns over the range (calls, tokens, cost). Latency percentiles over the
range are quantiles over fct_llm_calls, never averages of daily percentiles.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Optional

from llmwh.errors import LlmwhError
from llmwh.reporting import Echo, quiet
from llmwh.report.tables import Column, Table

if TYPE_CHECKING:    # the CLI imports DEFAULT_DAYS at start-up: no warehouse client for that
    from llmwh.warehouse.connection import Warehouse

DEFAULT_DAYS = 30
# The marts the report cannot do without; the evaluation mart is optional.
REQUIRED_MARTS = ('fct_model_daily', 'fct_llm_calls', 'fct_budget_status', 'fct_usage_anomalies')
EVALUATION_MART = 'fct_evaluation_daily'
# Reconciliation verdicts that need a look (the others agree, are explained by
# sampling, or have nothing to compare with).
PROBLEM_STATUSES = ('mismatch', 'missing_usage')
TOP_MODELS = 10


@dataclass
class ReportData:
    database: str
    first: date
    last: date
    data_first: date                 # the days fct_model_daily holds
    data_last: date
    totals: Table
    models: Table                    # by (provider, model family) over the range, most cost first
    latency: Table
    daily: list                      # fct_model_daily rows in range (for the charts)
    verdicts: Table                  # day-model rows per reconciliation verdict
    problems: Table                  # day-model rows with a PROBLEM_STATUSES verdict
    budgets: Table
    budget_as_of: Optional[datetime]
    anomalies: Table
    evaluations: Optional[Table]     # None when the evaluation mart is not built
    notes: dict = field(default_factory=dict)

    @property
    def budgets_over(self) -> list:
        return [r for r in self.budgets.rows if r['threshold_state'] != 'ok']


def _marts(wh: 'Warehouse', database: str) -> set:
    return {r[0] for r in wh.rows('select name from system.tables where database = {db:String}',
                                  {'db': database})}


def _rows(wh: 'Warehouse', sql: str, params: Optional[dict] = None) -> list:
    return list(wh.query(sql, params or {}).named_results())


def resolve_range(wh: 'Warehouse', first: Optional[date] = None, last: Optional[date] = None,
                  days: int = DEFAULT_DAYS) -> tuple:
    """(first, last, data_first, data_last): the days to report, both included. Without
    dates, the last `days` days of data in fct_model_daily (from its first day if it holds
    fewer); with only --from, `days` days from it; with only --to, `days` days up to it."""
    database = wh.target.schema
    missing = [m for m in REQUIRED_MARTS if m not in _marts(wh, database)]
    if missing:
        raise LlmwhError(f'no {database}.{missing[0]} in the warehouse; run `dbt build` first')
    data_first, data_last, n = wh.rows(f'select min(call_date), max(call_date), count() '
                                       f'from `{database}`.fct_model_daily')[0]
    if not n:
        raise LlmwhError(f'{database}.fct_model_daily is empty: no LLM calls to report '
                         '(load telemetry, then run `dbt build`)')
    if first is None and last is None:
        last = data_last
    if last is None:
        last = first + timedelta(days=days - 1)
    if first is None:
        # Not before the first day of data: the report's title then says what it covers.
        first = max(last - timedelta(days=days - 1), min(data_first, last))
    if first > last:
        raise LlmwhError(f'--from {first} is after --to {last}')
    in_range = wh.rows(f'select count() from `{database}`.fct_model_daily '
                       'where call_date between {first:Date} and {last:Date}', {'first': first, 'last': last})[0][0]
    if not in_range:
        raise LlmwhError(f'no LLM calls from {first} to {last}: fct_model_daily holds {data_first} to {data_last}')
    return first, last, data_first, data_last


MODEL_COLUMNS = [
    Column('provider', 'provider'), Column('model family', 'model_family'),
    Column('calls', 'calls', 'int'), Column('error calls', 'error_calls', 'int'),
    Column('input tokens', 'input_tokens', 'int'), Column('output tokens', 'output_tokens', 'int'),
    Column('calls without usage', 'calls_without_usage', 'int'),
    Column('cost (USD)', 'cost_usd', 'usd'), Column('unpriced calls', 'unpriced_calls', 'int'),
    Column('cost complete', 'cost_complete', 'bool'),
]

_SUMS = '''
    sum(calls) as calls, sum(error_calls) as error_calls,
    sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens,
    sum(calls_without_usage) as calls_without_usage,
    sum(cost_usd) as cost_usd, sum(unpriced_calls) as unpriced_calls,
    min(cost_complete) as cost_complete'''


def collect(wh: 'Warehouse', first: Optional[date] = None, last: Optional[date] = None,
            echo: Echo = quiet) -> ReportData:
    """Read everything the report shows for the days first..last (both included)."""
    database = wh.target.schema
    first, last, data_first, data_last = resolve_range(wh, first, last)
    echo(f'Reading {database} marts for {first} to {last}')
    db = f'`{database}`'
    rng = {'first': first, 'last': last}
    in_range = 'call_date between {first:Date} and {last:Date}'

    echo('  cost, usage and latency (fct_model_daily, fct_llm_calls)')
    totals = Table('totals', MODEL_COLUMNS[2:], _rows(wh, f'select {_SUMS} from {db}.fct_model_daily '
                                                       f'where {in_range}', rng))
    models = Table('models', MODEL_COLUMNS, _rows(
        wh, f'select provider, model_family, {_SUMS} from {db}.fct_model_daily where {in_range} '
            'group by provider, model_family order by cost_usd desc nulls last, calls desc, provider, model_family',
        rng))
    latency = Table('latency', [
        Column('provider', 'provider'), Column('model family', 'model_family'),
        Column('calls', 'calls', 'int'),
        Column('duration p50 (ms)', 'duration_ms_p50', 'ms'), Column('duration p95 (ms)', 'duration_ms_p95', 'ms'),
        Column('duration p99 (ms)', 'duration_ms_p99', 'ms'),
        Column('time to first token p50 (ms)', 'ttft_ms_p50', 'ms'),
        Column('streamed calls', 'streamed_calls', 'int'),
    ], _rows(wh, f'''
        select
            coalesce(provider, '') as provider, coalesce(model_family, '') as model_family,
            count() as calls,
            quantileExact(0.5)(duration_ms) as duration_ms_p50,
            quantileExact(0.95)(duration_ms) as duration_ms_p95,
            quantileExact(0.99)(duration_ms) as duration_ms_p99,
            quantileExact(0.5)(ttft_ms) as ttft_ms_p50,
            count(ttft_ms) as streamed_calls
        from {db}.fct_llm_calls where {in_range}
        group by provider, model_family order by calls desc, provider, model_family''', rng))
    daily = _rows(wh, f'''
        select call_date, provider, model_family, calls, error_calls, input_tokens, output_tokens, cost_usd,
            duration_ms_p50, duration_ms_p95, reconciliation_status, billing_reconciliation_status
        from {db}.fct_model_daily where {in_range} order by call_date, provider, model_family''', rng)

    echo('  reconciliation (fct_model_daily verdicts)')
    verdicts = Table('verdicts', [
        Column('verdict', 'status'),
        Column('day-model rows: spans vs token metrics', 'metric_rows', 'int'),
        Column('day-model rows: spans vs billing export', 'billing_rows', 'int'),
    ], _rows(wh, f'''
        select status, countIf(reconciliation_status = status) as metric_rows,
            countIf(billing_reconciliation_status = status) as billing_rows
        from {db}.fct_model_daily
        array join arrayDistinct([toString(reconciliation_status), toString(billing_reconciliation_status)])
            as status
        where {in_range} group by status order by status''', rng))
    problems = Table('problems', [
        Column('day', 'call_date', 'date'), Column('provider', 'provider'), Column('model family', 'model_family'),
        Column('spans vs metrics', 'reconciliation_status'),
        Column('metered input tokens', 'metered_input_tokens', 'int'),
        Column('metric input tokens', 'metric_input_tokens', 'int'),
        Column('metered output tokens', 'metered_output_tokens', 'int'),
        Column('metric output tokens', 'metric_output_tokens', 'int'),
        Column('spans vs billing', 'billing_reconciliation_status'),
        Column('input tokens', 'input_tokens', 'int'), Column('billed input tokens', 'billed_input_tokens', 'int'),
        Column('output tokens', 'output_tokens', 'int'),
        Column('billed output tokens', 'billed_output_tokens', 'int'),
    ], _rows(wh, f'''
        select call_date, provider, model_family, reconciliation_status, metered_input_tokens,
            metric_input_tokens, metered_output_tokens, metric_output_tokens, billing_reconciliation_status,
            input_tokens, billed_input_tokens, output_tokens, billed_output_tokens
        from {db}.fct_model_daily
        where {in_range}
            and (reconciliation_status in {{problems:Array(String)}}
                or billing_reconciliation_status in {{problems:Array(String)}})
        order by call_date, provider, model_family''', {**rng, 'problems': list(PROBLEM_STATUSES)}))

    echo('  budgets (fct_budget_status)')
    budgets = Table('budgets', [
        Column('budget', 'budget_id'), Column('scope', 'scope'), Column('scope value', 'scope_value'),
        Column('period', 'period'), Column('period start', 'period_start', 'date'),
        Column('amount (USD)', 'amount_usd', 'usd'), Column('spend (USD)', 'spend_usd', 'usd'),
        Column('utilisation', 'utilisation', 'pct'),
        Column('linear forecast (USD)', 'forecast_linear_usd', 'usd'),
        Column('weekday forecast (USD)', 'forecast_weekday_usd', 'usd'),
        Column('forecast utilisation', 'forecast_utilisation', 'pct'),
        Column('state', 'threshold_state'), Column('unpriced calls', 'unpriced_calls', 'int'),
    ], _rows(wh, f'''
        select budget_id, toString(scope) as scope, scope_value, toString(period) as period, period_start,
            amount_usd, spend_usd, utilisation, forecast_linear_usd, forecast_weekday_usd, forecast_utilisation,
            toString(threshold_state) as threshold_state, unpriced_calls, as_of
        from {db}.fct_budget_status
        order by utilisation desc nulls last, forecast_utilisation desc nulls last, budget_id'''))
    budget_as_of = max((r['as_of'] for r in budgets.rows), default=None)

    echo('  anomalies (fct_usage_anomalies)')
    anomalies = Table('anomalies', [
        Column('bucket start (UTC)', 'bucket_start', 'time'), Column('granularity', 'granularity'),
        Column('dimension', 'dimension'), Column('value', 'dimension_value'), Column('metric', 'metric'),
        Column('metric value', 'metric_value', 'score'), Column('baseline median', 'baseline_median', 'score'),
        Column('deviation', 'deviation', 'score'), Column('relative deviation', 'relative_deviation', 'pct'),
        Column('robust z', 'robust_z', 'score'), Column('calls', 'calls', 'int'),
    ], _rows(wh, f'''
        select anomaly_id, bucket_start, bucket_date, toString(granularity) as granularity,
            toString(dimension) as dimension, dimension_value, toString(metric) as metric, metric_value,
            baseline_median, deviation, relative_deviation, robust_z, calls
        from {db}.fct_usage_anomalies
        where bucket_date between {{first:Date}} and {{last:Date}}
        order by bucket_start desc, dimension, dimension_value, metric''', rng))

    notes = {}
    evaluations = None
    echo(f'  quality ({EVALUATION_MART})')
    if EVALUATION_MART in _marts(wh, database):
        evaluations = Table('evaluations', [
            Column('day', 'evaluation_date', 'date'), Column('model family', 'model_family'),
            Column('evaluation', 'evaluation_name'), Column('results', 'results', 'int'),
            Column('scored results', 'scored_results', 'int'), Column('mean score', 'mean_score', 'score'),
            Column('pass rate', 'pass_rate', 'pct'), Column('hallucination rate', 'hallucination_rate', 'pct'),
        ], _rows(wh, f'''
            select evaluation_date, model_family, evaluation_name, results, scored_results, mean_score,
                pass_rate, hallucination_rate
            from {db}.{EVALUATION_MART}
            where evaluation_date between {{first:Date}} and {{last:Date}}
            order by evaluation_date, model_family, evaluation_name''', rng))
        if not evaluations.rows:
            notes['quality'] = f'No evaluation results from {first} to {last} in {database}.{EVALUATION_MART}.'
    else:
        notes['quality'] = (f'No evaluation results: {database}.{EVALUATION_MART} is not in the warehouse '
                            '(run `dbt build`).')
    return ReportData(database, first, last, data_first, data_last, totals, models, latency, daily, verdicts,
                      problems, budgets, budget_as_of, anomalies, evaluations, notes)
