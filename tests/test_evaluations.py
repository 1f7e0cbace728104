"""fct_evaluations and fct_evaluation_daily on generated data with planted evaluation results.

The generator judges the openinference flavour's answers (grounded on 0..1,
relevance on 1..5, a hallucination flag) and writes each result as a
gen_ai.evaluation.result event, an OpenInference EVALUATOR span or the judge's
own LLM span; the bad_evaluations fault plants non-numeric scores and missing
labels. Its truth (truth_evaluations.jsonl, manifest truth.evaluations) is
compared with the marts: every result once, linked to the evaluated call;
daily rollups recomputed from the truth with the label definitions read from
dbt_project.yml; hostile values NULL and counted as data-quality issues.
"""

import json
import math
from collections import Counter, defaultdict

import pytest
import yaml

from conftest import ROOT, dbt, llmwh, warehouse_env, sql_rows as q

START = '2026-10-05'


@pytest.fixture(scope='module')
def warehouse(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('evaluations')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    llmwh('generate', '--out', str(out), '--days', '3', '--conversations', '60', '--seed', '21',
          '--start', START, '--metric-interval', '21600', check=True)
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    # fct_traces: the relationship tests of fct_llm_calls need it.
    dbt('build', '--select', '+fct_evaluation_daily', '+fct_data_quality_issues', '+fct_traces',
        env_extra=env, check=True)
    manifest = json.loads((out / 'manifest.json').read_text())
    results = [json.loads(line) for line in (out / 'truth_evaluations.jsonl').read_text().splitlines()]
    return env, manifest, [r for r in results if r['emitted']]


@pytest.fixture(scope='module')
def project_vars():
    return yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars']


@pytest.fixture(scope='module')
def evaluations(warehouse):
    env = warehouse[0]
    return q(env, 'select *, toUnixTimestamp64Nano(evaluated_at) as evaluated_at_ns, '
                  'toString(evaluation_date) as day from llm.fct_evaluations')


def _key(row_or_truth):
    """Trace, evaluated span, evaluator and shape: one result per key in the generated data."""
    r = row_or_truth
    if 'shape' in r:
        return r['trace_id'], r['evaluated_span_id'], r['evaluation_name'], r['shape']
    return r['trace_id'], r['span_id'], r['evaluation_name'], r['evaluation_source']


def test_the_generated_data_plants_what_the_marts_must_handle(warehouse):
    _, manifest, truth = warehouse
    assert {r['shape'] for r in truth} == {'event', 'evaluator_span', 'judge_span'}
    assert {r['evaluation_name'] for r in truth} == {'grounded', 'relevance', 'hallucination'}
    issues = Counter(r['issue'] for r in truth)
    assert issues['score_not_numeric'] > 0 and issues['label_missing'] > 0
    assert 'hallucinated' in {r['score_label'] for r in truth}
    assert manifest['faults']['bad_evaluations']['count'] >= issues['score_not_numeric'] + issues['label_missing']
    assert len({_key(r) for r in truth}) == len(truth)


def test_every_planted_result_appears_once_with_its_linkage(warehouse, evaluations):
    _, _, truth = warehouse
    rows = defaultdict(list)
    for row in evaluations:
        rows[_key(row)].append(row)
    # Nothing invented, nothing lost, nothing twice (duplicated deliveries included).
    assert sorted(rows) == sorted(_key(r) for r in truth)
    assert all(len(v) == 1 for v in rows.values())
    assert len({r['evaluation_id'] for r in evaluations}) == len(evaluations)
    for t in truth:
        row = rows[_key(t)][0]
        assert row['call_id'] == t['evaluated_span_id'], t          # the evaluated call is a leaf LLM call
        assert row['model_id'] == t['response_model'] and row['provider'] == t['provider'], t
        assert row['result_span_id'] == t['result_span_id'], t
        if t['result_span_id'] is not None:
            assert row['evaluation_id'] == f"{t['trace_id']}/{t['result_span_id']}"
        assert row['score_label'] == t['score_label'], t
        if t['score_value'] is None:
            assert row['score_value'] is None, t
        else:
            assert math.isclose(row['score_value'], t['score_value'], abs_tol=1e-9), t
        assert int(row['evaluated_at_ns']) == t['evaluated_at_ns'] and row['day'] == t['day'], t
        assert row['has_explanation'] is True


def test_judge_spans_are_llm_calls_with_their_own_cost(warehouse, evaluations):
    env, _, truth = warehouse
    judges = [t for t in truth if t['shape'] == 'judge_span']
    assert judges
    calls = q(env, 'select call_id, model_id, input_tokens, cost_usd from llm.fct_llm_calls where call_id in ('
                   + ', '.join(f"'{t['result_span_id']}'" for t in judges) + ')')
    assert len(calls) == len(judges)
    assert all(c['model_id'].startswith('gpt-4.1-mini') and c['input_tokens'] > 0 and c['cost_usd'] > 0
               for c in calls)


def _family_of(env):
    return {r['model_id']: r['model_family'] for r in q(env, 'select distinct model_id, model_family '
                                                             'from llm.fct_llm_calls where model_id is not null')}


def _expected_daily(truth, families, project_vars):
    labels = {k: {v.lower() for v in values} for k, values in project_vars['evaluation_labels'].items()}
    hallucination_evaluators = {n.lower() for n in project_vars['evaluation_hallucination_evaluators']}
    groups = defaultdict(list)
    for t in truth:
        groups[(t['day'], families[t['response_model']], t['evaluation_name'])].append(t)
    expected = {}
    for key, results in groups.items():
        scores = [t['score_value'] for t in results if t['score_value'] is not None]
        labelled = [t['score_label'].lower() for t in results if t['score_label'] is not None]
        passed = sum(1 for label in labelled if label in labels['pass'])
        hallucinated = sum(1 for label in labelled if label in labels['hallucinated'])
        is_hallucination = key[2].lower() in hallucination_evaluators
        expected[key] = {
            'results': len(results), 'scored_results': len(scores),
            'mean_score': sum(scores) / len(scores) if scores else None,
            'labelled_results': len(labelled), 'passed_results': passed,
            'pass_rate': passed / len(labelled) if labelled else None,
            'hallucination_rate': hallucinated / len(labelled) if is_hallucination and labelled else None,
            'evaluated_calls': len({t['evaluated_span_id'] for t in results}),
        }
    return expected


def _close(a, b):
    return a is None and b is None or a is not None and b is not None and math.isclose(a, b, abs_tol=1e-9)


def test_daily_rollups_equal_the_truth(warehouse, project_vars):
    env, manifest, truth = warehouse
    families = _family_of(env)
    expected = _expected_daily(truth, families, project_vars)
    rows = q(env, 'select *, toString(evaluation_date) as day from llm.fct_evaluation_daily')
    got = {(r['day'], r['model_family'], r['evaluation_name']): r for r in rows}
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        row = got[key]
        for column, value in want.items():
            assert _close(row[column], value) if isinstance(value, float) or value is None else \
                row[column] == value, (key, column, row[column], value)
    # The manifest's own rollup (per response model) agrees with the per-result truth.
    by_model = Counter()
    for r in manifest['truth']['evaluations']['by_day_model']:
        by_model[(r['day'], families[r['response_model']], r['evaluation_name'])] += r['results']
    assert by_model == Counter({k: v['results'] for k, v in expected.items()})
    assert any(v['hallucination_rate'] for v in expected.values())          # something was flagged


def test_scores_of_different_scales_are_never_averaged_together(warehouse, project_vars):
    env, _, truth = warehouse
    rows = q(env, 'select evaluation_name, min(min_score) as lo, max(max_score) as hi '
                  'from llm.fct_evaluation_daily group by evaluation_name')
    ranges = {r['evaluation_name']: (r['lo'], r['hi']) for r in rows}
    assert ranges['relevance'][1] > 1 and ranges['relevance'][0] >= 1       # 1..5
    assert 0 <= ranges['grounded'][0] and ranges['grounded'][1] <= 1      # 0..1
    # The per-evaluator mean differs from the pooled mean a mixed rollup would give.
    families = _family_of(env)
    pooled = defaultdict(list)
    for t in truth:
        if t['score_value'] is not None:
            pooled[(t['day'], families[t['response_model']])].append(t['score_value'])
    daily = q(env, "select toString(evaluation_date) as day, model_family, mean_score "
                   "from llm.fct_evaluation_daily where evaluation_name = 'relevance' and mean_score is not null")
    assert daily
    for r in daily:
        values = pooled[(r['day'], r['model_family'])]
        assert not math.isclose(r['mean_score'], sum(values) / len(values))


def test_hostile_values_are_null_and_counted_as_data_quality_issues(warehouse, evaluations):
    env, _, truth = warehouse
    issues = q(env, "select rule_name, toInt64(sum(issue_rows)) as n from llm.fct_data_quality_issues "
                    "where rule_name like '%evaluation%' group by rule_name")
    got = {r['rule_name']: r['n'] for r in issues}
    planted = Counter(t['issue'] for t in truth if t['issue'])
    assert got == {'invalid_evaluation_score': planted['score_not_numeric'],
                   'missing_evaluation_label': planted['label_missing']}
    examples = q(env, "select arrayJoin(example_ids) as id from llm.fct_data_quality_issues "
                      "where rule_name = 'invalid_evaluation_score'")
    null_scores = {r['evaluation_id'] for r in evaluations if r['score_value'] is None}
    assert examples and {r['id'] for r in examples} <= null_scores


# ------------------------------------------------------------------ a call that arrives after its evaluation

LATE_DAY = '2026-10-10'                 # the late call's day; its evaluation is logged the next day
LATE_TRACE, LATE_CALL = 'e1a7e000' * 4, '00000000000000e1'
EARLY_TRACE, EARLY_CALL = 'e1a7e001' * 4, '00000000000000e2'


def _otlp_call(trace_id, span_id, start_ns):
    attrs = {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
             'gen_ai.response.model': 'gpt-4o', 'gen_ai.usage.input_tokens': '100',
             'gen_ai.usage.output_tokens': '10'}
    span = {'traceId': trace_id, 'spanId': span_id, 'parentSpanId': '', 'name': 'chat gpt-4o', 'kind': 3,
            'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(start_ns + 2 * 10**9),
            'attributes': [{'key': k, 'value': {'stringValue': v}} for k, v in attrs.items()]}
    return json.dumps({'resourceSpans': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'late-judge'}}]},
        'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2'}, 'spans': [span]}]}]})


def _otlp_evaluation(trace_id, span_id, time_ns, score):
    record = {'timeUnixNano': str(time_ns), 'observedTimeUnixNano': str(time_ns), 'severityNumber': 9,
              'body': {}, 'traceId': trace_id, 'spanId': span_id, 'eventName': 'gen_ai.evaluation.result',
              'attributes': [{'key': 'gen_ai.evaluation.name', 'value': {'stringValue': 'relevance'}},
                             {'key': 'gen_ai.evaluation.score.value', 'value': {'intValue': str(score)}},
                             {'key': 'gen_ai.evaluation.score.label', 'value': {'stringValue': 'relevant'}}]}
    return json.dumps({'resourceLogs': [{
        'resource': {'attributes': [{'key': 'service.name', 'value': {'stringValue': 'late-judge'}}]},
        'scopeLogs': [{'scope': {'name': 'judge'}, 'logRecords': [record]}]}]})


@pytest.fixture(scope='module')
def late_call(tmp_path_factory, profiles_dir):
    """Two scheduled runs: the first loads both evaluations (next day) and one
    evaluated call, the second only the other call, on the day before; the
    evaluations' day receives nothing in the second run."""
    from datetime import datetime, timezone
    tmp = tmp_path_factory.mktemp('late_call')
    env = warehouse_env(tmp, profiles_dir)
    day_ns = int(datetime.fromisoformat(f'{LATE_DAY}T00:00:00+00:00').replace(tzinfo=timezone.utc).timestamp()) * 10**9
    hour = 3600 * 10**9
    first, second = tmp / 'first.jsonl', tmp / 'second.jsonl'
    first.write_text('\n'.join([
        _otlp_call(EARLY_TRACE, EARLY_CALL, day_ns + 30 * hour),
        _otlp_evaluation(EARLY_TRACE, EARLY_CALL, day_ns + 31 * hour, 5),
        _otlp_evaluation(LATE_TRACE, LATE_CALL, day_ns + 33 * hour, 3),
    ]) + '\n')
    second.write_text(_otlp_call(LATE_TRACE, LATE_CALL, day_ns + 10 * hour) + '\n')
    build = ('build', '--select', '+fct_evaluation_daily', '+fct_traces', '--exclude-resource-type', 'unit_test')
    marts = 'select * from llm.fct_evaluations order by evaluation_id', \
        'select * from llm.fct_evaluation_daily order by evaluation_date, model_family, evaluation_name'
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    llmwh('load', 'otlp', str(first), env_extra=env, check=True)
    dbt(*build, env_extra=env, check=True)
    runs = {'first': [q(env, sql) for sql in marts]}
    llmwh('load', 'otlp', str(second), env_extra=env, check=True)
    dbt(*build, env_extra=env, check=True)
    runs['second'] = [q(env, sql) for sql in marts]
    dbt(*build, '--full-refresh', env_extra=env, check=True)
    runs['full'] = [q(env, sql) for sql in marts]
    return runs


def test_a_call_arriving_after_its_evaluation_is_linked_on_the_next_run(late_call):
    by_trace = {run: {r['trace_id']: r for r in rows[0]} for run, rows in late_call.items()}
    assert by_trace['first'][LATE_TRACE]['call_id'] is None
    assert by_trace['first'][EARLY_TRACE]['call_id'] == EARLY_CALL
    for run in ('second', 'full'):
        late = by_trace[run][LATE_TRACE]
        assert (late['call_id'], late['provider'], late['model_id']) == (LATE_CALL, 'openai', 'gpt-4o'), run
        assert late['model_family'] == by_trace[run][EARLY_TRACE]['model_family'] is not None, run
        assert by_trace[run][EARLY_TRACE]['call_id'] == EARLY_CALL, run


def test_the_daily_rollup_follows_the_late_link(late_call):
    first_daily, second_daily = late_call['first'][1], late_call['second'][1]
    # First run: one result without a model family, one with; then both on the evaluated model.
    assert sorted((r['model_family'], r['results']) for r in first_daily) == sorted(
        [('', 1), (late_call['second'][0][0]['model_family'], 1)])
    assert [(r['results'], r['evaluated_calls'], r['mean_score']) for r in second_daily] == [(2, 2, 4.0)]


def test_the_scheduled_runs_equal_one_full_build(late_call):
    assert late_call['second'] == late_call['full']
