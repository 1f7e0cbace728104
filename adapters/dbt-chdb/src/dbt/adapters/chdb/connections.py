from dbt.adapters.chdb.client import ChdbClient
from dbt.adapters.clickhouse.connections import ClickHouseConnectionManager
from dbt.adapters.clickhouse.logger import logger


class ChdbConnectionManager(ClickHouseConnectionManager):
    TYPE = 'chdb'

    @classmethod
    def open(cls, connection):
        if connection.state == 'open':
            return connection
        credentials = cls.get_credentials(connection.credentials)
        return cls.retry_connection(
            connection,
            connect=lambda: ChdbClient(credentials),
            logger=logger,
            retry_limit=credentials.retries,
            retryable_exceptions=[],
        )
