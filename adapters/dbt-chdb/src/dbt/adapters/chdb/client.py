"""A dbt-clickhouse client that talks to the process's embedded chDB engine."""

import time

from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.exceptions import DatabaseError
from dbt.adapters.clickhouse import ClickHouseColumn
from dbt.adapters.clickhouse.httpclient import ChHttpClient
from dbt.adapters.clickhouse.util import hide_stack_trace
from dbt.adapters.exceptions import FailedToConnectError
from dbt_chdb_engine import EngineOpenError, shared_client
from dbt_common.exceptions import DbtDatabaseError

# A statement running this long built hash tables and sort buffers of up to a
# few GB. The engine shares the process with dbt, and its allocator keeps the
# freed pages for reuse, spread over its threads' arenas: the next heavy
# statement then adds to them instead of reusing them. Handing them back to the
# system after such a statement lowered a 10M-span build's peak RSS from 3.84
# to 3.63 GB (bench/README.md); a release takes 0.1-0.3 s after a statement
# that used 2 GB.
RELEASE_AFTER_SECONDS = 1.0
RELEASE_MEMORY = 'system jemalloc purge'
_releasing = {'enabled': True}   # off for good once the engine says it has no jemalloc


class ChdbClient(ChHttpClient):
    """dbt-clickhouse's HTTP wrapper with the transport swapped for chDB."""

    def _create_client(self, credentials):
        # session_id is an HTTP-session concept; the embedded engine has one session.
        settings = {k: v for k, v in self._conn_settings.items() if k != 'session_id'}
        try:
            return shared_client(credentials.path, settings)
        except EngineOpenError as ex:
            raise FailedToConnectError(str(ex)) from ex

    def columns_in_query(self, sql: str, **kwargs):
        # The contract check and on_schema_change ask for a model's columns
        # before each incremental run. dbt-clickhouse's `SELECT * FROM (sql)
        # LIMIT 0` still builds the query's join tables and IN sets, so it
        # costs about as much as the model; DESCRIBE only analyses the query.
        try:
            result = self._client.query(f'DESCRIBE TABLE (\n{sql}\n)', **kwargs)
        except DatabaseError as ex:
            raise DbtDatabaseError(hide_stack_trace(ex)) from ex
        # The type names as the query path spells them (clickhouse-connect's).
        return [ClickHouseColumn.create(row[0], get_from_name(row[1]).name) for row in result.result_rows]

    def query(self, sql, **kwargs):
        started = time.monotonic()
        try:
            return super().query(sql, **kwargs)
        finally:
            self._release_memory_after(started)

    def command(self, sql, **kwargs):
        started = time.monotonic()
        try:
            return super().command(sql, **kwargs)
        finally:
            self._release_memory_after(started)

    def _release_memory_after(self, started: float):
        if not _releasing['enabled'] or time.monotonic() - started < RELEASE_AFTER_SECONDS:
            return
        try:
            self._client.command(RELEASE_MEMORY)
        except DatabaseError:
            _releasing['enabled'] = False

    def close(self):
        # The engine lives for the whole process and other threads still use it.
        pass
