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
