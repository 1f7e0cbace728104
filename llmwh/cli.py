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


@main.command()
@with_target
def status(target, path, profiles_dir):
    """Show what the last dbt invocation built, with row counts."""
    from llmwh.status_cmd import show_status
    from llmwh.warehouse import connect

    show_status(connect(_target(profiles_dir, target, path)))


if __name__ == '__main__':
    main()
