"""Generated telemetry end to end: generate -> load otlp/usage -> dbt build -> marts equal the manifest's truth."""

import json
from collections import Counter
from datetime import date, timedelta

import pytest

from conftest import dbt, llmwh, warehouse_env, sql_rows as q
from price_oracle import cost_usd, from_unix_nanos, price_of_call
from usage_oracle import assert_hourly_equals_calls


@pytest.fixture(scope='module')
def pipeline(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('pipeline')
    out = tmp / 'gen'
    env = warehouse_env(tmp, profiles_dir)
    start = (date.today() - timedelta(days=3)).isoformat()
    llmwh('generate', '--out', str(out), '--days', '3', '--conversations', '40', '--seed', '8',
          '--start', start, check=True)
    llmwh('init', env_extra=env, check=True)
    llmwh('load', 'otlp', *sorted(str(p) for p in out.glob('*.jsonl') if not p.name.startswith('truth')),
          env_extra=env, check=True)
    llmwh('load', 'usage', '--provider', 'openai', str(out / 'billing' / 'openai_usage_completions.jsonl'),
          env_extra=env, check=True)
    llmwh('load', 'usage', '--provider', 'anthropic', str(out / 'billing' / 'anthropic_usage_messages.jsonl'),
          env_extra=env, check=True)
    dbt('build', env_extra=env, check=True)
    manifest = json.loads((out / 'manifest.json').read_text())
    conversations = [json.loads(line) for line in (out / 'truth_conversations.jsonl').read_text().splitlines()]
    return env, manifest, conversations


def truth_totals(manifest, block):
    totals = Counter()
    for row in manifest['truth']['by_day_provider_model']:
        totals.update(row[block])
    return totals


def test_every_emitted_call_is_counted_once(pipeline):
    env, manifest, _ = pipeline
    duplicated = manifest['faults']['duplicates']['spans']
    assert duplicated > 0, 'this seed delivers some spans twice'
    raw = q(env, 'select count() as n, uniqExact(TraceId, SpanId) as spans from otel.otel_traces')[0]
    assert raw['n'] - raw['spans'] == duplicated
    ok_calls = q(env, 'select count() as n from llm.fct_llm_calls where not is_error')[0]['n']
    assert ok_calls == truth_totals(manifest, 'emitted')['calls']


def test_span_reported_tokens_equal_the_truth(pipeline):
    env, manifest, _ = pipeline
    truth = truth_totals(manifest, 'emitted_with_usage')
    got = q(env, "select count() as calls, sum(input_tokens) as input, sum(output_tokens) as output, "
                 "sum(reasoning_tokens) as reasoning from llm.fct_llm_calls where usage_source = 'span'")[0]
    assert got == {'calls': truth['calls'], 'input': truth['input_tokens'], 'output': truth['output_tokens'],
                   'reasoning': truth['reasoning_output_tokens']}


def test_usage_hourly_equals_its_calls_and_the_truth(pipeline):
    """Each hour row is its calls summed (tests/usage_oracle.py); the totals are the generator's."""
    env, manifest, _ = pipeline
    expected = assert_hourly_equals_calls(env)
    # Not vacuous: NULL sums (no call of the hour reported cache reads) beside known ones; a
    # whole hour without usage is planted in test_marts.
    assert any(r['cache_read_tokens'] is None for r in expected.values())
    assert sum(1 for r in expected.values() if r['cache_read_tokens'] is not None) > 5
    assert sum(1 for r in expected.values() if r['input_tokens'] is not None) > 20
    totals = q(env, 'select sum(calls) - sum(error_calls) as ok_calls, sum(input_tokens) as input, '
                    'sum(output_tokens) as output, sum(reasoning_tokens) as reasoning from llm.fct_usage_hourly')[0]
    # Tokens the spans reported are the truth's emitted_with_usage; the rest came from the app's
    # token logs (checked against the truth per conversation in test_conversations_equal_the_truth).
    emitted, with_usage = truth_totals(manifest, 'emitted'), truth_totals(manifest, 'emitted_with_usage')
    logged = q(env, "select sum(input_tokens) as input, sum(output_tokens) as output, "
                    "sum(reasoning_tokens) as reasoning from llm.fct_llm_calls where usage_source = 'log'")[0]
    assert totals == {'ok_calls': emitted['calls'],
                      'input': with_usage['input_tokens'] + (logged['input'] or 0),
                      'output': with_usage['output_tokens'] + (logged['output'] or 0),
                      'reasoning': with_usage['reasoning_output_tokens'] + (logged['reasoning'] or 0)}


def test_usage_hourly_adds_up_to_model_daily(pipeline):
    """The hours of a day, over services, give fct_model_daily's row: the same calls, counted once."""
    env = pipeline[0]
    columns = ('calls', 'error_calls', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'reasoning_tokens',
               'unpriced_calls', 'calls_without_usage')
    key = 'toString(call_date) as day, provider, model_family'
    daily = q(env, f"select {key}, {', '.join(columns)}, cost_usd, cost_complete "
                   f"from llm.fct_model_daily order by all")
    summed = q(env, f"select {key}, {', '.join(f'sum({c}) as {c}' for c in columns)}, "
                    f"sum(cost_usd) as cost_usd, min(cost_complete) as cost_complete "
                    f"from llm.fct_usage_hourly group by all order by all")
    assert len(daily) > 10
    # Float sums in another order: cost to 1e-9 relative.
    assert summed == [{**r, 'cost_usd': pytest.approx(r['cost_usd'], rel=1e-9)} if r['cost_usd'] is not None else r
                      for r in daily]


def test_umbrella_spans_repeat_usage_in_every_framework_flavour(pipeline):
    """Workflow, agent and chain spans repeat their children's usage, and fct_traces leaves it out.

    This is what gives the dbt test assert_trace_tokens_equal_leaf_usage_span_sums
    umbrellas to compare: the naive sum over a trace's usage-carrying spans exceeds
    its fct_traces tokens in traces of every framework flavour that nests LLM calls."""
    env = pipeline[0]
    rows = q(env, "select traces.root_service_name as service, count() as n "
                  "from (select trace_id, sum(input_tokens) as naive_input from ("
                  "    select trace_id, span_id, any(input_tokens) as input_tokens "
                  "    from llm_staging.stg_otel__spans group by trace_id, span_id) "
                  "  group by trace_id) as spans "
                  "inner join llm.fct_traces as traces on spans.trace_id = traces.trace_id "
                  "where spans.naive_input > traces.input_tokens group by service")
    umbrella_traces = {r['service']: r['n'] for r in rows}
    # OpenLLMetry workflows, OpenInference chains, semconv invoke_agent (v1.27 and latest).
    assert set(umbrella_traces) >= {'research-agent', 'rag-api', 'assistant-api', 'docs-agent'}, umbrella_traces
    assert all(n >= 3 for n in umbrella_traces.values()), umbrella_traces


def test_conversations_equal_the_truth(pipeline):
    env, _, conversations = pipeline
    marts = {r['conversation_id']: r for r in q(env, 'select * from llm.fct_conversations')}
    partial = {r['conversation_id'] for r in q(
        env, "select distinct conversation_id from llm.fct_llm_calls "
             "where usage_source != 'span' and not is_error and conversation_id is not null")}
    checked = Counter()
    for truth in conversations:
        row = marts[truth['conversation_id']]
        expected = (truth['input_tokens'], truth['output_tokens'])
        if truth['flavour'] == 'librechat':
            # The app's own token logs carry every turn, also those whose span lacks usage,
            # and the totals take them for every turn whose spans are incomplete.
            assert (row['app_prompt_tokens'], row['app_completion_tokens']) == expected, truth
            assert (row['input_tokens'], row['output_tokens']) == expected, truth
        elif truth['ok_calls'] == 0:
            assert (row['input_tokens'], row['output_tokens']) == (None, None), truth
        elif truth['conversation_id'] in partial:
            assert row['reconciliation_status'] in ('missing_usage', 'no_counterpart'), truth
            assert row['input_tokens'] < truth['input_tokens']
        else:
            assert (row['input_tokens'], row['output_tokens']) == expected, truth
        checked[truth['flavour']] += 1
    assert checked['librechat'] > 0 and len(checked) >= 4, checked


def test_librechat_conversations_reconcile(pipeline):
    env, _, _ = pipeline
    rows = q(env, "select reconciliation_status as s, count() as n from llm.fct_conversations "
                  "where app_prompt_tokens is not null group by s")
    statuses = {r['s']: r['n'] for r in rows}
    assert statuses.get('match', 0) > 0
    assert 'mismatch' not in statuses, statuses


def test_billing_export_totals_equal_the_truth(pipeline):
    env, manifest, _ = pipeline
    true, billed_errors = truth_totals(manifest, 'true'), truth_totals(manifest, 'billed_errors')
    providers = {r['provider'] for r in manifest['truth']['by_day_provider_model']}
    billed = q(env, 'select sum(input_tokens) as input, sum(output_tokens) as output '
                    'from llm_staging.stg_billing__provider_usage')[0]
    # Exports cover openai and anthropic only; the truth of other providers is not billed here.
    other = Counter()
    for row in manifest['truth']['by_day_provider_model']:
        if row['provider'] not in ('openai', 'anthropic'):
            other.update(row['true'])
            other.update(row['billed_errors'])
    assert {'openai', 'anthropic'} <= providers
    assert billed == {'input': true['input_tokens'] + billed_errors['input_tokens'] - other['input_tokens'],
                      'output': true['output_tokens'] + billed_errors['output_tokens'] - other['output_tokens']}


def test_fine_tunes_are_priced_as_fine_tunes_and_unknown_models_stay_unpriced(pipeline):
    """The generated fine-tune (ft:gpt-4o-mini-2024-07-18:...) bills at the catalogue's
    fine-tune rate (0.30/1.20), never at its base model's (0.15/0.60); the self-hosted
    model has no price anywhere, so its cost stays NULL."""
    env, manifest, _ = pipeline
    assert manifest['faults']['unknown_models']['count'] > 0
    fine_tunes = q(env, "select count() as n, countIf(cost_usd is not null) as priced, "
                        "groupUniqArray(priced_model) as patterns, "
                        "countIf(cost_usd is not null and abs(cost_usd - (input_tokens * 0.3 + output_tokens * 1.2) / 1e6)"
                        " > 1e-12) as off_rate "
                        "from llm.fct_llm_calls where startsWith(coalesce(response_model, request_model), 'ft:')")[0]
    assert fine_tunes['n'] > 0 and fine_tunes['priced'] > 0, fine_tunes
    assert fine_tunes['patterns'] == ['^ft:gpt-4o-mini-2024-.*$'] and fine_tunes['off_rate'] == 0, fine_tunes
    # The self-hosted model: OpenRouter and others resell Llama 3.3, but a reseller's price never
    # applies to another provider's calls, so its calls (when this seed has some) stay unpriced.
    hosted = q(env, "select count() as n, countIf(priced_model is null) as unpriced from llm.fct_llm_calls "
                    "where coalesce(response_model, request_model) ilike '%llama%'")[0]
    assert hosted['unpriced'] == hosted['n'], hosted


def test_cost_equals_an_independent_recomputation_from_the_seed(pipeline):
    """Every call's priced_model and cost_usd, recomputed in Python from the price seeds.

    tests/price_oracle.py picks the price row by the rule documented in seeds/_seeds.yml
    (response model, else request model; own catalogue provider; override; provider rank;
    priority) at the call's start, and prices the disjoint token buckets itself: the SQL
    formula is never reused."""
    env = pipeline[0]
    calls = q(env, 'select call_id, provider, request_model, response_model, priced_model, usage_source, '
                   'input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, '
                   'cost_usd, toUnixTimestamp64Nano(started_at) as started_ns from llm.fct_llm_calls')
    wrong, seen = [], Counter()
    for call in calls:
        row = price_of_call(call['response_model'], call['request_model'], call['provider'],
                            from_unix_nanos(call['started_ns']))
        expected = cost_usd(row, call['input_tokens'], call['output_tokens'], call['cache_read_tokens'],
                            call['cache_write_tokens'], call['reasoning_tokens'])
        # priced_model names the row that priced the call: NULL with the cost.
        priced_model = None if row is None or expected is None else row['model_pattern']
        if call['priced_model'] != priced_model:
            wrong.append(('priced_model', priced_model, call))
        elif expected is None or call['cost_usd'] is None:
            if expected != call['cost_usd']:
                wrong.append(('cost_usd', expected, call))
        elif call['cost_usd'] != pytest.approx(expected, rel=1e-9):
            wrong.append(('cost_usd', expected, call))
        seen['no price' if row is None else 'unknown usage' if expected is None else 'priced'] += 1
        if expected is not None:
            seen.update(bucket for bucket in ('cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens')
                        if call[bucket])
            seen[f"usage from {call['usage_source']}"] += 1
    assert wrong == []
    # Not vacuous: priced calls with every token bucket, log-sourced usage, unknown usage and a
    # fine-tune. The generated unknown models are that fine-tune, which the catalogue prices at its
    # own rate, and a self-hosted model this small run may not draw: calls without a price are
    # checked against genai-prices in tests/test_price_catalogue.py.
    fine_tunes = sum(1 for call in calls if (call['response_model'] or call['request_model'] or '').startswith('ft:'))
    assert seen['priced'] >= 100 and seen['unknown usage'] > 0 and fine_tunes > 0, seen
    assert all(seen[b] > 0 for b in ('cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens',
                                     'usage from log')), seen


# ------------------------------------------------------------------ numbers an analyst can explain

VERDICT_ORDER = ['no_counterpart', 'missing_usage', 'mismatch', 'within_tolerance', 'match']


def _tolerance():
    import yaml
    from conftest import ROOT
    return yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars']['reconciliation_tolerance']


def _verdict(pairs, has_counterpart, tolerance):
    """The documented rule, recomputed from the visible columns: each (observed,
    counterpart) pair gets a verdict, the most telling one wins."""
    def one(observed, counterpart):
        if not has_counterpart:
            return 'no_counterpart'
        if observed is None:
            return 'missing_usage'
        if counterpart is None:
            return 'no_counterpart'
        if observed == counterpart:
            return 'match'
        return ('within_tolerance' if abs(observed - counterpart) <= tolerance * max(abs(counterpart), 1)
                else 'mismatch')
    verdicts = {one(o, c) for o, c in pairs}
    return next(v for v in VERDICT_ORDER if v in verdicts)


def test_no_conversation_is_below_what_the_app_logged(pipeline):
    env = pipeline[0]
    rows = q(env, 'select * from llm.fct_conversations where app_prompt_tokens is not null')
    assert rows and any(r['turns_from_app_logs'] > 0 for r in rows)
    for r in rows:
        if r['usage_evidence'] != 'incomplete_spans':     # a call is known to lack usage
            assert r['input_tokens'] >= r['app_prompt_tokens'], r
            assert r['output_tokens'] >= r['app_completion_tokens'], r
    assert {r['usage_evidence'] for r in rows} >= {'spans', 'spans_and_app_logs'}


@pytest.mark.parametrize('mart', ['fct_traces', 'fct_conversations'])
def test_app_log_verdicts_follow_the_visible_columns(pipeline, mart):
    env, tolerance = pipeline[0], _tolerance()
    rows = q(env, f'select * from llm.{mart}')
    seen = Counter()
    for r in rows:
        has_logs = r['app_prompt_tokens'] is not None or r['app_completion_tokens'] is not None
        expected = _verdict([(r['span_input_tokens'], r['app_prompt_tokens']),
                             (r['span_output_tokens'], r['app_completion_tokens'])], has_logs, tolerance)
        assert r['reconciliation_status'] == expected, r
        seen[expected] += 1
    assert seen['match'] > 0 and seen['no_counterpart'] > 0, seen


def test_metric_verdicts_follow_the_visible_columns(pipeline):
    env, tolerance = pipeline[0], _tolerance()
    seen = Counter()
    for r in q(env, 'select * from llm.fct_model_daily'):
        ratio = r['implied_sampling_ratio']
        assert ratio is None or 0 < ratio < 1, r
        if r['reconciliation_status'] == 'sampled':
            assert ratio is not None and r['metric_calls'] > r['metered_calls'] > 0, r
            seen['sampled'] += 1
            continue
        compared = r['metric_calls'] is not None and (r['metric_calls'] > 0 or r['metered_calls'] > 0)
        missing = r['metered_calls_without_usage'] is not None and r['metered_calls_without_usage'] > 0
        expected = _verdict([(None if missing else r['metered_input_tokens'], r['metric_input_tokens']),
                             (None if missing else r['metered_output_tokens'], r['metric_output_tokens'])],
                            compared, tolerance)
        assert r['reconciliation_status'] == expected, r
        seen[expected] += 1
    assert seen['match'] > 0 and seen['no_counterpart'] > 0 and seen['sampled'] > 0, seen


@pytest.mark.parametrize('mart, key', [
    ('fct_traces', 'trace_id'),
    ('fct_conversations', 'conversation_id'),
    ('fct_model_daily', "call_date, coalesce(provider, '') as provider, coalesce(model_family, '') as model_family"),
])
def test_every_rollup_says_how_complete_it_is(pipeline, mart, key):
    """unpriced_calls, calls_without_usage and cost_complete, recounted from the calls."""
    env = pipeline[0]
    names = [k.split(' as ')[-1].strip() for k in key.split(', ') if k]
    if mart == 'fct_model_daily':
        names = ['call_date', 'provider', 'model_family']
    expected = {tuple(r[n] for n in names): r for r in q(
        env, f"select {key}, countIf(not is_priced) as unpriced, "
             f"countIf(usage_source = 'none' and not is_error) as without_usage, "
             f"countIf(not is_priced and not is_error) = 0 as complete "
             f"from llm.fct_llm_calls where {names[0]} is not null group by all")}
    rows = q(env, f'select * from llm.{mart}')
    checked = Counter()
    for r in rows:
        e = expected.get(tuple(r[n] for n in names))
        if e is None:                   # a rollup without calls (e.g. a log-only conversation)
            assert r['unpriced_calls'] == r['calls_without_usage'] == 0 and r['cost_complete'], r
            continue
        assert (r['unpriced_calls'], r['calls_without_usage'], bool(r['cost_complete'])) == \
            (e['unpriced'], e['without_usage'], bool(e['complete'])), r
        checked[bool(r['cost_complete'])] += 1
    assert checked[True] > 0 and checked[False] > 0, checked


def test_model_ids_keep_their_case(pipeline):
    env = pipeline[0]
    rows = q(env, "select model_id, model_family, response_model, request_model from llm.fct_llm_calls "
                  "where model_id like 'ft:%'")
    assert rows, 'the generated fine-tune calls are missing'
    for r in rows:
        assert r['model_id'] == (r['response_model'] or r['request_model'])
        assert r['model_id'] != r['model_id'].lower() and r['model_family'] == r['model_family'].lower()
    traces = q(env, "select model_ids from llm.fct_traces where arrayExists(m -> m like 'ft:%', model_ids)")
    assert any(m in {r['model_id'] for r in rows} for t in traces for m in t['model_ids'])
