"""Provider usage exports matching the generated traffic (peers_and_pricing.md §7).

Billed usage = every successful call (sampled out or not) + failed calls the
provider billed anyway (client timeouts), per UTC day of the call's true
start, model (the response model id) and billing account (the service that
holds the provider key; proxied calls bill to litellm-proxy's key).

* billing/openai_usage_completions.jsonl: JSON Lines of OpenAI Usage API pages
  (GET /v1/organization/usage/completions?bucket_width=1d&group_by=model,project_id,api_key_id),
  7 daily buckets per page, `has_more` / `next_page` linking them; every day of the
  range has a bucket (empty days have no results).
* billing/anthropic_usage_messages.jsonl: JSON Lines of Anthropic usage_report/messages pages
  (bucket_width=1d, group_by[]=model, api_key_id, workspace_id), same paging.

Google (gcp.gemini / gcp.vertex_ai) has no token-level export and self-hosted models
bill nobody, so their calls appear in no file.
"""

import base64
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from llmwh.generate.catalog import billing_account

PAGE_DAYS = 7


def _pages(days, bucket):
    for first in range(0, len(days), PAGE_DAYS):
        chunk = days[first:first + PAGE_DAYS]
        more = first + PAGE_DAYS < len(days)
        yield [bucket(d) for d in chunk], more


def _cursor(day: datetime) -> str:
    return base64.b64encode(f'page:{day:%Y-%m-%d}'.encode()).decode()


def write_exports(out_dir: Path, truth_billing: dict, start: datetime, n_days: int) -> dict:
    """truth_billing: (day index, provider, model, billing service) -> [requests, tokens[6]]."""
    out_dir.mkdir(parents=True, exist_ok=True)
    last = max([n_days - 1] + [k[0] for k in truth_billing])
    days = [start + timedelta(days=i) for i in range(last + 1)]
    groups = {'openai': {}, 'anthropic': {}}
    for (day, provider, model, service), (requests, tokens) in truth_billing.items():
        if provider not in groups:
            continue
        account = billing_account(service, provider)
        key = (day, model, account.get('project_id') or account.get('workspace_id'), account['api_key_id'])
        acc = groups[provider].setdefault(key, [0, [0] * 6])
        acc[0] += requests
        acc[1] = [a + b for a, b in zip(acc[1], tokens)]
    summary = {}

    def openai_bucket(day):
        i = (day - start).days
        results = []
        for (d, model, project, key), (requests, t) in sorted(groups['openai'].items()):
            if d != i:
                continue
            results.append({
                'object': 'organization.usage.completions.result', 'input_tokens': t[0],
                'output_tokens': t[1], 'input_cached_tokens': t[2], 'input_audio_tokens': 0,
                'output_audio_tokens': 0, 'num_model_requests': requests, 'project_id': project,
                'user_id': None, 'api_key_id': key, 'model': model, 'batch': None, 'service_tier': None})
        return {'object': 'bucket', 'start_time': int(day.timestamp()),
                'end_time': int((day + timedelta(days=1)).timestamp()), 'results': results}

    def anthropic_bucket(day):
        i = (day - start).days
        results = []
        for (d, model, workspace, key), (requests, t) in sorted(groups['anthropic'].items()):
            if d != i:
                continue
            results.append({
                'uncached_input_tokens': t[0] - t[2] - t[3],
                'cache_creation': {'ephemeral_1h_input_tokens': t[4], 'ephemeral_5m_input_tokens': t[3] - t[4]},
                'cache_read_input_tokens': t[2], 'output_tokens': t[1],
                'server_tool_use': {'web_search_requests': 0},
                'api_key_id': key, 'workspace_id': workspace, 'model': model,
                'service_tier': None, 'context_window': None})
        return {'starting_at': f'{day:%Y-%m-%dT%H:%M:%SZ}',
                'ending_at': f'{day + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}', 'results': results}

    for provider, name, bucket, page_object in (
            ('openai', 'openai_usage_completions.jsonl', openai_bucket, {'object': 'page'}),
            ('anthropic', 'anthropic_usage_messages.jsonl', anthropic_bucket, {})):
        lines = []
        for i, (buckets, more) in enumerate(_pages(days, bucket)):
            next_day = days[min(len(days) - 1, (i + 1) * PAGE_DAYS)]
            lines.append(json.dumps({**page_object, 'data': buckets, 'has_more': more,
                                     'next_page': _cursor(next_day) if more else None}, separators=(',', ':')))
        path = out_dir / name
        path.write_text('\n'.join(lines) + '\n')
        rows = groups[provider]
        summary[f'billing/{name}'] = {
            'provider': provider, 'pages': len(lines), 'buckets': len(days),
            'results': len(rows), 'num_model_requests': sum(r[0] for r in rows.values()),
            'input_tokens': sum(r[1][0] for r in rows.values()),
            'output_tokens': sum(r[1][1] for r in rows.values()),
        }
    return summary


def iso_day(start: datetime, i: int) -> str:
    return (start + timedelta(days=i)).strftime('%Y-%m-%d')


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
