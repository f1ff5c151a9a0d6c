"""The local instance's storage: Dagster's SQLite storage with batched asset events.

`LocalInstance` (dagster.yaml's `instance_class`, a `TickingInstance`) makes it the default storage wherever
the instance lives: under DAGSTER_HOME, or in the temporary folder `dagster dev` uses when
DAGSTER_HOME is unset (a storage named in dagster.yaml would need a fixed folder).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import yaml
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from reddit_assets.dagster_private import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    ConfigurableClassData,
    DagsterSqliteStorage,
    InstanceRef,
    SqliteEventLogStorage,
    create_engine,
    event_logs_directory,
)
from reddit_assets.instance.event_batches import BatchedAssetEvents
from reddit_assets.instance.ticking import TickingInstance

# Engines kept per database file: the run files a process is writing and the index file.
ENGINES_KEPT = 8


class BatchingSqliteEventLogStorage(BatchedAssetEvents, SqliteEventLogStorage):
    """Dagster's SQLite event log, storing a batch of asset and check events in one transaction
    per file, and keeping an engine per file instead of creating one for every event."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # before set-up, which connects
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        # SQLAlchemy caches compiled statements per engine: a new engine per event compiled every
        # statement again (a third of an event's cost). NullPool still: no connection is held open.
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > ENGINES_KEPT:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        joined = self.joined_connection() if shard == INDEX_SHARD_NAME else None
        if joined is not None:  # Dagster's per-event helpers inside a batch's transaction
            yield joined
            return
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        while self._engines:
            self._engines.popitem()[1].dispose()


class BatchingSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, events, schedules under one folder) with the batching event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage.dispose()
        self._event_log_storage = BatchingSqliteEventLogStorage(event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data, **config_value)


class LocalInstance(TickingInstance):
    """A Dagster instance whose default storage is `BatchingSqliteStorage` in the instance's folder
    (and whose dagster.yaml chooses the backfill tick, as `TickingInstance`'s)."""

    @staticmethod
    def config_defaults(base_dir: str):
        return {
            **InstanceRef.config_defaults(base_dir),
            "storage": ConfigurableClassData(
                __name__, BatchingSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}, default_flow_style=False)
            ),
        }
