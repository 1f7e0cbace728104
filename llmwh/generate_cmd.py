"""`llmwh generate`: option checking and the call into llmwh.generate (kept out of cli.py)."""

from datetime import datetime, timezone

import click

from llmwh.errors import LlmwhError


def parse_start(value):
    if value is None:
        return None
    try:
        day = datetime.strptime(value, '%Y-%m-%d')
    except ValueError:
        raise click.BadParameter(f'expected a date YYYY-MM-DD, got {value!r}', param_hint='--start') from None
    return day.replace(tzinfo=timezone.utc)


def run_generate(out, days, start, seed, conversations, scale, spans, sdk_spans, faults, no_fault, gz,
                 metric_interval):
    from llmwh.generate import GenerateOptions, generate, parse_faults
    from llmwh.generate.run import DEFAULT_CONVERSATIONS

    if days < 1 or days > 3660:
        raise click.BadParameter(f'must be between 1 and 3660, got {days}', param_hint='--days')
    given = [name for name, v in (('--conversations', conversations), ('--scale', scale), ('--spans', spans))
             if v is not None]
    if len(given) > 1:
        raise click.BadParameter(f'give only one of --conversations, --scale, --spans (got {", ".join(given)})')
    if conversations is not None and conversations < 1:
        raise click.BadParameter(f'must be at least 1, got {conversations}', param_hint='--conversations')
    if scale is not None and scale <= 0:
        raise click.BadParameter(f'must be positive, got {scale}', param_hint='--scale')
    if spans is not None and spans < 1:
        raise click.BadParameter(f'must be at least 1, got {spans}', param_hint='--spans')
    if sdk_spans < 0:
        raise click.BadParameter(f'must be >= 0, got {sdk_spans}', param_hint='--sdk-spans')
    if metric_interval < 1 or 86_400 % metric_interval:
        raise click.BadParameter(f'must divide a day (e.g. 60, 600, 3600), got {metric_interval}',
                                 param_hint='--metric-interval')
    if scale is not None:
        conversations = max(1, round(DEFAULT_CONVERSATIONS * scale))
    elif conversations is None and spans is None:
        conversations = DEFAULT_CONVERSATIONS
    options = GenerateOptions(out=out, days=days, start=parse_start(start), seed=seed,
                              conversations=conversations, spans=spans, sdk_spans=sdk_spans,
                              faults=parse_faults(faults, no_fault), gzip=gz, metric_interval_s=metric_interval)
    try:
        return generate(options, echo=lambda m: click.echo(m, err=True))
    except OSError as ex:
        raise LlmwhError(f'cannot write to {out}: {ex.strerror or ex}') from None
