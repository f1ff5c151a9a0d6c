"""The production instance's storage: dagster-postgres with batched planned materializations.

dagster-postgres writes a run's materializations in one INSERT but the planned events
the daemon writes before each run (one per partition per asset) one at a time;
deploy/dagster.yaml names `BatchingPostgresStorage` as its custom storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster_postgres import DagsterPostgresStorage, PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import Connection

from reddit_assets.instance.event_batches import BatchedAssetEvents


class BatchingPostgresEventLogStorage(BatchedAssetEvents, PostgresEventLogStorage):
    """dagster-postgres's event log, storing a batch of asset and check events in one transaction."""

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        joined = self.joined_connection()
        if joined is not None:  # Dagster's per-event helpers inside a batch's transaction
            yield joined
            return
        with super()._connect() as conn:
            yield conn


class BatchingPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres's storage (runs, events, schedules) with the batching event log."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None, token_provider=None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data, token_provider=token_provider)
        self._event_log_storage.dispose()
        self._event_log_storage = BatchingPostgresEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
