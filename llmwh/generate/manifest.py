"""The ground truth of a generated data set, and manifest.json.

manifest.json (all times UTC; a "day" is the UTC date of a call's *true* start,
i.e. before any clock skew):

* generator, generator_version, llmwh_version, otel_sdk_version, seed, start, end, days,
  options (conversations, spans_target, sdk_spans_budget, faults, gzip, metric_interval_s).
* files: per output file (path relative to --out): lines, and spans / log_records /
  histogram_points / sum_points in it. The late files hold what arrives late.
* tables: rows the collector's ClickHouse exporter writes when every OTLP file (main and
  late) is exported: otel_traces = span records (duplicates included), otel_logs = log
  records (duplicates included), otel_metrics_histogram / otel_metrics_sum = data points,
  the other metric tables 0.
* paths: how the rows were produced: sdk_units / sdk_spans / sdk_logs (built by the
  OpenTelemetry SDK) and replicated_units / replicated_spans / replicated_logs (SDK units
  rendered again with new ids and times). Counts are of generated records, before the
  sampling / late / duplicate faults (so otel_traces = sdk_spans + replicated_spans -
  faults.sampling.spans + faults.duplicates.spans; --spans targets sdk + replicated).
  sdk_metric_measurements went through the SDK instruments; replicated_metric_measurements
  (the replicated units' calls) were aggregated with the SDK's bucket rule and merged into
  the SDK's data points.
* faults: per fault name: enabled, count (what it did; unit below), description, and
  details: usage_missing (successful LLM spans written without token attributes; counted
  before sampling), duplicates (extra span records `spans` and log records `logs`; `count`
  = spans + logs), late (spans and logs written to the late files, `traces` = late traces),
  unknown_models / dated_snapshots (LLM calls), clock_skew (spans + logs with shifted
  times; `services` = shift in ns, `llm_calls_crossing_day` = calls whose written day
  differs from the true day), sampling (`ratio`, `flavours`, traces / spans / llm_calls
  dropped), bad_evaluations (evaluation results planted with a non-numeric score or
  without a label; counted before sampling).
* flavours: per flavour: units, traces, spans, llm_calls, services, scope names.
* truth:
  - by_day_provider_model: one row per (day, provider, response_model, request_model).
    provider is canonical (openai, anthropic, gcp.gemini, gcp.vertex_ai, hosted_vllm);
    response_model is the id the provider reports and bills under; request_model what
    the app asked for (alias, dated id or proxy alias). Counters:
      calls, ok_calls, error_calls;
      true:    ok calls' tokens, all traffic (sampled out and late included, each call once,
               leaf provider calls only: never an umbrella/framework/proxy-client span);
      emitted: the same, for calls whose trace was written (kept by sampling; main or late
               file); emitted_with_usage: ... and whose leaf span carries the token counts;
      billed_errors: failed calls the provider billed anyway (client timeouts): calls and
               tokens. Provider billing = true + billed_errors.
    Token fields (`TOKEN_FIELDS`): input_tokens (inclusive of cache reads and writes),
    output_tokens (inclusive of reasoning), cache_read_input_tokens,
    cache_write_input_tokens (all cache writes), cache_write_1h_input_tokens (the 1-hour
    part of the writes), reasoning_output_tokens.
  - conversations: file truth_conversations.jsonl, one JSON object per conversation:
    conversation_id, flavour, traces (distinct traces written to the trace files), llm_calls,
    ok_calls plus the TOKEN_FIELDS of its ok
    calls (true, all traffic). The conversation id is LibreChat's conversationId,
    gen_ai.conversation.id, traceloop.association.properties.session_id or OpenInference
    session.id, per flavour.
  - totals: the by_day rows summed.
  - metrics: what was recorded into the SDK instruments (all calls, sampling never
    applies): rows (service, metric, token_type, error) -> count and sum. Delta services:
    sum over data points; cumulative: the last point per series.
  - evaluations: file truth_evaluations.jsonl, one JSON object per evaluation result
    (of the openinference flavour's answers), in the order planted: evaluation_name,
    shape (`event`: a gen_ai.evaluation.result log record in the evaluated span's context;
    `evaluator_span`: an OpenInference EVALUATOR span with metadata.* results, linked to the
    evaluated span; `judge_span`: the judge's own LLM span with gen_ai.evaluation.* results,
    linked to the evaluated span), score_value (NULL when planted as not a number),
    score_label (NULL when planted without a label), issue (`score_not_numeric`,
    `label_missing` or null: the bad_evaluations fault), trace_id, evaluated_span_id,
    result_span_id (the evaluator or judge span; null for events), evaluated_at_ns and day
    (the event's time or the result span's start), provider / response_model of the
    evaluated call, emitted (the record was written: events always, span results when their
    trace was kept). Scales: grounded 0..1, relevance 1..5, hallucination 0/1.
    by_day_model: the emitted results summed per (day, provider, response_model,
    evaluation_name): results, scored_results (numeric score), score_sum, labels
    ({label: results}), unlabelled.
* billing: the provider export files and what they hold (see billing.py).
"""

import json

TOKEN_FIELDS = ('input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_write_input_tokens',
                'cache_write_1h_input_tokens', 'reasoning_output_tokens')
DAY_NS = 86_400 * 10**9


def _add(acc, v):
    acc[0] += v[0]
    acc[1] += v[1]
    acc[2] += v[2]
    acc[3] += v[3]
    acc[4] += v[4]
    acc[5] += v[5]


class Truth:
    def __init__(self, day_name):
        self.day_name = day_name          # day index -> 'YYYY-MM-DD'
        self.rows = {}                    # key -> [calls, ok, err, true[6], emitted_calls, emitted[6], ewu_calls, ewu[6], berr_calls, berr[6]]
        self.conversations = {}           # id -> [flavour, traces, calls, ok, tokens[6]]
        self.billing = {}                 # (day, provider, model, billing service) -> [requests, tokens[6]]
        self.metrics = {}                 # (service, metric, token_type, error) -> [count, sum]
        self.evaluations = []             # one dict per planted evaluation result

    def call(self, c, t, start_ns, kept, conversation_id):
        """One leaf LLM call starting (true time) at t; kept: its trace was written."""
        day = (t - start_ns) // DAY_NS
        key = (day, c['provider'], c['response_model'], c['request_model'])
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0, 0, 0, [0] * 6, 0, [0] * 6, 0, [0] * 6, 0, [0] * 6]
        row[0] += 1
        tokens = c['tokens']
        if c['ok']:
            row[1] += 1
            _add(row[3], tokens)
            if kept:
                row[4] += 1
                _add(row[5], tokens)
                if c['usage_reported']:
                    row[6] += 1
                    _add(row[7], tokens)
        else:
            row[2] += 1
            if c['billed_error']:
                row[8] += 1
                _add(row[9], tokens)
        if conversation_id is not None:
            conv = self.conversations[conversation_id]
            conv[2] += 1
            if c['ok']:
                conv[3] += 1
                _add(conv[4], tokens)
        if c['ok'] or c['billed_error']:
            bkey = (day, c['provider'], c['response_model'], c['billing_service'])
            b = self.billing.get(bkey)
            if b is None:
                b = self.billing[bkey] = [0, [0] * 6]
            b[0] += 1
            _add(b[1], tokens)

    def evaluation(self, e, ids, t, start_ns, emitted):
        """One evaluation result of a unit (e: template form; ids: the unit's ids; t: true time)."""
        self.evaluations.append({
            'evaluation_name': e['evaluation_name'], 'shape': e['shape'], 'score_value': e['score_value'],
            'score_label': e['score_label'], 'issue': e['issue'], 'trace_id': ids[e['trace']],
            'evaluated_span_id': ids[e['evaluated_span']],
            'result_span_id': ids[e['result_span']] if e['result_span'] is not None else None,
            'evaluated_at_ns': t, 'day': self.day_name((t - start_ns) // DAY_NS),
            'provider': e['provider'], 'response_model': e['response_model'], 'emitted': emitted})

    def evaluation_lines(self):
        for e in self.evaluations:
            yield json.dumps(e, separators=(',', ':'))

    def evaluation_rows(self):
        rows = {}
        for e in self.evaluations:
            if not e['emitted']:
                continue
            key = (e['day'], e['provider'], e['response_model'], e['evaluation_name'])
            r = rows.get(key)
            if r is None:
                r = rows[key] = {'results': 0, 'scored_results': 0, 'score_sum': 0.0, 'labels': {}, 'unlabelled': 0}
            r['results'] += 1
            if e['score_value'] is not None:
                r['scored_results'] += 1
                r['score_sum'] += e['score_value']
            if e['score_label'] is None:
                r['unlabelled'] += 1
            else:
                r['labels'][e['score_label']] = r['labels'].get(e['score_label'], 0) + 1
        return [{'day': d, 'provider': p, 'response_model': m, 'evaluation_name': n, **r,
                 'score_sum': round(r['score_sum'], 6), 'labels': dict(sorted(r['labels'].items()))}
                for (d, p, m, n), r in sorted(rows.items())]

    def conversation(self, conversation_id, flavour, traces):
        self.conversations[conversation_id] = [flavour, traces, 0, 0, [0] * 6]

    def metric(self, service, metric, token_type, error, value):
        key = (service, metric, token_type, error)
        m = self.metrics.get(key)
        if m is None:
            m = self.metrics[key] = [0, 0.0]
        m[0] += 1
        m[1] += value

    def by_day_rows(self):
        out = []
        for (day, provider, response_model, request_model), r in sorted(self.rows.items()):
            out.append({
                'day': self.day_name(day), 'provider': provider, 'response_model': response_model,
                'request_model': request_model, 'calls': r[0], 'ok_calls': r[1], 'error_calls': r[2],
                'true': dict(zip(TOKEN_FIELDS, r[3])),
                'emitted': {'calls': r[4], **dict(zip(TOKEN_FIELDS, r[5]))},
                'emitted_with_usage': {'calls': r[6], **dict(zip(TOKEN_FIELDS, r[7]))},
                'billed_errors': {'calls': r[8], **dict(zip(TOKEN_FIELDS, r[9]))},
            })
        return out

    def totals(self):
        total = {'calls': 0, 'ok_calls': 0, 'error_calls': 0, 'true': [0] * 6, 'emitted': [0] * 6,
                 'billed_errors': [0] * 6, 'emitted_calls': 0, 'billed_error_calls': 0}
        for r in self.rows.values():
            total['calls'] += r[0]
            total['ok_calls'] += r[1]
            total['error_calls'] += r[2]
            _add(total['true'], r[3])
            total['emitted_calls'] += r[4]
            _add(total['emitted'], r[5])
            total['billed_error_calls'] += r[8]
            _add(total['billed_errors'], r[9])
        for k in ('true', 'emitted', 'billed_errors'):
            total[k] = dict(zip(TOKEN_FIELDS, total[k]))
        return total

    def conversation_lines(self):
        for conv_id, (flavour, traces, calls, ok, tokens) in sorted(self.conversations.items()):
            yield json.dumps({'conversation_id': conv_id, 'flavour': flavour, 'traces': traces,
                              'llm_calls': calls, 'ok_calls': ok, **dict(zip(TOKEN_FIELDS, tokens))},
                             separators=(',', ':'))

    def metric_rows(self):
        return [{'service': s, 'metric': m, 'token_type': tt, 'error_type': e, 'count': v[0],
                 'sum': round(v[1], 6)}
                for (s, m, tt, e), v in sorted(self.metrics.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]
