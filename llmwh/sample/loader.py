"""`llmwh load sample`: insert the built-in sample with the exporter's column lists, once."""

from llmwh.config import DATASET_KEY
from llmwh.sample.telemetry import DATASET, build_sample
from llmwh.warehouse import Warehouse
from llmwh.warehouse.exporter import INSERT_COLUMNS


def sample_loaded(wh: Warehouse, database: str) -> bool:
    sql = (f'select count() from `{database}`.otel_traces '
           f"where ResourceAttributes['{DATASET_KEY}'] = '{DATASET}'")
    return wh.rows(sql)[0][0] > 0


def load_sample_data(wh: Warehouse, database: str) -> dict:
    """Insert the built-in sample, once.

    Returns rows inserted per table; all zero when the sample was already there,
    so loading it again never doubles it.
    """
    sample = build_sample()
    if sample_loaded(wh, database):
        return {table: 0 for table in sample.rows}
    counts = {}
    for table, rows in sample.rows.items():
        columns = list(INSERT_COLUMNS[table])
        wh.insert(table, [[row[c] for c in columns] for row in rows], columns, database=database)
        counts[table] = len(rows)
    return counts
