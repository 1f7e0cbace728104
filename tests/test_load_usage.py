"""`llmwh load usage`: provider usage/cost exports parse, load idempotently and stage one row per key.

Expected values are written by hand from the files in tests/data/billing/.
"""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from conftest import ROOT, dbt, llmwh, warehouse_env
from llmwh.billing.exports import ExportError, parse_export
from llmwh.warehouse.ddl import DdlOptions, render
from llmwh.errors import LlmwhError
from llmwh.warehouse.schema import apply_ddl
from llmwh.billing.loader import load_usage_files

DATA = ROOT / 'tests' / 'data' / 'billing'
DB = 't_billing'


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def measures(row, *names):
    return {name: row[name] for name in names}


# ---------------------------------------------------------------- parsing (no engine)

def test_openai_completions_page():
    export = parse_export(DATA / 'openai_completions_page.json', 'openai')
    assert (export.kind, export.table, export.source_format) == ('usage', 'provider_usage', 'openai_usage_json')
    assert len(export.rows) == 3
    first = export.rows[0]
    assert {k: v for k, v in first.items() if k not in ('raw', 'source_file')} == {
        'provider': 'openai', 'bucket_start': utc('2026-09-01T00:00'), 'bucket_end': utc('2026-09-02T00:00'),
        'model': 'gpt-4o-2024-08-06', 'project_id': 'proj_a', 'api_key_id': None, 'user_id': None,
        'service_tier': None, 'batch': None, 'api_source': None, 'context_window': None,
        'inference_geo': None, 'speed': None, 'account_id': None, 'service_account_id': None,
        # OpenAI input_tokens already includes the 400 cached tokens.
        'input_tokens': 1000, 'uncached_input_tokens': None, 'cache_read_input_tokens': 400,
        'cache_write_input_tokens': None, 'cache_write_5m_input_tokens': None,
        'cache_write_1h_input_tokens': None, 'output_tokens': 200, 'input_audio_tokens': 0,
        'output_audio_tokens': 0, 'num_model_requests': 10, 'web_search_requests': None,
        'source_format': 'openai_usage_json',
    }
    assert first['source_file'] == str(DATA / 'openai_completions_page.json')
    assert json.loads(first['raw'])['num_model_requests'] == 10
    assert [(r['bucket_start'].day, r['model'], r['input_tokens'], r['output_tokens']) for r in export.rows] == [
        (1, 'gpt-4o-2024-08-06', 1000, 200), (1, 'gpt-4o-mini-2024-07-18', 5000, 1000),
        (2, 'gpt-4o-2024-08-06', 2000, 300)]


def test_openai_json_lines_of_pages():
    export = parse_export(DATA / 'openai_completions_pages.jsonl', 'openai')
    assert export.source_format == 'openai_usage_jsonl'
    assert [(r['bucket_start'], r['input_tokens'], r['output_tokens'], r['num_model_requests'])
            for r in export.rows] == [(utc('2026-09-02T00:00'), 2500, 350, 25), (utc('2026-09-03T00:00'), 100, 10, 1)]
    assert export.warnings == []     # the last page has has_more: false


def test_openai_array_of_pages_with_hourly_buckets_and_group_keys():
    export = parse_export(DATA / 'openai_completions_array.json', 'openai')
    assert [measures(r, 'bucket_start', 'bucket_end', 'user_id', 'api_key_id', 'project_id', 'batch',
                     'service_tier', 'input_tokens', 'uncached_input_tokens', 'cache_read_input_tokens',
                     'input_audio_tokens', 'num_model_requests') for r in export.rows] == [
        {'bucket_start': utc('2026-09-01T10:00'), 'bucket_end': utc('2026-09-01T11:00'), 'user_id': 'user-kim',
         'api_key_id': 'key_abc', 'project_id': None, 'batch': True, 'service_tier': 'default',
         'input_tokens': 300, 'uncached_input_tokens': 300, 'cache_read_input_tokens': 0,
         'input_audio_tokens': None, 'num_model_requests': 3},
        {'bucket_start': utc('2026-09-01T11:00'), 'bucket_end': utc('2026-09-01T12:00'), 'user_id': 'user-kim',
         'api_key_id': 'key_abc', 'project_id': None, 'batch': False, 'service_tier': 'flex',
         'input_tokens': 700, 'uncached_input_tokens': 600, 'cache_read_input_tokens': 100,
         'input_audio_tokens': None, 'num_model_requests': 7},
    ]


def test_openai_dashboard_csv():
    export = parse_export(DATA / 'openai_usage.csv', 'openai')
    assert (export.kind, export.source_format) == ('usage', 'openai_usage_csv')
    assert [measures(r, 'bucket_start', 'model', 'project_id', 'batch', 'service_tier', 'input_tokens',
                     'cache_read_input_tokens', 'output_tokens', 'input_audio_tokens', 'num_model_requests')
            for r in export.rows] == [
        {'bucket_start': utc('2026-09-01T00:00'), 'model': 'gpt-4o-2024-08-06', 'project_id': 'proj_a',
         'batch': None, 'service_tier': None, 'input_tokens': 1000, 'cache_read_input_tokens': 400,
         'output_tokens': 200, 'input_audio_tokens': 0, 'num_model_requests': 10},
        # Empty cells are unknown (NULL), not 0.
        {'bucket_start': utc('2026-09-01T00:00'), 'model': 'gpt-4o-mini-2024-07-18', 'project_id': 'proj_b',
         'batch': None, 'service_tier': None, 'input_tokens': 5000, 'cache_read_input_tokens': 0,
         'output_tokens': 1000, 'input_audio_tokens': None, 'num_model_requests': 50},
        {'bucket_start': utc('2026-09-04T00:00'), 'model': 'o3-2025-04-16', 'project_id': 'proj_a',
         'batch': True, 'service_tier': None, 'input_tokens': 800, 'cache_read_input_tokens': 0,
         'output_tokens': 1200, 'input_audio_tokens': None, 'num_model_requests': 4},
    ]
    assert export.rows[0]['bucket_end'] == utc('2026-09-02T00:00')


def test_openai_costs_pages():
    export = parse_export(DATA / 'openai_costs.json', 'openai')
    assert (export.kind, export.table) == ('costs', 'provider_costs')
    assert [measures(r, 'bucket_start', 'project_id', 'line_item', 'amount', 'amount_usd', 'currency', 'amount_raw')
            for r in export.rows] == [
        {'bucket_start': utc('2026-09-01T00:00'), 'project_id': 'proj_a', 'line_item': 'gpt-4o-2024-08-06, input',
         'amount': Decimal('0.06'), 'amount_usd': Decimal('0.06'), 'currency': 'USD', 'amount_raw': '0.06'},
        {'bucket_start': utc('2026-09-01T00:00'), 'project_id': 'proj_a', 'line_item': 'gpt-4o-2024-08-06, output',
         'amount': Decimal('1.25'), 'amount_usd': Decimal('1.25'), 'currency': 'USD', 'amount_raw': '1.25'},
        {'bucket_start': utc('2026-09-02T00:00'), 'project_id': None, 'line_item': None,
         'amount': Decimal('0.130804383403'), 'amount_usd': Decimal('0.130804383403'), 'currency': 'USD',
         'amount_raw': '0.13080438340307526'},
    ]


def test_anthropic_usage_input_is_made_inclusive():
    export = parse_export(DATA / 'anthropic_usage.json', 'anthropic')
    assert (export.kind, export.source_format) == ('usage', 'anthropic_usage_json')
    sonnet = export.rows[0]
    assert {k: v for k, v in sonnet.items() if k not in ('raw', 'source_file', 'source_format')} == {
        'provider': 'anthropic', 'bucket_start': utc('2026-09-01T00:00'), 'bucket_end': utc('2026-09-02T00:00'),
        'model': 'claude-sonnet-4-5-20250929', 'project_id': 'wrkspc_01', 'api_key_id': None, 'user_id': None,
        'service_tier': 'standard', 'batch': None, 'api_source': None, 'context_window': '0-200k',
        'inference_geo': None, 'speed': None, 'account_id': None, 'service_account_id': None,
        # 1500 uncached + 20000 cache read + 3000 (5m) + 500 (1h) cache write
        'input_tokens': 25000, 'uncached_input_tokens': 1500, 'cache_read_input_tokens': 20000,
        'cache_write_input_tokens': 3500, 'cache_write_5m_input_tokens': 3000,
        'cache_write_1h_input_tokens': 500, 'output_tokens': 2500, 'input_audio_tokens': None,
        'output_audio_tokens': None, 'num_model_requests': None, 'web_search_requests': 4,
    }
    haiku, later = export.rows[1], export.rows[2]
    assert measures(haiku, 'project_id', 'service_tier', 'input_tokens', 'web_search_requests') == {
        'project_id': None, 'service_tier': 'batch', 'input_tokens': 800, 'web_search_requests': 0}
    # server_tool_use: null gives an unknown web search count, not 0.
    assert measures(later, 'input_tokens', 'cache_write_input_tokens', 'web_search_requests') == {
        'input_tokens': 1300, 'cache_write_input_tokens': 200, 'web_search_requests': None}


def test_anthropic_usage_without_cache_writes_has_unknown_inclusive_input():
    export = parse_export(DATA / 'anthropic_usage_refreshed.json', 'anthropic')
    no_cache_creation = export.rows[1]
    assert measures(no_cache_creation, 'uncached_input_tokens', 'cache_read_input_tokens',
                    'cache_write_input_tokens', 'input_tokens', 'output_tokens') == {
        'uncached_input_tokens': 40, 'cache_read_input_tokens': 60, 'cache_write_input_tokens': None,
        'input_tokens': None, 'output_tokens': 5}


def test_anthropic_cost_report_cents_become_dollars():
    export = parse_export(DATA / 'anthropic_costs.json', 'anthropic')
    assert (export.kind, export.source_format) == ('costs', 'anthropic_costs_json')
    assert [measures(r, 'project_id', 'line_item', 'cost_type', 'token_type', 'model', 'amount_usd',
                     'amount_raw', 'currency') for r in export.rows] == [
        {'project_id': 'wrkspc_01', 'line_item': 'Claude Sonnet 4.5 Usage - Input Tokens', 'cost_type': 'tokens',
         'token_type': 'uncached_input_tokens', 'model': 'claude-sonnet-4-5-20250929',
         'amount_usd': Decimal('1.2345'), 'amount_raw': '123.45', 'currency': 'USD'},
        {'project_id': 'wrkspc_01', 'line_item': 'Claude Sonnet 4.5 Usage - Output Tokens', 'cost_type': 'tokens',
         'token_type': 'output_tokens', 'model': 'claude-sonnet-4-5-20250929',
         'amount_usd': Decimal('25'), 'amount_raw': '2500', 'currency': 'USD'},
        {'project_id': None, 'line_item': 'Web Search', 'cost_type': 'web_search', 'token_type': None,
         'model': None, 'amount_usd': Decimal('0.015'), 'amount_raw': '1.5', 'currency': 'USD'},
    ]


def test_repeated_key_in_one_file_keeps_the_later_row(tmp_path):
    page = json.loads((DATA / 'openai_completions_page.json').read_text())
    again = json.loads(json.dumps(page['data'][0]))
    again['results'][0]['input_tokens'] = 1111
    page['data'].append(again)
    path = tmp_path / 'twice.json'
    path.write_text(json.dumps(page))
    export = parse_export(path, 'openai')
    assert export.repeated_keys == 2     # both results of the repeated Sep 1 bucket
    assert sorted((r['model'], r['bucket_start'].day, r['input_tokens']) for r in export.rows) == [
        ('gpt-4o-2024-08-06', 1, 1111), ('gpt-4o-2024-08-06', 2, 2000), ('gpt-4o-mini-2024-07-18', 1, 5000)]


def test_kind_override_only_when_content_cannot_tell(tmp_path):
    path = tmp_path / 'keys_only.json'
    path.write_text(json.dumps({'object': 'page', 'data': [
        {'start_time': 1788220800, 'end_time': 1788307200, 'results': [{'project_id': 'proj_a'}]}]}))
    with pytest.raises(ExportError, match='cannot tell whether this is usage or costs; pass --kind'):
        parse_export(path, 'openai')
    export = parse_export(path, 'openai', kind='usage')
    assert export.kind == 'usage' and export.rows[0]['project_id'] == 'proj_a'
    assert export.rows[0]['input_tokens'] is None and export.rows[0]['num_model_requests'] is None
    # Content that does tell wins; a contradicting --kind is an error.
    with pytest.raises(ExportError, match='holds costs, but --kind usage was given'):
        parse_export(DATA / 'openai_costs.json', 'openai', kind='usage')
    empty = tmp_path / 'empty_page.json'
    empty.write_text('{"object": "page", "data": [], "has_more": false, "next_page": null}')
    assert parse_export(empty, 'openai').rows == []
    assert parse_export(empty, 'openai', kind='costs').kind == 'costs'


def test_last_page_with_more_to_come_warns(tmp_path):
    page = json.loads((DATA / 'openai_completions_page.json').read_text())
    page['has_more'] = True
    path = tmp_path / 'first_page_only.json'
    path.write_text(json.dumps(page))
    assert 'has_more: true' in parse_export(path, 'openai').warnings[0]


PAGE_HEAD = '{"object": "page", "data": [{"start_time": 1788220800, "end_time": 1788307200, "results": ['
ANTHROPIC_HEAD = '{"data": [{"starting_at": "2026-09-01T00:00:00Z", "ending_at": "2026-09-02T00:00:00Z", "results": ['
CSV_HEAD = 'start_time,end_time,start_time_iso,end_time_iso,input_tokens,output_tokens,num_model_requests,model\n'
CSV_ROW = '1788220800,1788307200,2026-09-01T00:00:00Z,2026-09-02T00:00:00Z,'


@pytest.mark.parametrize('name, content, provider, needles', [
    ('broken.json', '{"object": "page",\n "data": [\n', 'openai', ['line 3', 'invalid JSON']),
    ('broken.jsonl', '{"object": "page", "data": []}\n{"object": "page", "data": [\n', 'openai',
     ['line 2', 'invalid JSON']),
    ('bad_number.csv', CSV_HEAD + CSV_ROW + '10,5,1,gpt-4o\n' + CSV_ROW + '12.5,5,1,gpt-4o\n', 'openai',
     ['line 3', 'input_tokens must be a whole number', "'12.5'"]),
    ('short_row.csv', CSV_HEAD + CSV_ROW + '10,5,1\n', 'openai', ['line 2', 'has 7 fields, the header has 8']),
    ('times_disagree.csv', CSV_HEAD + '1788220800,1788307200,2026-09-02T00:00:00Z,2026-09-02T00:00:00Z,1,1,1,m\n',
     'openai', ['line 2', 'start_time 1788220800 and start_time_iso', 'disagree']),
    ('no_times.csv', 'input_tokens,output_tokens\n1,2\n', 'openai', ['line 1', 'start_time']),
    ('negative.json', PAGE_HEAD + '{"input_tokens": -5, "output_tokens": 1}]}]}', 'openai',
     ['bucket 1 (2026-09-01T00:00:00Z), result 1', 'input_tokens must be a whole number >= 0']),
    ('backwards.json', '{"data": [{"start_time": 1788307200, "end_time": 1788220800, "results": []}]}', 'openai',
     ['bucket 1', 'before it starts']),
    ('embeddings.json', PAGE_HEAD + '{"object": "organization.usage.embeddings.result", "input_tokens": 5}]}]}',
     'openai', ["unsupported result object 'organization.usage.embeddings.result'"]),
    ('no_amount.json', ANTHROPIC_HEAD + '{"currency": "USD", "amount": "", "description": "x"}]}]}',
     'anthropic', ['result 1', 'amount is missing']),
    ('bad_amount.json', ANTHROPIC_HEAD + '{"currency": "USD", "amount": "12,5"}]}]}', 'anthropic',
     ['amount must be a number']),
    ('no_currency.json', PAGE_HEAD + '{"amount": {"value": 1.5}, "line_item": "x"}]}]}', 'openai',
     ['the amount has no currency']),
    ('cache_creation.json', ANTHROPIC_HEAD + '{"uncached_input_tokens": 1, "cache_creation": 7}]}]}',
     'anthropic', ['cache_creation must be an object']),
    ('naive_time.json', '{"data": [{"starting_at": "2026-09-01T00:00:00", "ending_at": "2026-09-02T00:00:00Z", '
     '"results": []}]}', 'anthropic', ['has no UTC offset']),
    ('wrong_provider.json', ANTHROPIC_HEAD + ']}]}', 'openai', ['looks like an Anthropic report', '--provider anthropic']),
    ('wrong_provider2.json', PAGE_HEAD + ']}]}', 'anthropic', ['looks like an OpenAI export', '--provider openai']),
    ('error.json', '{"error": {"type": "authentication_error", "message": "invalid x-api-key"}}', 'anthropic',
     ['holds an API error response', 'invalid x-api-key']),
    ('mixed.json', PAGE_HEAD + '{"input_tokens": 1}, {"amount": {"value": 1, "currency": "usd"}}]}]}', 'openai',
     ['result 2', 'mixes usage and cost results']),
    ('anthropic.csv', CSV_HEAD, 'anthropic', ['not JSON', 'CSV is read for OpenAI']),
    ('empty.json', '  \n', 'openai', ['the file is empty']),
])
def test_bad_input_is_a_clear_error_naming_file_and_place(tmp_path, name, content, provider, needles):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ExportError) as info:
        parse_export(path, provider)
    message = str(info.value)
    assert message.startswith(f'{path}: '), message
    assert '\n' not in message
    for needle in needles:
        assert needle in message, message


def test_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(ExportError, match='no such file'):
        parse_export(tmp_path / 'missing.json', 'openai')
    binary = tmp_path / 'latin1.csv'
    binary.write_bytes('start_time,end_time,model\n1,2,caf\xe9\n'.encode('latin-1'))
    with pytest.raises(ExportError, match='not UTF-8'):
        parse_export(binary, 'openai')


# ---------------------------------------------------------------- DDL

def test_billing_tables_keep_data_longer_than_telemetry():
    from llmwh.config import retention_days
    days = retention_days()
    assert days['provider_usage'] == days['provider_costs'] == 400 > days['otel_traces']


def test_cluster_form_replaces_by_loaded_at_and_shards_by_bucket():
    sql = '\n'.join(st.sql for st in render(DdlOptions(cluster='c1', retention={'default': 30}))
                    if st.source in ('100_provider_usage.sql', '110_provider_costs.sql'))
    for table in ('provider_usage', 'provider_costs'):
        assert f"`otel`.`{table}_local` on cluster `c1`" in sql
        assert (f"ENGINE = Distributed(`c1`, `otel`, `{table}_local`, cityHash64(provider, bucket_start))"
                in sql)
    assert sql.count("'{replica}', loaded_at)") == 2
    assert sql.count('allow_nullable_key = 1') == 2


# ---------------------------------------------------------------- loading into the engine

@pytest.fixture(scope='module')
def billing_db(wh):
    status = apply_ddl(wh, DdlOptions(database=DB))
    assert status['provider_usage'] == status['provider_costs'] == 'created'
    return DB


@pytest.fixture
def empty_db(wh, billing_db):
    for table in ('provider_usage', 'provider_costs', 'llmwh_loaded_files'):
        wh.command(f'truncate table {billing_db}.{table}')
    return billing_db


def load(wh, db, provider, *names, **kwargs):
    lines = []
    totals = load_usage_files(wh, db, provider, [DATA / n if isinstance(n, str) else n for n in names],
                              echo=lambda text='', **_: lines.append(text), **kwargs)
    return totals, lines


def usage_totals(wh, db, provider='openai'):
    """Rows and sums as a reader sees them: latest load per key (FINAL)."""
    return wh.rows(f'select count(), sum(input_tokens), sum(output_tokens), sum(num_model_requests) '
                   f"from {db}.provider_usage final where provider = '{provider}'")[0]


def test_reloading_the_same_file_never_double_counts(wh, empty_db):
    totals, lines = load(wh, empty_db, 'openai', 'openai_completions_page.json')
    assert totals == {'provider_usage': 3, 'provider_costs': 0}
    assert any('openai_completions_page.json: openai_usage_json, 3 rows -> provider_usage' in x for x in lines)
    first = usage_totals(wh, empty_db)
    assert first == (3, 8000, 1500, 80)
    load(wh, empty_db, 'openai', 'openai_completions_page.json')
    load(wh, empty_db, 'openai', 'openai_completions_page.json', 'openai_completions_page.json')
    assert usage_totals(wh, empty_db) == first
    # Content loaded before is skipped: raw readers see each row once too.
    assert wh.rows(f'select count() from {empty_db}.provider_usage')[0][0] == 3


def test_loaded_content_is_skipped_unless_forced(wh, empty_db, tmp_path):
    load(wh, empty_db, 'openai', 'openai_completions_page.json')
    copy = tmp_path / 'renamed.json'
    copy.write_bytes((DATA / 'openai_completions_page.json').read_bytes())
    totals, lines = load(wh, empty_db, 'openai', copy)
    assert totals == {'provider_usage': 0, 'provider_costs': 0}
    assert any('renamed.json: already loaded at ' in x and '(same content as ' in x for x in lines), lines
    assert wh.rows(f'select count() from {empty_db}.provider_usage')[0][0] == 3
    totals, _ = load(wh, empty_db, 'openai', copy, force=True)
    assert totals == {'provider_usage': 3, 'provider_costs': 0}
    # Forced: the raw rows are there twice until a merge; the reader's dedupe still counts them once.
    assert wh.rows(f'select count() from {empty_db}.provider_usage')[0][0] == 6
    assert usage_totals(wh, empty_db) == (3, 8000, 1500, 80)
    assert wh.rows(f'select count() from {empty_db}.llmwh_loaded_files')[0][0] == 2


def test_overlapping_export_replaces_the_overlap(wh, empty_db):
    load(wh, empty_db, 'openai', 'openai_completions_page.json')
    load(wh, empty_db, 'openai', 'openai_completions_pages.jsonl')
    # Sep 1 (1000 + 5000 in) from the page; Sep 2 refreshed to 2500 by the later export; Sep 3 new.
    assert usage_totals(wh, empty_db) == (4, 8600, 1560, 86)
    load(wh, empty_db, 'openai', 'openai_completions_pages.jsonl')
    assert usage_totals(wh, empty_db) == (4, 8600, 1560, 86)


def test_csv_and_api_exports_of_the_same_buckets_do_not_double_count(wh, empty_db):
    load(wh, empty_db, 'openai', 'openai_completions_page.json', 'openai_usage.csv')
    # Sep 1 gpt-4o and gpt-4o-mini are in both files; the CSV (loaded later) wins.
    assert usage_totals(wh, empty_db) == (4, 8800, 2700, 84)
    assert wh.rows(f"select input_audio_tokens, source_format from {empty_db}.provider_usage final "
                   f"where model = 'gpt-4o-mini-2024-07-18'") == [(None, 'openai_usage_csv')]


def test_anthropic_loads_keep_nulls_and_dollars(wh, empty_db):
    totals, _ = load(wh, empty_db, 'anthropic', 'anthropic_usage.json', 'anthropic_usage_refreshed.json',
                     'anthropic_costs.json')
    assert totals == {'provider_usage': 5, 'provider_costs': 3}
    rows = wh.rows(f'select toDate(bucket_start), input_tokens, cache_write_5m_input_tokens, '
                   f'cache_write_1h_input_tokens, output_tokens, num_model_requests from {empty_db}.provider_usage '
                   f"final where model = 'claude-sonnet-4-5-20250929' order by bucket_start")
    assert [r[1:] for r in rows] == [(25000, 3000, 500, 2500, None), (1350, 0, 200, 80, None),
                                     (None, None, None, 5, None)]
    costs = wh.rows(f'select sum(amount_usd), count(), countIf(currency = \'USD\') '
                    f'from {empty_db}.provider_costs final')[0]
    assert costs == (Decimal('26.2495'), 3, 3)


def test_a_bad_file_loads_nothing_at_all(wh, empty_db, tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text(CSV_HEAD + CSV_ROW + '10,5,1,gpt-4o\n' + CSV_ROW + 'ten,5,1,gpt-4o\n')
    with pytest.raises(ExportError, match=r'bad\.csv: line 3: input_tokens'):
        load(wh, empty_db, 'openai', 'openai_completions_page.json', 'openai_costs.json', bad)
    for table in ('provider_usage', 'provider_costs'):
        assert wh.rows(f'select count() from {empty_db}.{table}')[0][0] == 0


def test_dry_run_inserts_nothing(wh, empty_db):
    totals, lines = load(wh, empty_db, 'openai', 'openai_costs.json', dry_run=True)
    assert totals == {'provider_usage': 0, 'provider_costs': 3}
    assert wh.rows(f'select count() from {empty_db}.provider_costs')[0][0] == 0


def test_missing_tables_name_llmwh_init(wh, billing_db):
    wh.command('create database if not exists t_billing_none')
    with pytest.raises(LlmwhError, match='run `llmwh init` first'):
        load(wh, 't_billing_none', 'openai', 'openai_costs.json')


def test_rows_beyond_retention_are_reported(wh, tmp_path):
    db = 't_billing_ttl'
    apply_ddl(wh, DdlOptions(database=db, retention={'provider_usage': 400, 'provider_costs': 400}))
    engine = wh.rows(f"select engine_full from system.tables where database = '{db}' and name = 'provider_usage'")
    assert 'TTL bucket_start + toIntervalDay(400)' in engine[0][0]
    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    buckets = [day - timedelta(days=500), day - timedelta(days=3)]
    path = tmp_path / 'old_and_new.json'
    path.write_text(json.dumps({'object': 'page', 'data': [
        {'start_time': int(b.timestamp()), 'end_time': int((b + timedelta(days=1)).timestamp()),
         'results': [{'input_tokens': 10, 'output_tokens': 1, 'model': 'gpt-4o'}]} for b in buckets]}))
    _, lines = load(wh, db, 'openai', path)
    warnings = [x for x in lines if 'warning' in x]
    assert len(warnings) == 1 and '1 of 2 rows' in warnings[0] and '400-day retention' in warnings[0]
    assert wh.rows(f"select count() from {db}.provider_usage final "
                   f"where bucket_start = toDateTime({int(buckets[1].timestamp())}, 'UTC')")[0][0] == 1


# ---------------------------------------------------------------- CLI and dbt, in child processes

@pytest.fixture(scope='module')
def cli_env(tmp_path_factory, profiles_dir):
    tmp = tmp_path_factory.mktemp('billing')
    env = warehouse_env(tmp, profiles_dir)
    # No TTL: the fixture buckets are fixed dates that will some day be older than the retention.
    llmwh('init', '--no-ttl', env_extra=env, check=True)
    openai = sorted(str(p) for p in DATA.glob('openai_*'))
    anthropic = sorted(str(p) for p in DATA.glob('anthropic_*'))
    loads = []
    for _ in range(2):
        loads.append(llmwh('load', 'usage', '--provider', 'openai', *openai, env_extra=env, check=True))
        loads.append(llmwh('load', 'usage', '--provider', 'anthropic', *anthropic, env_extra=env, check=True))
    build = dbt('build', '--select', 'staging.billing', env_extra=env, check=True)
    return env, loads, build


def sql_json(env, query):
    out = llmwh('sql', query, '--format', 'json', env_extra=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_cli_reports_rows_per_file_and_table(cli_env):
    _, loads, _ = cli_env
    out = loads[0].stdout
    assert 'openai_usage.csv: openai_usage_csv, 3 rows -> provider_usage' in out
    assert 'openai_completions_pages.jsonl: openai_usage_jsonl, 2 rows -> provider_usage' in out
    assert _table_lines(out) == {'provider_usage': 10, 'provider_costs': 3}


def _table_lines(out):
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
            if line.strip().startswith('provider_')}


def test_dbt_build_of_billing_staging_passes(cli_env):
    build = cli_env[2]
    assert 'Completed successfully' in build.stdout and 'ERROR=0' in build.stdout
    assert 'stg_billing__provider_usage' in build.stdout and 'assert_billing_usage_one_row_per_key' in build.stdout


def test_staging_has_one_row_per_key_after_a_double_load(cli_env):
    env = cli_env[0]
    usage = sql_json(env, 'select provider, count() as n, sum(input_tokens) as input, '
                          'sum(output_tokens) as output, sum(num_model_requests) as requests, '
                          'countIf(input_tokens is null) as unknown_input '
                          'from llm_staging.stg_billing__provider_usage group by provider order by provider')
    assert usage == [
        {'provider': 'anthropic', 'n': 4, 'input': 27150, 'output': 2705, 'requests': None, 'unknown_input': 1},
        {'provider': 'openai', 'n': 7, 'input': 10400, 'output': 2860, 'requests': 100, 'unknown_input': 0},
    ]
    costs = sql_json(env, 'select provider, count() as n, toString(sum(amount_usd)) as usd '
                          'from llm_staging.stg_billing__provider_costs group by provider order by provider')
    assert costs == [{'provider': 'anthropic', 'n': 3, 'usd': '26.2495'},
                     {'provider': 'openai', 'n': 3, 'usd': '1.440804383403'}]
    raw = sql_json(env, 'select (select count() from otel.provider_usage) as usage, '
                        '(select count() from otel.provider_costs) as costs')[0]
    # The second load of each file is skipped: raw readers see no duplicates either.
    first = [_table_lines(load.stdout) for load in cli_env[1][:2]]
    assert raw == {'usage': sum(t['provider_usage'] for t in first),
                   'costs': sum(t['provider_costs'] for t in first)}
    assert [_table_lines(load.stdout) for load in cli_env[1][2:]] == [
        {'provider_usage': 0, 'provider_costs': 0}] * 2
    assert 'already loaded' in cli_env[1][2].stdout and 'already loaded' in cli_env[1][3].stdout


def test_staging_keeps_the_latest_load_of_an_overlap(cli_env):
    rows = sql_json(cli_env[0], "select input_tokens, output_tokens, source_format, bucket_seconds "
                                "from llm_staging.stg_billing__provider_usage "
                                "where provider = 'openai' and model = 'gpt-4o-2024-08-06' "
                                "and bucket_date = '2026-09-02'")
    assert rows == [{'input_tokens': 2500, 'output_tokens': 350, 'source_format': 'openai_usage_jsonl',
                     'bucket_seconds': 86400}]


def test_cli_bad_row_is_one_line_error_and_inserts_nothing(cli_env, tmp_path):
    env = cli_env[0]
    before = sql_json(env, 'select count() as n from otel.provider_usage')[0]['n']
    bad = tmp_path / 'completions_usage_bad.csv'
    bad.write_text(CSV_HEAD + CSV_ROW + '10,5,1,gpt-4o\n' + CSV_ROW + '10,-5,1,gpt-4o\n')
    proc = llmwh('load', 'usage', '--provider', 'openai', str(DATA / 'openai_costs.json'), str(bad), env_extra=env)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.startswith('llmwh: error: ') and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f'{bad}: line 3: output_tokens must be a whole number >= 0' in proc.stderr
    assert sql_json(env, 'select count() as n from otel.provider_usage')[0]['n'] == before


def test_cli_wrong_provider_is_a_clear_error(cli_env):
    proc = llmwh('load', 'usage', '--provider', 'openai', str(DATA / 'anthropic_usage.json'),
                 env_extra=cli_env[0])
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert proc.stderr.startswith('llmwh: error: ')
    assert 'anthropic_usage.json: bucket 1: looks like an Anthropic report' in proc.stderr
