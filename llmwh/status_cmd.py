"""`llmwh status`: the models and seeds of the last dbt run, with row counts."""

import json
import os
from pathlib import Path

import click

from llmwh.errors import LlmwhError
from llmwh.project import otel_database, project_dir
from llmwh.warehouse import Warehouse


def built_relations(target_dir=None) -> list:
    """(kind, name, database, relation, status) of each node dbt materialized last run."""
    # dbt honours DBT_TARGET_PATH too, so both look in the same place.
    target_dir = target_dir or project_dir() / os.environ.get('DBT_TARGET_PATH', 'target')
    target_dir = Path(target_dir)
    try:
        results = json.loads((target_dir / 'run_results.json').read_text())
        manifest = json.loads((target_dir / 'manifest.json').read_text())
    except FileNotFoundError as ex:
        raise LlmwhError(f'no dbt run found in {target_dir}; run `dbt build` first') from ex
    rows = []
    for result in results.get('results', []):
        node = manifest['nodes'].get(result['unique_id'])
        if node and node['resource_type'] in ('model', 'seed', 'snapshot'):
            materialized = node['config'].get('materialized', node['resource_type'])
            if materialized == 'ephemeral':
                continue
            rows.append((materialized, node['name'], node['schema'], node['alias'], result['status']))
    return rows


def show_status(wh: Warehouse):
    raw = wh.rows(
        'select name, total_rows from system.tables where database = {db:String} '
        "and engine like '%MergeTree' order by name", {'db': otel_database()})
    click.echo(f'Raw telemetry in {otel_database()}:')
    for name, total in raw:
        click.echo(f'  {name:<44} {total or 0:>10,} rows')
    relations = built_relations()
    click.echo('Built by the last dbt run:')
    failures = 0
    for kind, name, database, alias, state in relations:
        if state not in ('success', 'pass'):
            failures += 1
            click.echo(f'  {kind:<12} {database}.{alias:<40} {state}')
            continue
        count = wh.rows(f'select count() from `{database}`.`{alias}`')[0][0]
        click.echo(f'  {kind:<12} {database + "." + alias:<44} {count:>10,} rows')
    if not relations:
        click.echo('  (nothing)')
    if failures:
        raise LlmwhError(f'{failures} model(s) did not build in the last dbt run')
