"""Command line entry point: `llmwh <verb>`; each verb lives in its own module."""

import click

from llmwh import __version__
from llmwh.errors import LlmwhError

target_options = [
    click.option('--target', '-t', envvar='LLMWH_TARGET', help='Profile target (default: the profile\'s).'),
    click.option('--path', help='Embedded warehouse directory (overrides the profile\'s path).'),
    click.option('--profiles-dir', envvar='DBT_PROFILES_DIR', help='Directory holding profiles.yml.'),
]


def with_target(fn):
    for option in reversed(target_options):
        fn = option(fn)
    return fn


def _target(profiles_dir, target, path):
    from llmwh.profile import load_target
    return load_target(profiles_dir=profiles_dir, target=target, path=path)


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(__version__, prog_name='llmwh')
def main():
    """llm-otel-warehouse: LLM telemetry in ClickHouse, modelled with dbt."""


@main.command()
@with_target
@click.option('--database', help='Database of the raw otel_* tables (default: var otel_database).')
@click.option('--retention', multiple=True, metavar='TABLE=DAYS',
              help='Retention of one table (or default=DAYS); 0 disables TTL. Repeatable.')
@click.option('--no-ttl', is_flag=True, help='Create tables without TTL (backfills of old data).')
def init(target, path, profiles_dir, database, retention, no_ttl):
    """Create the raw OTel tables the collector's ClickHouse exporter writes to."""
    from llmwh.init_cmd import apply_ddl
    from llmwh.warehouse import connect

    t = _target(profiles_dir, target, path)
    wh = connect(t, create=True)
    options = _ddl_options(database, retention, no_ttl)
    click.echo(f'Target {t.describe()}: applying ddl/ to database {options.database}')
    for name, state in apply_ddl(wh, options).items():
        click.echo(f'  {name:<40} {state}')


@main.command()
@click.option('--database', help='Database of the raw otel_* tables (default: var otel_database).')
@click.option('--cluster', help='Render the cluster form: ON CLUSTER, Replicated and Distributed tables.')
@click.option('--retention', multiple=True, metavar='TABLE=DAYS', help='As for init.')
@click.option('--no-ttl', is_flag=True, help='As for init.')
@click.option('--server-version', default='26.2', show_default=True,
              help='ClickHouse version to render for (text indexes from 26.2).')
def ddl(database, cluster, retention, no_ttl, server_version):
    """Print the raw OTel DDL, e.g. to review it or apply it with clickhouse-client."""
    from llmwh.ddl import render

    options = _ddl_options(database, retention, no_ttl)
    options.cluster = cluster
    try:
        options.server_version = tuple(int(p) for p in server_version.split('.'))
    except ValueError as ex:
        raise LlmwhError(f'--server-version must look like 26.2, got {server_version!r}') from ex
    for st in render(options):
        click.echo(f'-- {st.source}\n{st.sql};\n')


def _ddl_options(database, retention, no_ttl):
    from llmwh.ddl import DdlOptions
    from llmwh.project import otel_database, retention_days

    days = retention_days()
    for item in retention:
        name, sep, value = item.partition('=')
        if not sep or not value.strip().isdigit():
            raise LlmwhError(f'--retention takes TABLE=DAYS (days >= 0), got {item!r}')
        days[name.strip()] = int(value)
    if no_ttl:
        days = {'default': 0}
    return DdlOptions(database=database or otel_database(), retention=days)


@main.command()
@with_target
@click.argument('query', required=False)
@click.option('--format', '-f', 'fmt', default='table', show_default=True,
              help='table, tsv, csv, json (one object per line) or any ClickHouse output format.')
def sql(target, path, profiles_dir, query, fmt):
    """Run QUERY on the target and print the result (QUERY '-' reads stdin)."""
    from llmwh.sql_cmd import read_query, run_sql
    from llmwh.warehouse import connect

    text = read_query(query)
    wh = connect(_target(profiles_dir, target, path))
    out = run_sql(wh, text, fmt).decode()
    if out:
        click.echo(out, nl=not out.endswith('\n'))


@main.group()
def load():
    """Load telemetry into the raw tables."""


@load.command('sample')
@with_target
def load_sample(target, path, profiles_dir):
    """Load the small built-in sample of LLM telemetry (replaces an earlier sample load)."""
    from llmwh.load_cmd import load_sample_data
    from llmwh.project import otel_database
    from llmwh.warehouse import connect

    wh = connect(_target(profiles_dir, target, path))
    counts = load_sample_data(wh, otel_database())
    if not any(counts.values()):
        click.echo('The sample is already loaded; nothing inserted.')
    for table, count in counts.items():
        click.echo(f'  {table:<40} {count:>6} rows')


@load.command('otlp')
@with_target
@click.argument('paths', nargs=-1, required=True)
@click.option('--force', is_flag=True, help='Load files again even when their content was loaded before.')
@click.option('--skip-bad', is_flag=True,
              help='Quarantine malformed lines (table llmwh_quarantine) and load the rest.')
@click.option('--jobs', '-j', type=click.IntRange(min=1), help='Parser processes (default: CPU count).')
def load_otlp(target, path, profiles_dir, paths, force, skip_bad, jobs):
    """Backfill OTLP/JSON files (collector `file` exporter, SDK JSON exporters: one export
    request per line, or one JSON document; .gz too) exactly as the collector's ClickHouse
    exporter writes them. Files already loaded (same content) are skipped."""
    from llmwh.load_otlp_cmd import load_otlp_files
    from llmwh.project import otel_database
    from llmwh.warehouse import connect

    wh = connect(_target(profiles_dir, target, path))
    load_otlp_files(wh, otel_database(), paths, force=force, skip_bad=skip_bad, jobs=jobs)


@load.command('usage')
@with_target
@click.option('--provider', required=True, type=click.Choice(['openai', 'anthropic']),
              help='Whose export the files are.')
@click.option('--kind', type=click.Choice(['usage', 'costs']),
              help='Usage or costs, for files whose content does not tell (e.g. no results).')
@click.option('--dry-run', is_flag=True, help='Parse and check the files; insert nothing.')
@click.argument('files', nargs=-1, required=True)
def load_usage(target, path, profiles_dir, provider, kind, dry_run, files):
    """Load provider usage/cost exports (OpenAI Usage/Costs API pages or dashboard CSV,
    Anthropic usage_report/cost_report pages); reloading never double counts."""
    from llmwh.load_usage_cmd import load_usage_files
    from llmwh.project import otel_database
    from llmwh.warehouse import connect

    wh = None if dry_run else connect(_target(profiles_dir, target, path))
    database = otel_database()
    click.echo(f'{"Checking" if dry_run else "Loading"} {len(files)} {provider} export file(s)'
               f'{"" if dry_run else " into database " + database}')
    counts = load_usage_files(wh, database, provider, files, kind=kind, dry_run=dry_run)
    for table, count in counts.items():
        click.echo(f'  {table:<40} {count:>6} rows{" (dry run: nothing inserted)" if dry_run else ""}')


@main.command()
@with_target
def status(target, path, profiles_dir):
    """Show what the last dbt invocation built, with row counts."""
    from llmwh.status_cmd import show_status
    from llmwh.warehouse import connect

    show_status(connect(_target(profiles_dir, target, path)))


@main.command()
@click.option('--out', '-o', required=True, type=click.Path(file_okay=False), help='Output directory.')
@click.option('--days', default=7, show_default=True, help='Days of traffic.')
@click.option('--start', help='First day, YYYY-MM-DD (UTC midnight; default: today minus --days).')
@click.option('--seed', default=42, show_default=True, help='Same seed and --start: byte-identical output.')
@click.option('--conversations', type=int, help='Units (conversations / sessions) to generate (default 200).')
@click.option('--scale', type=float, help='Multiply the default number of conversations.')
@click.option('--spans', type=int, help='Target number of spans (instead of --conversations).')
@click.option('--sdk-spans', default=20_000, show_default=True,
              help='Spans built through the SDK; beyond that, SDK units are replicated with new ids/times.')
@click.option('--faults', help='Comma list of faults to inject, or all / none (default: all): usage_missing, '
              'duplicates, late, unknown_models, dated_snapshots, clock_skew, sampling.')
@click.option('--no-fault', multiple=True, metavar='NAME', help='Switch one fault off. Repeatable.')
@click.option('--gzip', 'gz', is_flag=True, help='Write the OTLP files gzip-compressed (.jsonl.gz).')
@click.option('--metric-interval', default=3600, show_default=True, help='Metric collection interval (s).')
def generate(out, days, start, seed, conversations, scale, spans, sdk_spans, faults, no_fault, gz,
             metric_interval):
    """Generate LLM telemetry (OTLP/JSON via the OpenTelemetry SDK), a manifest and billing exports."""
    from llmwh.generate_cmd import run_generate

    run_generate(out, days, start, seed, conversations, scale, spans, sdk_spans, faults, no_fault, gz,
                 metric_interval)


if __name__ == '__main__':
    main()
