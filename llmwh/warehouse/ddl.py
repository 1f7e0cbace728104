"""Render and apply the raw OTel DDL in ddl/ (Jinja templates, see ddl/README.md)."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import jinja2

from llmwh.config import billing_keys, otel_database, project_dir
from llmwh.errors import LlmwhError

# Resource attributes the exporter (and ClickStack) promote to MATERIALIZED columns.
MATERIALIZED_KEYS = (
    'k8s.cluster.name', 'k8s.container.name', 'k8s.deployment.name', 'k8s.namespace.name',
    'k8s.node.name', 'k8s.pod.name', 'k8s.pod.uid', 'deployment.environment.name',
)
# The exporter switches logs indexes to text indexes from this server version.
TEXT_INDEX_VERSION = (26, 2)
# From 25.11 MergeTree writes each String's lengths to a stream of their own
# (`string_serialization_version = 'with_size_stream'`), which costs the
# repeated map values of otel_traces/otel_logs far more than the strings; the
# spans and logs tables ask for inline lengths ('single_stream'), a value older
# servers do not know (and do not need: they store lengths inline anyway).
SINGLE_STREAM_STRING_VERSION = (25, 11)
# From 24.5 the spans and logs tables keep each row's insert block number
# through merges (`enable_block_number_column`): a scheduled run then reads
# only the rows delivered since the last one, also from a part that merged
# them with older rows (the dbt macro new_deliveries).
BLOCK_NUMBER_COLUMN_VERSION = (24, 5)
REPLICATED_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


def quote(name: str) -> str:
    return '`' + name.replace('\\', '\\\\').replace('`', '\\`') + '`'


@dataclass
class DdlOptions:
    database: str = field(default_factory=otel_database)
    retention: dict = field(default_factory=dict)   # table -> days; 'default' for the rest
    cluster: Optional[str] = None
    server_version: tuple = TEXT_INDEX_VERSION

    def ttl_days(self, table: str) -> int:
        if table in self.retention:
            return int(self.retention[table])
        # The trace-id lookup lives as long as the traces it points to.
        if table.startswith('otel_traces') and 'otel_traces' in self.retention:
            return int(self.retention['otel_traces'])
        return int(self.retention.get('default', 0))


@dataclass
class Statement:
    source: str      # ddl file name
    sql: str


def ddl_files(ddl_dir: Optional[Path] = None) -> tuple:
    ddl_dir = ddl_dir or project_dir() / 'ddl'
    files = sorted(p for p in ddl_dir.glob('*.sql') if not p.name.startswith('_'))
    if not files:
        raise LlmwhError(f'no DDL files in {ddl_dir}')
    return ddl_dir, files


def render(options: DdlOptions, ddl_dir: Optional[Path] = None) -> list:
    """Every statement of ddl/, in file order, rendered for `options`."""
    ddl_dir, files = ddl_files(ddl_dir)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ddl_dir)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    cluster = options.cluster
    db = quote(options.database)

    def table(name):
        return f'{db}.{quote(name + "_local" if cluster else name)}'

    def obj(name):
        return f'{db}.{quote(name)}'

    def engine(kind, *args):
        # args: engine parameters after the replication path, e.g. a version column.
        params = ', '.join((REPLICATED_PATH,) + args if cluster else args)
        return f'Replicated{kind}({params})' if cluster else f'{kind}({params})'

    def ttl(expr, name):
        days = options.ttl_days(name)
        if days < 0:
            raise LlmwhError(f'retention for {name} must be >= 0 days, got {days}')
        return f'TTL {expr} + toIntervalDay({days})' if days else ''

    def distributed(name, sharding_key):
        if not cluster:
            return ''
        return (f'create table if not exists {obj(name)} on cluster {quote(cluster)}\n'
                f'as {table(name)}\n'
                f"ENGINE = Distributed({quote(cluster)}, {db}, {quote(name + '_local')}, {sharding_key})")

    context = dict(
        database_q=db, table=table, object=obj, engine=engine, ttl=ttl, distributed=distributed,
        on_cluster=f'on cluster {quote(cluster)}' if cluster else '',
        text_indexes=tuple(options.server_version) >= TEXT_INDEX_VERSION,
        single_stream_strings=tuple(options.server_version) >= SINGLE_STREAM_STRING_VERSION,
        block_number_column=tuple(options.server_version) >= BLOCK_NUMBER_COLUMN_VERSION,
        materialized_keys=MATERIALIZED_KEYS,
        billing_key=lambda name: ', '.join(billing_keys()[name]),
    )
    statements = []
    for path in files:
        text = env.get_template(path.name).render(context)
        for sql in split_statements(text):
            sql = re.sub(r'\n\s*\n', '\n', sql).strip()
            if sql:
                statements.append(Statement(path.name, sql))
    return statements


_TOKENS = re.compile(r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`|--[^\n]*|;|[^'"`;-]+|-""",
                     re.S)


def split_statements(text: str) -> list:
    """Statements of `text`, split on semicolons outside quotes and comments, so a
    quoted name holding `; drop table t` stays inside its statement."""
    statements, current = [], []
    for m in _TOKENS.finditer(text):
        token = m.group(0)
        if token == ';':
            statements.append(''.join(current))
            current = []
        else:
            current.append(token)
    if ''.join(current).strip():
        statements.append(''.join(current))
    if sum(len(m.group(0)) for m in _TOKENS.finditer(text)) != len(text):
        raise LlmwhError('unterminated quote in the DDL')
    return statements


def retention_tables(options: Optional[DdlOptions] = None) -> list:
    """Names --retention may set: the tables ddl/ creates (not views), and `default`."""
    names = created_objects(render(options or DdlOptions(retention={})))
    return ['default'] + sorted(n for n, sql in names.items() if not sql.startswith('create materialized view'))


def check_retention_names(retention: dict, options: Optional[DdlOptions] = None):
    known = retention_tables(options)
    unknown = sorted(set(retention) - set(known))
    if unknown:
        raise LlmwhError(f'--retention: unknown table {", ".join(unknown)}; known tables: {", ".join(known)}')


_TTL_DAYS = re.compile(r'TTL .*?toIntervalDay\((\d+)\)')


def ttl_days_of(sql: str) -> int:
    """Retention in days of a CREATE statement or an engine_full; 0 = no TTL."""
    m = _TTL_DAYS.search(sql)
    return int(m.group(1)) if m else 0


_SETTINGS = re.compile(r'\bSETTINGS (.+)$', re.S)


def settings_of(sql: str) -> dict:
    """name -> value of the SETTINGS clause ending a CREATE statement or an engine_full."""
    m = _SETTINGS.search(sql)
    pairs = (item.split('=', 1) for item in m.group(1).split(',')) if m else ()
    return {k.strip(): v.strip() for k, v in pairs}


_CREATE = re.compile(r'create (?:materialized view|table) if not exists `[^`]+`\.`([^`]+)`')


def created_objects(statements: list) -> dict:
    """name -> SQL of each table or view the statements create, in creation order."""
    return {m.group(1): st.sql for st in statements if (m := _CREATE.match(st.sql))}

