"""A run's asset and check events stored in one transaction per database, not one per event.

Dagster hands an event log storage a batch (`store_event_batch`) for the planned
materializations and checks the daemon writes before a run, and for a run's
materializations over many partitions. Its SQLite storage then stores them one by one
(two or three commits each), and dagster-postgres batches only materializations and
observations. `store_events` does what `store_event` does for each of these events, and
for check evaluations, for a whole batch at once, on either storage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from sqlalchemy.engine import Connection


def _is_asset_event(event: EventLogEntry) -> bool:
    return event.dagster_event_type in ASSET_EVENTS and bool(event.dagster_event.asset_key)


def batchable(event: EventLogEntry) -> bool:
    """Whether `store_events` can store this event: an asset event or a run's check event."""
    if not event.is_dagster_event:
        return False
    return _is_asset_event(event) or (event.dagster_event_type in ASSET_CHECK_EVENTS and bool(event.run_id))


def store_events(storage: SqlEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    """Store `events` (all `batchable`) as `storage.store_event` would store each of them."""
    rows = [storage._event_to_row(event) for event in events]
    if storage.is_run_sharded:
        # SQLite: each run's events live in the run's own file and are mirrored into the index file.
        for run_id, run_rows in groupby(rows, key=lambda row: row["run_id"]):
            with storage.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), list(run_rows))
    batching = isinstance(storage, BatchedAssetEvents)
    with storage.joined_index_transaction() if batching else storage.index_transaction() as conn:
        inserted = conn.execute(
            SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True), rows
        )
        ids = [row[0] for row in inserted]
        assets = [i for i, event in enumerate(events) if _is_asset_event(event)]
        storage._store_asset_event_tags(conn, [events[i] for i in assets], [ids[i] for i in assets])
        # The asset key's summary row keeps the latest event of each kind: the last in the batch.
        last: dict[tuple[str, str], int] = {}
        for i in assets:
            last[(events[i].dagster_event.asset_key.to_string(), events[i].dagster_event_type)] = i
        for i in sorted(last.values()):
            storage._store_asset_event(conn, events[i], ids[i])
        # Check executions: Dagster's own update per event, which joins this transaction
        # (`joined_connection`); only our storages are given check events.
        for i, event in enumerate(events):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:
                storage.store_asset_check_event(event, ids[i])


class BatchedAssetEvents:
    """Mixin for a SqlEventLogStorage: a batch's asset and check events in one transaction per
    database; any other event of a batch is stored alone, after them."""

    def __init__(self, *args, **kwargs):
        # Per thread: the open batch transaction on the index database, if any. Made once, before
        # the storage's own set-up connects, so two threads never each make their own.
        self._joined_local = threading.local()
        super().__init__(*args, **kwargs)

    @contextmanager
    def joined_index_transaction(self) -> Iterator[Connection]:
        """The index transaction of a batch, which this thread's index connections join."""
        with self.index_transaction() as conn:
            self._joined_local.connection = conn
            try:
                yield conn
            finally:
                self._joined_local.connection = None

    def joined_connection(self) -> Connection | None:
        """This thread's batch transaction on the index database, if one is open."""
        return getattr(self._joined_local, "connection", None)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        batched, alone = [], []
        for event in events:
            (batched if batchable(event) else alone).append(event)
        if batched:
            store_events(self, batched)
        for event in alone:
            self.store_event(event)
