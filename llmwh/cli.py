"""Command line entry point: `llmwh <verb>`. Parses options, calls the library, prints.

Each command imports the heavier library parts it needs when it runs.
Library errors (LlmwhError) become one line on stderr and the error's exit code.
"""

import functools
import sys
from datetime import timezone

import click

from llmwh import __version__
from llmwh.errors import LlmwhError
from llmwh.generate.run import DEFAULT_CONVERSATIONS, GenerateOptions
from llmwh.report.data import DEFAULT_DAYS as REPORT_DAYS


class _Cli(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LlmwhError as ex:
            click.echo(f'llmwh: error: {ex}', err=True)
            ctx.exit(ex.exit_code)


def with_target(fn):
    """Adds --target/--path/--profiles-dir; the resolved Target is the context object."""
    @click.option('--target', '-t', 'target_name', envvar='LLMWH_TARGET',
                  help="Profile target (default: the profile's).")
    @click.option('--path', 'warehouse_path', help="Embedded warehouse directory (overrides the profile's path).")
    @click.option('--profiles-dir', envvar='DBT_PROFILES_DIR', help='Directory holding profiles.yml.')
    @functools.wraps(fn)
    def wrapper(*args, target_name, warehouse_path, profiles_dir, **kwargs):
        from llmwh.config import load_target
        ctx = click.get_current_context()
        ctx.obj = load_target(profiles_dir=profiles_dir, target=target_name, path=warehouse_path)
        return ctx.invoke(fn, *args, **kwargs)
    return wrapper


def _connect(create: bool = False):
    from llmwh.warehouse import connect
    return connect(click.get_current_context().obj, create=create)


def _database(database):
    from llmwh.config import otel_database
    return database or otel_database()


database_option = click.option('--database', help='Database of the raw otel_* tables (default: var otel_database).')


@click.group(cls=_Cli, context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(__version__, prog_name='llmwh')
def main():
    """llm-otel-warehouse: LLM telemetry in ClickHouse, modelled with dbt."""


# ------------------------------------------------------------------ init, ddl

retention_option = click.option('--retention', multiple=True, metavar='TABLE=DAYS',
                                help='Retention of one table (or default=DAYS); 0 disables TTL. Repeatable.')
no_ttl_option = click.option('--no-ttl', is_flag=True, help='Create tables without TTL (backfills of old data).')


@main.command()
@with_target
@database_option
@retention_option
@no_ttl_option
def init(database, retention, no_ttl):
    """Create the raw OTel tables the collector's ClickHouse exporter writes to."""
    from llmwh.warehouse.schema import apply_ddl

    target = click.get_current_context().obj
    wh = _connect(create=True)
    options = _ddl_options(database, retention, no_ttl)
    click.echo(f'Target {target.describe()}: applying ddl/ to database {options.database}')
    for name, state in apply_ddl(wh, options, echo=click.echo).items():
        click.echo(f'  {name:<40} {state}')


@main.command()
@database_option
@click.option('--cluster', help='Render the cluster form: ON CLUSTER, Replicated and Distributed tables.')
@retention_option
@no_ttl_option
@click.option('--server-version', default='26.2', show_default=True,
              help='ClickHouse version to render for (inline String lengths from 25.11, text indexes from 26.2).')
def ddl(database, cluster, retention, no_ttl, server_version):
    """Print the raw OTel DDL, e.g. to review it or apply it with clickhouse-client."""
    from llmwh.warehouse.ddl import render

    options = _ddl_options(database, retention, no_ttl)
    options.cluster = cluster
    try:
        options.server_version = tuple(int(p) for p in server_version.split('.'))
    except ValueError:
        raise click.BadParameter(f'must look like 26.2, got {server_version!r}',
                                 param_hint='--server-version') from None
    for st in render(options):
        click.echo(f'-- {st.source}\n{st.sql};\n')


def _ddl_options(database, retention, no_ttl):
    from llmwh.config import retention_days
    from llmwh.warehouse.ddl import DdlOptions, check_retention_names

    days = retention_days()
    given = {}
    for item in retention:
        name, sep, value = item.partition('=')
        if not sep or not value.strip().isdigit():
            raise LlmwhError(f'--retention takes TABLE=DAYS (days >= 0), got {item!r}')
        given[name.strip()] = int(value)
    check_retention_names(given)
    days.update(given)
    if no_ttl:
        days = {'default': 0}
    return DdlOptions(database=_database(database), retention=days)


# ------------------------------------------------------------------ sql, status

@main.command()
@with_target
@click.argument('query', required=False)
@click.option('--format', '-f', 'fmt', default='table', show_default=True,
              help='table, tsv, csv, json (one object per line) or any ClickHouse output format.')
@click.option('--write', is_flag=True, help='Allow statements that change data or schema (read-only without).')
def sql(query, fmt, write):
    """Run QUERY on the target and print the result (QUERY '-' reads stdin). Read-only
    unless --write."""
    from llmwh.warehouse.query import run_sql

    if query in (None, '-'):
        if sys.stdin.isatty():
            raise LlmwhError('give a query as an argument, or pipe one in with `-`')
        query = sys.stdin.read()
    out = run_sql(_connect(), query, fmt, write=write).decode()
    if out:
        click.echo(out, nl=not out.endswith('\n'))


@main.command()
@with_target
def status():
    """Show what the last dbt invocation built, with row counts."""
    from llmwh.config import otel_database
    from llmwh.warehouse.status import built_relations, count_built_rows, raw_table_rows

    wh = _connect()
    database = otel_database()
    click.echo(f'Raw telemetry in {database}:')
    for name, total in raw_table_rows(wh, database):
        click.echo(f'  {name:<44} {total or 0:>10,} rows')
    relations = count_built_rows(wh, built_relations())
    click.echo('Built by the last dbt run:')
    for r in relations:
        if r.built:
            click.echo(f'  {r.kind:<12} {r.database + "." + r.alias:<44} {r.rows:>10,} rows')
        else:
            click.echo(f'  {r.kind:<12} {r.database}.{r.alias:<40} {r.state}')
    if not relations:
        click.echo('  (nothing)')
    failures = sum(not r.built for r in relations)
    if failures:
        raise LlmwhError(f'{failures} model(s) did not build in the last dbt run')


# ------------------------------------------------------------------ run

@main.command('run')
@with_target
@click.option('--lock-file', type=click.Path(dir_okay=False),
              help='Run lock (default: beside the embedded warehouse, or per target in the project).')
@click.option('--no-checks', is_flag=True, help='Skip the data-quality checkpoint after dbt build.')
@click.option('--reprice', is_flag=True,
              help='After changing the price seeds: rebuild them and every model downstream of them in full '
                   '(they read the warehouse\'s own tables, so history the raw TTL dropped is re-priced, not lost).')
def run_command(lock_file, no_checks, reprice):
    """One scheduled cycle: lock, dbt source freshness, incremental dbt build, data-quality
    checks, and a row in otel.llmwh_runs. Exit 0 ok, 3 data-quality failure,
    4 infrastructure failure, 5 another run holds the lock."""
    from llmwh.run.checks import default_checks
    from llmwh.run.cycle import run_cycle

    record = run_cycle(click.get_current_context().obj, lock_file=lock_file,
                       checks=None if no_checks else default_checks(), echo=click.echo, reprice=reprice)
    click.echo(f'Run {record.run_id}: {record.status} in '
               f'{(record.finished_at - record.started_at).total_seconds():.0f} s; '
               f'{record.models_built} model(s) built, {record.tests_run} tests/checks, '
               f'{record.tests_failed} failed')
    for failure in record.failures:
        click.echo(f'  {failure}', err=True)
    error = record.error()
    if error:
        raise error


# ------------------------------------------------------------------ prices

@main.command()
@with_target
@click.option('--since', type=click.DateTime(formats=['%Y-%m-%d']), help='Only calls started on or after this day (UTC).')
@click.option('--limit', type=click.IntRange(min=1), help='List at most this many unpriced models.')
def prices(since, limit):
    """List the models seen in fct_llm_calls that have no price, with their call and
    token counts: what to add to seeds/model_price_overrides.csv."""
    from llmwh.warehouse.prices import price_coverage

    coverage = price_coverage(_connect(), since=since, limit=limit)
    click.echo(f'{coverage.calls:,} LLM calls of {coverage.models:,} models: {coverage.priced_calls:,} with a cost, '
               f'{coverage.no_price_calls:,} without a price, {coverage.no_usage_calls:,} without usage.')
    if not coverage.unpriced_models:
        click.echo('Every model seen has a price.')
        return
    click.echo(f'{"provider":<18} {"model":<44} {"calls":>8} {"w/ usage":>8} {"input tokens":>14} '
               f'{"output tokens":>14}  first seen .. last seen')
    for m in coverage.unpriced_models:
        click.echo(f'{m.provider or "-":<18} {m.model or "(none)":<44} {m.calls:>8,} {m.calls_with_usage:>8,} '
                   f'{m.input_tokens:>14,} {m.output_tokens:>14,}  '
                   f'{m.first_seen:%Y-%m-%d} .. {m.last_seen:%Y-%m-%d}')
    click.echo('Price them with rows in seeds/model_price_overrides.csv (source and reason each), '
               'then re-price history with `llmwh run --reprice`.')


# ------------------------------------------------------------------ load

@main.group()
def load():
    """Load telemetry into the raw tables."""


@load.command('sample')
@with_target
@database_option
def load_sample(database):
    """Load the small built-in sample of LLM telemetry (replaces an earlier sample load)."""
    from llmwh.sample.loader import load_sample_data

    counts = load_sample_data(_connect(), _database(database))
    if not any(counts.values()):
        click.echo('The sample is already loaded; nothing inserted.')
    for table, count in counts.items():
        click.echo(f'  {table:<40} {count:>6} rows')


@load.command('otlp')
@with_target
@database_option
@click.argument('paths', nargs=-1, required=True)
@click.option('--force', is_flag=True, help='Load files again even when their content was loaded before.')
@click.option('--skip-bad', is_flag=True,
              help='Quarantine malformed lines (table llmwh_quarantine) and load the rest.')
@click.option('--jobs', '-j', type=click.IntRange(min=1), help='Parser processes (default: CPU count).')
def load_otlp(database, paths, force, skip_bad, jobs):
    """Backfill OTLP/JSON files (collector `file` exporter, SDK JSON exporters: one export
    request per line, or one JSON document; .gz too) exactly as the collector's ClickHouse
    exporter writes them. Files already loaded (same content) are skipped."""
    from llmwh.otlp.loader import load_otlp_files

    load_otlp_files(_connect(), _database(database), paths, force=force, skip_bad=skip_bad, jobs=jobs,
                    echo=click.echo)


@load.command('usage')
@with_target
@database_option
@click.option('--provider', required=True, type=click.Choice(['openai', 'anthropic']),
              help='Whose export the files are.')
@click.option('--kind', type=click.Choice(['usage', 'costs']),
              help='Usage or costs, for files whose content does not tell (e.g. no results).')
@click.option('--dry-run', is_flag=True, help='Parse and check the files; insert nothing.')
@click.option('--force', is_flag=True, help='Load files again even when their content was loaded before.')
@click.argument('files', nargs=-1, required=True)
def load_usage(database, provider, kind, dry_run, force, files):
    """Load provider usage/cost exports (OpenAI Usage/Costs API pages or dashboard CSV,
    Anthropic usage_report/cost_report pages); reloading never double counts. Files already
    loaded (same content) are skipped."""
    from llmwh.billing.loader import load_usage_files

    wh = None if dry_run else _connect()
    database = _database(database)
    click.echo(f'{"Checking" if dry_run else "Loading"} {len(files)} {provider} export file(s)'
               f'{"" if dry_run else " into database " + database}')
    counts = load_usage_files(wh, database, provider, files, kind=kind, dry_run=dry_run, force=force,
                              echo=click.echo)
    for table, count in counts.items():
        click.echo(f'  {table:<40} {count:>6} rows{" (dry run: nothing inserted)" if dry_run else ""}')


# ------------------------------------------------------------------ generate

class _Day(click.DateTime):
    """A UTC midnight given as YYYY-MM-DD."""
    name = 'YYYY-MM-DD'

    def __init__(self):
        super().__init__(formats=['%Y-%m-%d'])

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx).replace(tzinfo=timezone.utc)
        except click.BadParameter:
            self.fail(f'expected a date YYYY-MM-DD, got {value!r}', param, ctx)


def _divides_a_day(ctx, param, value):
    if 86_400 % value:
        raise click.BadParameter(f'must divide a day (e.g. 60, 600, 3600), got {value}')
    return value


def _generate_default(name):
    return GenerateOptions.__dataclass_fields__[name].default


@main.command()
@click.option('--out', '-o', required=True, type=click.Path(file_okay=False), help='Output directory.')
@click.option('--days', type=click.IntRange(1, 3660), default=_generate_default('days'), show_default=True,
              help='Days of traffic.')
@click.option('--start', type=_Day(), help='First day (UTC midnight; default: today minus --days).')
@click.option('--seed', type=int, default=_generate_default('seed'), show_default=True,
              help='Same seed and --start: byte-identical output.')
@click.option('--conversations', type=click.IntRange(min=1),
              help=f'Units (conversations / sessions) to generate (default {DEFAULT_CONVERSATIONS}).')
@click.option('--scale', type=click.FloatRange(min=0, min_open=True),
              help='Multiply the default number of conversations.')
@click.option('--spans', type=click.IntRange(min=1), help='Target number of spans (instead of --conversations).')
@click.option('--sdk-spans', type=click.IntRange(min=0), default=_generate_default('sdk_spans'), show_default=True,
              help='Spans built through the SDK; beyond that, SDK units are replicated with new ids/times.')
@click.option('--faults', help='Comma list of faults to inject, or all / none (default: all): usage_missing, '
              'duplicates, late, unknown_models, dated_snapshots, clock_skew, sampling, bad_evaluations.')
@click.option('--no-fault', multiple=True, metavar='NAME', help='Switch one fault off. Repeatable.')
@click.option('--gzip', 'gz', is_flag=True, help='Write the OTLP files gzip-compressed (.jsonl.gz).')
@click.option('--metric-interval', type=click.IntRange(min=1), default=_generate_default('metric_interval_s'),
              show_default=True, callback=_divides_a_day, help='Metric collection interval (s).')
def generate(out, days, start, seed, conversations, scale, spans, sdk_spans, faults, no_fault, gz,
             metric_interval):
    """Generate LLM telemetry (OTLP/JSON via the OpenTelemetry SDK), a manifest and billing exports."""
    from llmwh.generate import generate as run_generate, parse_faults, units_from

    given = [name for name, v in (('--conversations', conversations), ('--scale', scale), ('--spans', spans))
             if v is not None]
    if len(given) > 1:
        raise click.UsageError(f'give only one of --conversations, --scale, --spans (got {", ".join(given)})')
    options = GenerateOptions(out=out, days=days, start=start, seed=seed,
                              conversations=units_from(conversations, scale, spans), spans=spans,
                              sdk_spans=sdk_spans, faults=parse_faults(faults, no_fault), gzip=gz,
                              metric_interval_s=metric_interval)
    try:
        run_generate(options, echo=lambda m: click.echo(m, err=True))
    except OSError as ex:
        raise LlmwhError(f'cannot write to {out}: {ex.strerror or ex}') from None


# ------------------------------------------------------------------ report

@main.command()
@with_target
@click.option('--from', 'first', type=_Day(), help=f'First day, UTC (default: the {REPORT_DAYS} days ending with --to).')
@click.option('--to', 'last', type=_Day(),
              help=f'Last day, included (default: the newest day of data, or the {REPORT_DAYS}th day from --from).')
@click.option('--out', '-o', default='report.html', show_default=True, type=click.Path(dir_okay=False),
              help='HTML file to write.')
@click.option('--text', is_flag=True, help='Print a terminal summary instead of writing HTML.')
def report(first, last, out, text):
    """Cost, usage, latency, reconciliation, budgets, anomalies and evaluation quality over
    a range of days: one self-contained HTML file with charts (opens offline), or --text."""
    from llmwh.report import collect, summary, write

    progress = (lambda m, err=False: click.echo(m, err=True))
    data = collect(_connect(), first and first.date(), last and last.date(), echo=progress)
    if text:
        for line in summary(data):
            click.echo(line)
    else:
        write(data, out, echo=progress)


if __name__ == '__main__':
    main()
