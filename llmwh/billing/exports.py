"""Provider usage and billing exports -> rows of otel.provider_usage / otel.provider_costs.

Pure functions: files in, row dicts out, no warehouse. Formats read:

* OpenAI Usage API completions pages and Costs API pages
  (`{"object": "page", "data": [{"start_time", "end_time", "results": [...]}], ...}`),
  a file holding one page, a JSON array of pages, or JSON Lines of pages;
* the OpenAI dashboard CSV export (`start_time,end_time,start_time_iso,end_time_iso,`
  then the API's result fields; one row per bucket per group);
* Anthropic usage_report/messages and cost_report pages
  (`{"data": [{"starting_at", "ending_at", "results": [...]}], ...}`), same containers.

Usage or costs is told from the content (`--kind` decides only when it cannot be).

Semantics: OpenAI `input_tokens` already includes cached input; Anthropic
`uncached_input_tokens` excludes cache reads and writes. Both raw fields are
kept, and `input_tokens` is always the inclusive count: for Anthropic uncached +
cache read + cache write, NULL when a part is missing. Counts a format does not
give and group keys an export was not grouped on are None (NULL), never 0.
Anthropic cost amounts are decimal strings in cents and become dollars.
"""

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Optional, Union

from llmwh.config import billing_keys
from llmwh.errors import LlmwhError

PROVIDERS = ('openai', 'anthropic')
KINDS = ('usage', 'costs')
TABLES = {'usage': 'provider_usage', 'costs': 'provider_costs'}

USAGE_MEASURES = ('input_tokens', 'uncached_input_tokens', 'cache_read_input_tokens',
                  'cache_write_input_tokens', 'cache_write_5m_input_tokens', 'cache_write_1h_input_tokens',
                  'output_tokens', 'input_audio_tokens', 'output_audio_tokens', 'num_model_requests',
                  'web_search_requests')
COSTS_MEASURES = ('amount', 'amount_usd', 'currency', 'amount_raw')
MEASURES = {'usage': USAGE_MEASURES, 'costs': COSTS_MEASURES}
LOAD_COLUMNS = ('source_format', 'source_file', 'raw')


def key_columns(kind: str) -> tuple:
    """The table's key (var billing_keys): one row per key survives, the latest load."""
    return billing_keys()[TABLES[kind]]


def columns(kind: str) -> tuple:
    """Every column a row of `kind` carries, in insert order (loaded_at aside)."""
    return key_columns(kind) + MEASURES[kind] + LOAD_COLUMNS


# Fields that tell a result's kind when it has no `object` field.
_USAGE_FIELDS = {
    'openai': ('input_tokens', 'output_tokens', 'input_cached_tokens', 'num_model_requests'),
    'anthropic': ('uncached_input_tokens', 'cache_read_input_tokens', 'cache_creation', 'output_tokens'),
}
_COSTS_FIELDS = ('amount', 'amount_value')
_OPENAI_OBJECTS = {'organization.usage.completions.result': 'usage', 'organization.costs.result': 'costs'}
_MAX_UINT64 = 2 ** 64 - 1
_DECIMAL_PLACES = Decimal(1).scaleb(-12)     # Decimal(38, 12)
_MAX_AMOUNT = Decimal(10) ** 26
_EPOCH_MAX = datetime(2106, 2, 7, tzinfo=timezone.utc)    # DateTime's upper bound


class ExportError(LlmwhError):
    """A file that is not a valid export: the message names the file and where."""


class _Bad(Exception):
    """A problem inside one page/bucket/result/row; the caller adds the location."""


@dataclass
class ParsedExport:
    path: str
    provider: str
    kind: Optional[str]           # usage | costs; None when the file holds no results
    source_format: str            # e.g. openai_usage_json, openai_usage_csv, anthropic_costs_json
    rows: list = field(default_factory=list)   # dicts with columns(kind)
    repeated_keys: int = 0        # rows whose key came again later in the file (the later one kept)
    warnings: list = field(default_factory=list)

    @property
    def table(self) -> Optional[str]:
        return TABLES.get(self.kind)


def parse_export(path: Union[str, Path], provider: str, kind: Optional[str] = None) -> ParsedExport:
    """Read one export file; raises ExportError naming the file (and line/row) on bad input."""
    path = str(path)
    if provider not in PROVIDERS:
        raise ExportError(f'unknown provider {provider!r} (known: {", ".join(PROVIDERS)})')
    if kind is not None and kind not in KINDS:
        raise ExportError(f'unknown kind {kind!r} (known: {", ".join(KINDS)})')
    text = _read_text(path)
    stripped = text.lstrip()
    if not stripped:
        raise ExportError(f'{path}: the file is empty')
    warnings = []
    if stripped[0] in '{[':
        rows, detected, has_more, container = _parse_json(path, text, provider, kind)
        if has_more:
            warnings.append(f'{path}: the last page says has_more: true, so the export may lack '
                            'later pages (load them too; reloading never double counts)')
    else:
        if provider != 'openai':
            raise ExportError(f'{path}: not JSON; Anthropic usage and cost reports are read as the '
                              'API\'s JSON pages (CSV is read for OpenAI dashboard exports only)')
        rows, detected = _parse_csv(path, text, kind)
        container = 'csv'
    detected = detected or kind
    source_format = f'{provider}_{detected or "unknown"}_{container}'
    for row in rows:
        row.update(source_format=source_format, source_file=os.path.abspath(path))
    unique = _last_per_key(rows, key_columns(detected)) if detected else []
    return ParsedExport(path, provider, detected, source_format, unique, len(rows) - len(unique), warnings)


def _read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ExportError(f'{path}: no such file') from None
    except IsADirectoryError:
        raise ExportError(f'{path}: is a directory, not an export file') from None
    except OSError as ex:
        raise ExportError(f'{path}: cannot read: {ex.strerror}') from None
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as ex:
        raise ExportError(f'{path}: not UTF-8 text (byte {ex.start})') from None


def _last_per_key(rows: list, key: tuple) -> list:
    latest = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        latest.pop(k, None)          # re-insert so the kept row takes the later position
        latest[k] = row
    return list(latest.values())


# ---------------------------------------------------------------- JSON pages

def _json_documents(path: str, text: str):
    """([(where, page)], container): one page, a JSON array of pages, or JSON Lines of pages."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as whole_error:
        lines = text.splitlines()
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        try:
            json.loads(lines[first])
        except json.JSONDecodeError:
            raise ExportError(f'{path}: line {whole_error.lineno}: invalid JSON: {whole_error.msg}') from None
        docs = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                docs.append((f'line {number}', json.loads(line)))
            except json.JSONDecodeError as ex:
                raise ExportError(f'{path}: line {number}: invalid JSON: {ex.msg}') from None
        return docs, 'jsonl'
    if isinstance(doc, list):
        return [(f'page {i}', page) for i, page in enumerate(doc, start=1)], 'json'
    return [('', doc)], 'json'


def _parse_json(path, text, provider, kind):
    rows, kinds, has_more = [], set(), False
    documents, container = _json_documents(path, text)
    for where, page in documents:
        at = f'{path}: {where + ": " if where else ""}'
        if not isinstance(page, dict):
            raise ExportError(f'{at}expected a page object {{"data": [...]}}, got {_type(page)}')
        if 'error' in page and 'data' not in page:
            message = page['error'].get('message') if isinstance(page['error'], dict) else page['error']
            raise ExportError(f'{at}holds an API error response, not an export: {_short(message)}')
        buckets = page.get('data')
        if not isinstance(buckets, list):
            raise ExportError(f'{at}expected a page object with a "data" list of time buckets')
        has_more = page.get('has_more') is True
        for b, bucket in enumerate(buckets, start=1):
            where_bucket = f'{at}bucket {b}'
            try:
                start, end, results = _bucket(bucket, provider)
            except _Bad as ex:
                raise ExportError(f'{where_bucket}: {ex}') from None
            for r, result in enumerate(results, start=1):
                try:
                    result_kind = _json_result_kind(result, provider, kind)
                    kinds.add(result_kind)
                    if len(kinds) > 1:
                        raise _Bad('mixes usage and cost results in one file')
                    row = _ROW_BUILDERS[provider, result_kind](result)
                except _Bad as ex:
                    raise ExportError(f'{where_bucket} ({_iso(start)}), result {r}: {ex}') from None
                row.update(provider=provider, bucket_start=start, bucket_end=end,
                           raw=json.dumps(result, sort_keys=True, separators=(',', ':')))
                rows.append(row)
    return rows, next(iter(kinds), None), has_more, container


def _bucket(bucket, provider):
    if not isinstance(bucket, dict):
        raise _Bad(f'expected a time bucket object, got {_type(bucket)}')
    openai_shaped, anthropic_shaped = 'start_time' in bucket, 'starting_at' in bucket
    if provider == 'openai' and anthropic_shaped and not openai_shaped:
        raise _Bad('looks like an Anthropic report (starting_at/ending_at); use --provider anthropic')
    if provider == 'anthropic' and openai_shaped and not anthropic_shaped:
        raise _Bad('looks like an OpenAI export (start_time/end_time); use --provider openai')
    if provider == 'openai':
        start = _unix_time(bucket.get('start_time'), 'start_time')
        end = _unix_time(bucket.get('end_time'), 'end_time')
    else:
        start = _rfc3339(bucket.get('starting_at'), 'starting_at')
        end = _rfc3339(bucket.get('ending_at'), 'ending_at')
    if end <= start:
        raise _Bad(f'bucket ends ({_iso(end)}) before it starts ({_iso(start)})')
    results = bucket.get('results')
    if results is None:
        results = bucket.get('result')      # the Costs API's per-bucket list is sometimes `result`
    if not isinstance(results, list):
        raise _Bad('expected a "results" list in the time bucket')
    for result in results:
        if not isinstance(result, dict):
            raise _Bad(f'expected result objects, got {_type(result)}')
    return start, end, results


def _json_result_kind(result, provider, kind):
    detected = None
    obj = result.get('object')
    if provider == 'openai' and isinstance(obj, str):
        detected = _OPENAI_OBJECTS.get(obj)
        if detected is None and obj.startswith('organization.'):
            raise _Bad(f'unsupported result object {obj!r}: only completions usage and costs are read')
    if detected is None:
        detected = _kind_from_fields(set(result), provider)
    return _resolve_kind(detected, kind)


def _kind_from_fields(fields, provider):
    if any(f in fields for f in _COSTS_FIELDS):
        return 'costs'
    if any(f in fields for f in _USAGE_FIELDS[provider]):
        return 'usage'
    return None


def _resolve_kind(detected, kind):
    if detected is None:
        if kind is None:
            raise _Bad('cannot tell whether this is usage or costs; pass --kind usage or --kind costs')
        return kind
    if kind is not None and kind != detected:
        raise _Bad(f'holds {detected}, but --kind {kind} was given')
    return detected


# ---------------------------------------------------------------- rows per format

def _openai_usage(r):
    return dict(
        model=_text(r, 'model'), project_id=_text(r, 'project_id'), api_key_id=_text(r, 'api_key_id'),
        user_id=_text(r, 'user_id'), service_tier=_text(r, 'service_tier'),
        batch=_bool(r.get('batch'), 'batch'), api_source=_text(r, 'api_source'),
        context_window=None, inference_geo=None, speed=None, account_id=None, service_account_id=None,
        input_tokens=_count(r, 'input_tokens'),
        uncached_input_tokens=_count(r, 'input_uncached_tokens'),
        cache_read_input_tokens=_count(r, 'input_cached_tokens'),
        cache_write_input_tokens=None, cache_write_5m_input_tokens=None, cache_write_1h_input_tokens=None,
        output_tokens=_count(r, 'output_tokens'),
        input_audio_tokens=_count(r, 'input_audio_tokens'),
        output_audio_tokens=_count(r, 'output_audio_tokens'),
        num_model_requests=_count(r, 'num_model_requests'),
        web_search_requests=None,
    )


def _anthropic_usage(r):
    cache_creation = r.get('cache_creation')
    if cache_creation is None:       # flattened spellings seen in derived schemas
        write_5m = _count(r, 'cache_creation_5m_input_tokens')
        write_1h = _count(r, 'cache_creation_1h_input_tokens')
    elif isinstance(cache_creation, dict):
        write_5m = _count(cache_creation, 'ephemeral_5m_input_tokens', 'cache_creation.')
        write_1h = _count(cache_creation, 'ephemeral_1h_input_tokens', 'cache_creation.')
    else:
        raise _Bad(f'cache_creation must be an object, got {_type(cache_creation)}')
    write_total = _count(r, 'cache_creation_input_tokens')
    if write_total is None and write_5m is not None and write_1h is not None:
        write_total = write_5m + write_1h
    uncached, cache_read = _count(r, 'uncached_input_tokens'), _count(r, 'cache_read_input_tokens')
    parts = (uncached, cache_read, write_total)
    server_tools = r.get('server_tool_use')
    if server_tools is not None and not isinstance(server_tools, dict):
        raise _Bad(f'server_tool_use must be an object, got {_type(server_tools)}')
    return dict(
        model=_text(r, 'model'), project_id=_text(r, 'workspace_id'), api_key_id=_text(r, 'api_key_id'),
        user_id=None, service_tier=_text(r, 'service_tier'), batch=None, api_source=None,
        context_window=_text(r, 'context_window'), inference_geo=_text(r, 'inference_geo'),
        speed=_text(r, 'speed'), account_id=_text(r, 'account_id'),
        service_account_id=_text(r, 'service_account_id'),
        input_tokens=None if None in parts else sum(parts),
        uncached_input_tokens=uncached,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=write_total,
        cache_write_5m_input_tokens=write_5m,
        cache_write_1h_input_tokens=write_1h,
        output_tokens=_count(r, 'output_tokens'),
        input_audio_tokens=None, output_audio_tokens=None, num_model_requests=None,
        web_search_requests=_count(server_tools, 'web_search_requests', 'server_tool_use.')
        if server_tools else None,
    )


def _openai_costs(r):
    amount = r.get('amount')
    if isinstance(amount, dict):          # API: {"value": 0.06, "currency": "usd"}
        value, currency = amount.get('value'), amount.get('currency')
    else:                                 # CSV: amount_value / amount_currency columns
        value = r.get('amount_value', amount)
        currency = r.get('amount_currency', r.get('currency'))
    major = _decimal(value, 'amount.value')
    return dict(project_id=_text(r, 'project_id'), api_key_id=_text(r, 'api_key_id'),
                line_item=_text(r, 'line_item'), model=None, cost_type=None, token_type=None,
                service_tier=None, context_window=None, inference_geo=None, speed=None,
                **_money(major, currency, value))


def _anthropic_costs(r):
    value = r.get('amount')
    cents = _decimal(value, 'amount')
    return dict(project_id=_text(r, 'workspace_id'), api_key_id=None, line_item=_text(r, 'description'),
                model=_text(r, 'model'), cost_type=_text(r, 'cost_type'), token_type=_text(r, 'token_type'),
                service_tier=_text(r, 'service_tier'), context_window=_text(r, 'context_window'),
                inference_geo=_text(r, 'inference_geo'), speed=_text(r, 'speed'),
                **_money(cents / 100, r.get('currency'), value))


_ROW_BUILDERS = {
    ('openai', 'usage'): _openai_usage,
    ('openai', 'costs'): _openai_costs,
    ('anthropic', 'usage'): _anthropic_usage,
    ('anthropic', 'costs'): _anthropic_costs,
}


def _money(major: Decimal, currency, raw) -> dict:
    if not isinstance(currency, str) or not currency.strip():
        raise _Bad(f'the amount has no currency (got {_short(currency)})')
    currency = currency.strip().upper()
    amount = major.quantize(_DECIMAL_PLACES, rounding=ROUND_HALF_EVEN)
    if abs(amount) >= _MAX_AMOUNT:
        raise _Bad(f'amount {raw!r} is out of range')
    return dict(amount=amount, amount_usd=amount if currency == 'USD' else None, currency=currency,
                amount_raw=str(raw).strip())


# ---------------------------------------------------------------- OpenAI dashboard CSV

def _parse_csv(path, text, kind):
    reader = csv.reader(io.StringIO(text, newline=''))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as ex:
        raise ExportError(f'{path}: line 1: not a valid CSV header: {ex}') from None
    if not any(h in header for h in ('start_time', 'start_time_iso')) or \
            not any(h in header for h in ('end_time', 'end_time_iso')):
        raise ExportError(f'{path}: line 1: not an OpenAI usage/cost CSV export: the header needs '
                          'start_time,end_time (or start_time_iso,end_time_iso), got '
                          f'{_short(",".join(header), 80)}')
    if len(set(header)) != len(header):
        raise ExportError(f'{path}: line 1: the header repeats a column name')
    try:
        detected = _resolve_kind(_kind_from_fields(set(header), 'openai'), kind)
    except _Bad as ex:
        raise ExportError(f'{path}: line 1: {ex}') from None
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            try:
                if len(values) != len(header):
                    raise _Bad(f'has {len(values)} fields, the header has {len(header)}')
                record = dict(zip(header, values))
                start, end = _csv_times(record)
                row = _ROW_BUILDERS['openai', detected](record)
            except _Bad as ex:
                raise ExportError(f'{path}: line {line}: {ex}') from None
            row.update(provider='openai', bucket_start=start, bucket_end=end,
                       raw=json.dumps(record, sort_keys=True, separators=(',', ':')))
            rows.append(row)
    except csv.Error as ex:
        raise ExportError(f'{path}: line {reader.line_num}: invalid CSV: {ex}') from None
    return rows, detected


def _csv_times(record):
    times = []
    for name in ('start_time', 'end_time'):
        unix, iso = (record.get(name) or '').strip(), (record.get(name + '_iso') or '').strip()
        if unix:
            value = _unix_time(unix, name)
            if iso and _rfc3339(iso, name + '_iso') != value:
                raise _Bad(f'{name} {unix} and {name}_iso {iso} disagree')
        elif iso:
            value = _rfc3339(iso, name + '_iso')
        else:
            raise _Bad(f'{name} is empty')
        times.append(value)
    if times[1] <= times[0]:
        raise _Bad(f'bucket ends ({_iso(times[1])}) before it starts ({_iso(times[0])})')
    return times


# ---------------------------------------------------------------- values

def _text(r, name):
    """A group key or label: None when absent, null or empty (not grouped on)."""
    value = r.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f'{name} must be a string, got {_type(value)}')
    value = str(value).strip()
    return value or None


def _count(r, name, prefix=''):
    """A token or request count: None when the format does not give it."""
    value = r.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r'\s*\d+(\.0*)?\s*', value):
        number = int(Decimal(value.strip()))
    if number is None or not 0 <= number <= _MAX_UINT64:
        raise _Bad(f'{prefix}{name} must be a whole number >= 0, got {_short(value)}')
    return number


def _bool(value, name):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ('', 'null', 'none'):
            return None
        if word in ('true', '1'):
            return True
        if word in ('false', '0'):
            return False
    raise _Bad(f'{name} must be true or false, got {_short(value)}')


def _decimal(value, name) -> Decimal:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise _Bad(f'{name} is missing')
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, int, float)) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise _Bad(f'{name} must be a number, got {_short(value)}')
    return number


def _unix_time(value, name) -> datetime:
    if isinstance(value, str) and re.fullmatch(r'\s*\d+\s*', value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Bad(f'{name} must be unix seconds, got {_short(value)}')
    return _check_range(datetime.fromtimestamp(value, timezone.utc) if 0 <= value < 2 ** 32 else None,
                        name, value)


def _rfc3339(value, name) -> datetime:
    if not isinstance(value, str):
        raise _Bad(f'{name} must be an RFC 3339 time, got {_short(value)}')
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f'{name} must be an RFC 3339 time, got {_short(value)}') from None
    if parsed.tzinfo is None:
        raise _Bad(f'{name} {value!r} has no UTC offset')
    if parsed.microsecond:
        raise _Bad(f'{name} {value!r} is not on a whole second')
    return _check_range(parsed.astimezone(timezone.utc), name, value)


def _check_range(when, name, value):
    if when is None or not datetime(1970, 1, 1, tzinfo=timezone.utc) <= when < _EPOCH_MAX:
        raise _Bad(f'{name} {_short(value)} is outside 1970..2106')
    return when


def _iso(when: datetime) -> str:
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def _type(value) -> str:
    return {dict: 'an object', list: 'an array', str: 'a string', type(None): 'null',
            bool: 'a boolean'}.get(type(value), 'a number')


def _short(value, limit=40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = ' '.join(text.split())
    return repr(text if len(text) <= limit else text[:limit] + '...')
