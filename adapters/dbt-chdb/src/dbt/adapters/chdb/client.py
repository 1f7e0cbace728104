"""A dbt-clickhouse client that talks to the process's embedded chDB engine."""

from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.exceptions import DatabaseError
from dbt.adapters.clickhouse import ClickHouseColumn
from dbt.adapters.clickhouse.httpclient import ChHttpClient
from dbt.adapters.clickhouse.util import hide_stack_trace
from dbt.adapters.exceptions import FailedToConnectError
from dbt_chdb_engine import EngineOpenError, shared_client
from dbt_common.exceptions import DbtDatabaseError


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

    def close(self):
        # The engine lives for the whole process and other threads still use it.
        pass
