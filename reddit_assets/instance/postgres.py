"""The production instance's storage: dagster-postgres with batched planned materializations
and a few connections kept open.

dagster-postgres writes a run's materializations in one INSERT but the planned events
the daemon writes before each run (one per partition per asset) one at a time;
deploy/dagster.yaml names `BatchingPostgresStorage` as its custom storage.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from reddit_assets.dagster_private import SqlEventLogStorageTable
from reddit_assets.instance.event_batches import BatchedAssetEvents

# Outside the webserver dagster-postgres opens a new connection for every query (NullPool):
# a daemon driving a year's backfill opened about 28 a second, and opening them was ~15% of
# its busy time. A few stay open per engine instead; pre-ping replaces one the server
# dropped (a restart) before it is used, and recycling bounds a connection's age.
POOL = {"pool_size": 2, "max_overflow": 8, "pool_pre_ping": True, "pool_recycle": 3600}

_POOLED_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    """In a forked child: the parent's open connections are not the child's to use or close."""
    for engine in list(_POOLED_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


if TYPE_CHECKING:
    from dagster_postgres.auth import PgTokenProvider

    class _PostgresStorage:
        """What the mixin below uses of the dagster-postgres storage it is mixed into (each of
        the run, schedule and event log storages has it), for the type checker only."""

        _engine: Engine
        _token_provider: PgTokenProvider | None

        def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None: ...
        def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None: ...
        def dispose(self) -> None: ...

else:
    _PostgresStorage = object


class PooledConnections(_PostgresStorage):
    """Mixin for a dagster-postgres storage: its engine keeps `POOL`'s connections open."""

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)  # creates the tables, on its own engine
        unpooled = self._engine
        connect_args = {"options": unpooled.url.query["options"]} if "options" in unpooled.url.query else {}
        self._engine = create_pg_engine(
            postgres_url, self._token_provider, isolation_level="AUTOCOMMIT", connect_args=connect_args, **POOL
        )
        unpooled.dispose()
        _POOLED_ENGINES.add(self._engine)

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        self._engine.dispose()  # dagster-postgres gives the webserver its own pooled engine
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()


class PooledPostgresRunStorage(PooledConnections, PostgresRunStorage):
    """dagster-postgres's run storage, keeping a few connections open."""


class PooledPostgresScheduleStorage(PooledConnections, PostgresScheduleStorage):
    """dagster-postgres's schedule and sensor storage, keeping a few connections open."""


class BatchingPostgresEventLogStorage(BatchedAssetEvents, PooledConnections, PostgresEventLogStorage):
    """dagster-postgres's event log, storing a batch of asset and check events in one transaction."""

    @contextmanager
    def joined_index_transaction(self) -> Iterator[Connection]:
        with super().joined_index_transaction() as conn:
            # Readers of the event log keep a cursor: the highest storage id they have seen
            # (the backfill daemon's materialized partitions, sensors, the event consumer). A
            # batch takes its ids when it inserts and shows them when it commits; another
            # writer's later id committed in between would move a cursor past the batch, and
            # its events would never be read (a year's backfill ended COMPLETED_FAILED, its
            # "unmaterialized" partitions all materialized). So no other event is inserted
            # while a batch is open; reads go on (this mode blocks writers only).
            conn.execute(text(f"LOCK TABLE {SqlEventLogStorageTable.name} IN SHARE ROW EXCLUSIVE MODE"))
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        joined = self.joined_connection()
        if joined is not None:  # Dagster's per-event helpers inside a batch's transaction
            yield joined
            return
        with super()._connect() as conn:
            yield conn


class BatchingPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres's storage (runs, events, schedules) with the batching event log and
    pooled connections."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None, token_provider=None):
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PooledPostgresRunStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._event_log_storage = BatchingPostgresEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._schedule_storage = PooledPostgresScheduleStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        super(DagsterPostgresStorage, self).__init__()  # not dagster-postgres's: it builds its own three

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
