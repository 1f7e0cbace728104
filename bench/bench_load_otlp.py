"""Benchmark `llmwh load otlp` against the engine's own JSONEachRow insert.

Generates a synthetic OTLP/JSON file of LLM spans (JSON Lines, one export
request of --spans-per-request spans per line) in a temp dir, loads it into a
fresh embedded warehouse with the loader, then inserts the very same rows
again with a plain `INSERT INTO otel.otel_traces FORMAT JSONEachRow` (the
engine's ceiling for this data) and prints both rates, their ratio and whether
the loader reaches half the plain insert's rate (project issue 8). Both rates
move with the machine's load; the ratio is the number to compare.

    .venv/bin/python bench/bench_load_otlp.py                 # 1M spans: a few minutes
    .venv/bin/python bench/bench_load_otlp.py --spans 20000   # a quick check
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmwh.warehouse.ddl import DdlOptions  # noqa: E402
from llmwh.warehouse.exporter import INSERT_COLUMNS  # noqa: E402
from llmwh.warehouse.schema import apply_ddl  # noqa: E402
from llmwh.otlp.loader import load_otlp_files  # noqa: E402
from llmwh.config import Target  # noqa: E402
from llmwh.warehouse import connect  # noqa: E402

MODELS = [('openai', 'gpt-4o', 'gpt-4o-2024-08-06'), ('openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'),
          ('anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929')]
SERVICES = ['librechat', 'support-bot', 'rag-api', 'research-agent']
# The plain insert: ClickHouse's own JSONEachRow text of the rows, as the loader used to send them.
JSON_SETTINGS = {'date_time_input_format': 'best_effort', 'input_format_skip_unknown_fields': 1}
TARGET = 0.5   # project issue 8: the loader at least half the plain insert's rate


def kv(key, value):
    if isinstance(value, bool):
        v = {'boolValue': value}
    elif isinstance(value, int):
        v = {'intValue': str(value)}
    elif isinstance(value, float):
        v = {'doubleValue': value}
    elif isinstance(value, list):
        v = {'arrayValue': {'values': [{'stringValue': x} for x in value]}}
    else:
        v = {'stringValue': value}
    return {'key': key, 'value': v}


def trace_spans(rng, start_ns):
    """Three spans of one chat turn: HTTP server span, LLM client call, tool call."""
    provider, model, response_model = rng.choice(MODELS)
    trace_id, root, llm, tool = os.urandom(16).hex(), os.urandom(8).hex(), os.urandom(8).hex(), os.urandom(8).hex()
    llm_ms, inp, out = rng.randint(300, 4000), rng.randint(50, 8000), rng.randint(10, 1500)
    llm_start = start_ns + 20_000_000
    llm_end = llm_start + llm_ms * 1_000_000
    return [
        {'traceId': trace_id, 'spanId': root, 'name': 'POST /api/chat', 'kind': 2,
         'startTimeUnixNano': str(start_ns), 'endTimeUnixNano': str(llm_end + 200_000_000),
         'attributes': [kv('http.request.method', 'POST'), kv('http.route', '/api/chat'),
                        kv('http.response.status_code', 200), kv('user.id', f'user-{rng.randint(1, 500)}')],
         'status': {}},
        {'traceId': trace_id, 'spanId': llm, 'parentSpanId': root, 'name': f'chat {model}', 'kind': 3,
         'startTimeUnixNano': str(llm_start), 'endTimeUnixNano': str(llm_end),
         'attributes': [kv('gen_ai.operation.name', 'chat'), kv('gen_ai.provider.name', provider),
                        kv('gen_ai.request.model', model), kv('gen_ai.response.model', response_model),
                        kv('gen_ai.usage.input_tokens', inp), kv('gen_ai.usage.output_tokens', out),
                        kv('gen_ai.request.temperature', rng.choice([0.0, 0.2, 0.7, 1.0])),
                        kv('gen_ai.request.stream', rng.random() < 0.5),
                        kv('gen_ai.response.finish_reasons', [rng.choice(['stop', 'tool_calls', 'length'])]),
                        kv('gen_ai.conversation.id', os.urandom(8).hex()), kv('server.address', 'api.example.com')],
         'events': [{'timeUnixNano': str(llm_start + 1000), 'name': 'gen_ai.user.message',
                     'attributes': [kv('gen_ai.system', provider)]},
                    {'timeUnixNano': str(llm_end - 1000), 'name': 'gen_ai.choice',
                     'attributes': [kv('gen_ai.system', provider), kv('index', 0)]}],
         'status': {'code': 1}},
        {'traceId': trace_id, 'spanId': tool, 'parentSpanId': root, 'name': 'execute_tool web_search', 'kind': 1,
         'startTimeUnixNano': str(llm_end + 10_000_000), 'endTimeUnixNano': str(llm_end + 150_000_000),
         'attributes': [kv('gen_ai.operation.name', 'execute_tool'), kv('gen_ai.tool.name', 'web_search'),
                        kv('gen_ai.tool.call.id', f'call_{os.urandom(6).hex()}')],
         'links': [{'traceId': trace_id, 'spanId': llm, 'attributes': [kv('link.reason', 'tool_call')]}],
         'status': {'code': 2, 'message': 'timeout'} if rng.random() < 0.02 else {}},
    ]


def generate(path, spans, per_request, seed=7):
    rng = random.Random(seed)
    start = 1_763_000_000_000_000_000
    written = 0
    with open(path, 'w') as fh:
        while written < spans:
            batch = []
            while len(batch) < min(per_request, spans - written):
                start += rng.randint(1, 2_000_000_000)
                batch.extend(trace_spans(rng, start))
            batch = batch[:spans - written]
            service = rng.choice(SERVICES)
            request = {'resourceSpans': [{
                'resource': {'attributes': [kv('service.name', service), kv('service.version', '1.4.2'),
                                            kv('deployment.environment.name', 'prod'),
                                            kv('telemetry.sdk.language', 'python')]},
                'scopeSpans': [{'scope': {'name': 'opentelemetry.instrumentation.openai_v2', 'version': '2.1b0'},
                                'spans': batch}]}]}
            fh.write(json.dumps(request, separators=(',', ':')) + '\n')
            written += len(batch)
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--spans', type=int, default=1_000_000)
    parser.add_argument('--spans-per-request', type=int, default=300)
    parser.add_argument('--jobs', type=int, default=None, help='loader parser processes (default: CPU count)')
    parser.add_argument('--keep', action='store_true', help='keep the temp dir')
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix='bench_load_otlp_'))
    try:
        source = tmp / 'spans.jsonl'
        t = time.perf_counter()
        size = generate(source, args.spans, args.spans_per_request)
        print(f'generated {args.spans:,} spans, {size / 1e6:,.0f} MB, in {time.perf_counter() - t:.1f}s')

        wh = connect(Target(name='bench', type='chdb', schema='default', path=str(tmp / 'wh')), create=True)
        apply_ddl(wh, DdlOptions(database='otel', retention={'default': 0}))

        t = time.perf_counter()
        summary = load_otlp_files(wh, 'otel', [str(source)], jobs=args.jobs)
        loader_s = time.perf_counter() - t
        loaded = summary.rows['otel_traces']
        assert loaded == args.spans, (loaded, args.spans)

        # The same rows, as the engine writes them, inserted with a plain JSONEachRow insert.
        columns = list(INSERT_COLUMNS['otel_traces'])
        rows_file = tmp / 'rows.jsonl'
        select = ', '.join(f'`{c}`' for c in columns)
        wh.command(f"select {select} from otel.otel_traces into outfile '{rows_file}' format JSONEachRow")
        wh.command('truncate table otel.otel_traces')
        wh.command('truncate table otel.otel_traces_trace_id_ts')

        def blocks():
            with open(rows_file, 'rb') as fh:
                while block := fh.read(8 << 20):
                    yield block

        t = time.perf_counter()
        wh.client.raw_insert('otel.otel_traces', columns, blocks(), settings=JSON_SETTINGS, fmt='JSONEachRow')
        ceiling_s = time.perf_counter() - t
        assert wh.rows('select count() from otel.otel_traces')[0][0] == args.spans

        loader_rate, ceiling_rate = args.spans / loader_s, args.spans / ceiling_s
        print(f'{"llmwh load otlp":<32} {args.spans:>10,} rows in {loader_s:7.1f}s {loader_rate:>10,.0f} rows/s')
        print(f'{"INSERT ... FORMAT JSONEachRow":<32} {args.spans:>10,} rows in {ceiling_s:7.1f}s '
              f'{ceiling_rate:>10,.0f} rows/s')
        ratio = loader_rate / ceiling_rate
        print(f'ratio (loader / plain insert): {ratio:.2f}x   (CPUs: {os.cpu_count()}, loader jobs: '
              f'{args.jobs or os.cpu_count()}, load average: {os.getloadavg()[0]:.1f})')
        print(f'{"pass" if ratio >= TARGET else "miss"}: target >= {TARGET}x of the plain insert rate')
    finally:
        if args.keep:
            print(f'kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
