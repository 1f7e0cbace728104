"""One connection type for every target: embedded chDB or a ClickHouse server."""

import os
import re

from clickhouse_connect.driver.exceptions import ClickHouseError

from llmwh.errors import LlmwhError
from llmwh.profile import Target

_STACK = re.compile(r'\s*(Stack trace|\(version \d).*', re.S)


def clean_error(ex: Exception) -> str:
    """The server's message without stack trace or version banner."""
    text = str(ex).strip()
    text = _STACK.sub('', text)
    return text.strip().rstrip('.') or type(ex).__name__


class Warehouse:
    def __init__(self, client, target: Target):
        self.client = client
        self.target = target

    def command(self, sql: str, settings=None):
        try:
            return self.client.command(sql, settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def query(self, sql: str, parameters=None, settings=None):
        try:
            return self.client.query(sql, parameters=parameters, settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def rows(self, sql: str, parameters=None):
        return self.query(sql, parameters).result_rows

    def raw(self, sql: str, fmt: str) -> bytes:
        try:
            return self.client.raw_query(sql, fmt=fmt)
        except ClickHouseError as ex:
            raise LlmwhError(clean_error(ex)) from ex

    def insert(self, table: str, rows, columns, database=None, settings=None):
        try:
            return self.client.insert(table, rows, column_names=columns, database=database,
                                      settings=settings)
        except ClickHouseError as ex:
            raise LlmwhError(f'insert into {database}.{table} failed: {clean_error(ex)}') from ex

    @property
    def server_version(self) -> tuple:
        return tuple(int(p) for p in str(self.client.server_version).split('.')[:3] if p.isdigit())


def connect(target: Target, create: bool = False) -> Warehouse:
    """Open the target. An embedded warehouse is created only when `create` is set."""
    if target.is_embedded:
        return Warehouse(_open_embedded(target, create), target)
    return Warehouse(_open_server(target), target)


def _open_embedded(target: Target, create: bool):
    from dbt_chdb_engine import EngineOpenError, shared_client

    path = target.path
    if os.path.exists(path) and not os.path.isdir(path):
        raise LlmwhError(f'warehouse path {path} exists but is not a directory')
    if not create and not os.path.isdir(path):
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
            secure=target.secure, database=target.schema, settings=target.settings,
        )
    except ClickHouseError as ex:
        raise LlmwhError(f'cannot connect to {target.host}:{port}: {clean_error(ex)}') from ex
