"""`llmwh status`: raw table sizes and what the last dbt invocation built."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from llmwh.config import project_dir
from llmwh.errors import LlmwhError
from llmwh.warehouse.connection import Warehouse


@dataclass
class BuiltRelation:
    kind: str          # materialization: table, view, incremental, seed, ...
    name: str
    database: str
    alias: str
    state: str         # dbt's result status
    rows: Optional[int] = None     # counted when it built

    @property
    def built(self) -> bool:
        return self.state in ('success', 'pass')


def built_relations(target_dir: Optional[Path] = None) -> list:
    """Each node dbt materialized in its last invocation (rows not yet counted)."""
    # dbt honours DBT_TARGET_PATH too, so both look in the same place.
    target_dir = Path(target_dir or project_dir() / os.environ.get('DBT_TARGET_PATH', 'target'))
    try:
        results = json.loads((target_dir / 'run_results.json').read_text())
        manifest = json.loads((target_dir / 'manifest.json').read_text())
    except FileNotFoundError as ex:
        raise LlmwhError(f'no dbt run found in {target_dir}; run `dbt build` first') from ex
    relations = []
    for result in results.get('results', []):
        node = manifest['nodes'].get(result['unique_id'])
        if node and node['resource_type'] in ('model', 'seed', 'snapshot'):
            materialized = node['config'].get('materialized', node['resource_type'])
            if materialized == 'ephemeral':
                continue
            relations.append(BuiltRelation(materialized, node['name'], node['schema'], node['alias'],
                                           result['status']))
    return relations


def raw_table_rows(wh: Warehouse, database: str) -> list:
    """(table, rows) of the MergeTree tables in the raw database."""
    return wh.rows(
        'select name, total_rows from system.tables where database = {db:String} '
        "and engine like '%MergeTree' order by name", {'db': database})


def count_built_rows(wh: Warehouse, relations: list) -> list:
    """The relations with `rows` filled in where they built."""
    for relation in relations:
        if relation.built:
            relation.rows = wh.rows(f'select count() from `{relation.database}`.`{relation.alias}`')[0][0]
    return relations
