"""A dbt-clickhouse client that talks to the process's embedded chDB engine."""

from dbt.adapters.clickhouse.httpclient import ChHttpClient
from dbt.adapters.exceptions import FailedToConnectError
from dbt_chdb_engine import EngineOpenError, shared_client


class ChdbClient(ChHttpClient):
    """dbt-clickhouse's HTTP wrapper with the transport swapped for chDB."""

    def _create_client(self, credentials):
        # session_id is an HTTP-session concept; the embedded engine has one session.
        settings = {k: v for k, v in self._conn_settings.items() if k != 'session_id'}
        try:
            return shared_client(credentials.path, settings)
        except EngineOpenError as ex:
            raise FailedToConnectError(str(ex)) from ex

    def close(self):
        # The engine lives for the whole process and other threads still use it.
        pass
