from dataclasses import dataclass

from dbt.adapters.clickhouse.credentials import ClickHouseCredentials
from dbt_common.exceptions import DbtRuntimeError


@dataclass
class ChdbCredentials(ClickHouseCredentials):
    """dbt-clickhouse credentials plus the chDB data directory."""

    path: str = '.warehouse'
    # Exchange is always atomic on the embedded engine; skip the probe table.
    check_exchange: bool = False

    @property
    def type(self):
        return 'chdb'

    @property
    def unique_field(self):
        return self.path

    def __post_init__(self):
        super().__post_init__()
        if self.cluster or self.cluster_mode or 'Replicated' in (self.database_engine or ''):
            raise DbtRuntimeError(
                'The chdb adapter runs a single embedded engine: remove cluster, '
                'cluster_mode and Replicated database engines from this target, '
                'or use type: clickhouse for a server or cluster.'
            )

    def _connection_keys(self):
        return ('path', 'schema', 'threads', 'custom_settings', 'use_lw_deletes')
