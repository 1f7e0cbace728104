"""One connection type for every target: embedded chDB or a ClickHouse server."""

import os
import re
from typing import Iterable, Optional, Sequence

from clickhouse_connect.driver.exceptions import ClickHouseError

from llmwh.config import Target
from llmwh.errors import LlmwhError
from llmwh.warehouse.ddl import quote

_STACK = re.compile(r'\s*(Stack trace|\(version \d).*', re.S)


def clean_error(ex: Exception) -> str:
    """The server's message without stack trace or version banner."""
    text = str(ex).strip()
    text = _STACK.sub('', text)
    return text.strip().rstrip('.') or type(ex).__name__


class Warehouse:
    """A clickhouse-connect client whose errors are LlmwhError with a clean message."""

    def __init__(self, client, target: Target):
        self.client = client
        self.target = target

    def command(self, sql: str, settings: Optional[dict] = None):
        try:
            return self.client.command(sql, settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def query(self, sql: str, parameters: Optional[dict] = None, settings: Optional[dict] = None):
        try:
            return self.client.query(sql, parameters=parameters, settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def rows(self, sql: str, parameters: Optional[dict] = None) -> list:
        return self.query(sql, parameters).result_rows

    def raw(self, sql: str, fmt: str, settings: Optional[dict] = None) -> bytes:
        try:
            return self.client.raw_query(sql, fmt=fmt, settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def insert(self, table: str, rows: Sequence, columns: Sequence[str], database: Optional[str] = None,
               settings: Optional[dict] = None):
        try:
            return self.client.insert(table, rows, column_names=columns, database=database,
                                      settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(f'insert into {database}.{table} failed: {clean_error(ex)}') from ex

    def insert_formatted(self, table: str, columns: Sequence[str], blocks: Iterable[bytes], fmt: str,
                         database: Optional[str], settings: Optional[dict] = None):
        """Insert data already in a ClickHouse input format (the engine parses it);
        database None for a temporary table."""
        name = quote(table) if database is None else f'{quote(database)}.{quote(table)}'
        try:
            return self.client.raw_insert(name, columns, blocks, settings=settings, fmt=fmt)
        except ClickHouseError as ex:
            raise LlmwhError(f'insert into {database}.{table} failed: {clean_error(ex)}') from ex

    def use_database(self, database: str):
        """Resolve unqualified names in `database` from now on."""
        self.client.database = database

    def database_exists(self, database: str) -> bool:
        return bool(self.rows('select count() from system.databases where name = {db:String}',
                              {'db': database})[0][0])

    @property
    def server_version(self) -> tuple:
        return tuple(int(p) for p in str(self.client.server_version).split('.')[:3] if p.isdigit())


def connect(target: Target, create: bool = False) -> Warehouse:
    """Open the target. An embedded warehouse is created only when `create` is set."""
    if target.is_embedded:
        return Warehouse(_open_embedded(target, create), target)
    warehouse = Warehouse(_open_server(target), target)
    # The target's schema is dbt's to create: before the first `dbt build` a fresh
    # server has only `default`, and `llmwh init` must still work there.
    if target.schema and warehouse.database_exists(target.schema):
        warehouse.use_database(target.schema)
    return warehouse


def _open_embedded(target: Target, create: bool):
    from dbt_chdb_engine import EngineOpenError, shared_client

    # The engine module checks the path itself (a file where the directory should be).
    path = target.path
    if not create and not os.path.exists(path):
        raise LlmwhError(
            f'no embedded warehouse at {path}; create it with `llmwh init` (or `make demo`), '
            'or point LLMWH_PATH / --path at an existing one'
        )
    try:
        return shared_client(path, target.settings)
    except EngineOpenError as ex:
        raise LlmwhError(str(ex)) from ex


def _open_server(target: Target):
    import clickhouse_connect

    if target.driver == 'native':
        raise LlmwhError(
            f'target {target.name!r} uses driver: native; llmwh connects over HTTP, '
            'so give this target driver: http and the HTTP port'
        )
    port = target.port or (8443 if target.secure else 8123)
    try:
        return clickhouse_connect.get_client(
            host=target.host, port=port, username=target.user, password=target.password,
            secure=target.secure, settings=target.settings,
        )
    except ClickHouseError as ex:
        raise LlmwhError(f'cannot connect to {target.host}:{port}: {clean_error(ex)}') from ex
