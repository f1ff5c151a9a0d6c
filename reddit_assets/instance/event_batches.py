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
from typing import TYPE_CHECKING, Any, cast

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reddit_assets.dagster_private import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    AssetCheckEvaluationPlanned,
    AssetCheckExecutionRecordStatus,
    AssetCheckExecutionsTable,
    SqlEventLogStorage,
    SqlEventLogStorageTable,
)


def _asset_event_key(event: dg.EventLogEntry) -> dg.AssetKey | None:
    """The asset key of an asset event; None for any other event."""
    if event.dagster_event is None or event.dagster_event_type not in ASSET_EVENTS:
        return None
    return event.dagster_event.asset_key or None


def _is_asset_event(event: dg.EventLogEntry) -> bool:
    return _asset_event_key(event) is not None


def batchable(event: dg.EventLogEntry) -> bool:
    """Whether `store_events` can store this event: an asset event or a run's check event."""
    if not event.is_dagster_event:
        return False
    return _is_asset_event(event) or (event.dagster_event_type in ASSET_CHECK_EVENTS and bool(event.run_id))


def store_events(storage: SqlEventLogStorage, events: Sequence[dg.EventLogEntry]) -> None:
    """Store `events` (all `batchable`) as `storage.store_event` would store each of them."""
    rows = [storage._event_to_row(event) for event in events]
    if storage.is_run_sharded:
        # SQLite: each run's events live in the run's own file and are mirrored into the index file.
        for run_id, run_rows in groupby(rows, key=lambda row: row["run_id"]):
            with storage.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), list(run_rows))
    transaction = (
        storage.joined_index_transaction() if isinstance(storage, BatchedAssetEvents) else storage.index_transaction()
    )
    with transaction as conn:
        inserted = conn.execute(
            SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True), rows
        )
        ids = [row[0] for row in inserted]
        asset_keys = {i: key for i, event in enumerate(events) if (key := _asset_event_key(event)) is not None}
        storage._store_asset_event_tags(conn, [events[i] for i in asset_keys], [ids[i] for i in asset_keys])
        # The asset key's summary row keeps the latest event of each kind: the last in the batch.
        last: dict[tuple[str, dg.DagsterEventType | None], int] = {}
        for i, key in asset_keys.items():
            last[(key.to_string(), events[i].dagster_event_type)] = i
        for i in sorted(last.values()):
            storage._store_asset_event(conn, events[i], ids[i])
        # Check executions: partition evaluations of a run in bulk, anything else by Dagster's
        # own code, which joins this transaction (`joined_connection`); only our storages are
        # given check events.
        bulk: list[tuple[dg.EventLogEntry, int]] = []
        for event, event_id in zip(events, ids):
            if _partition_evaluation(event):
                bulk.append((event, event_id))
            elif event.dagster_event_type in ASSET_CHECK_EVENTS:
                storage.store_asset_check_event(event, event_id)
        if bulk:
            _store_partition_evaluations(storage, conn, bulk)


def _evaluation(event: dg.EventLogEntry) -> dg.AssetCheckEvaluation:
    """A check evaluation event's evaluation (what Dagster's own storage casts it to)."""
    return cast(dg.AssetCheckEvaluation, event.get_dagster_event().event_specific_data)


def _partition_evaluation(event: dg.EventLogEntry) -> bool:
    return (
        event.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and _evaluation(event).partition is not None
    )


# A check execution row's key: as columns, and as the UPDATE's bind names (which may not be
# column names: SQLAlchemy reserves those for the values set).
_KEY_COLUMNS = ("run_id", "asset_key", "check_name", "partition")
_KEY_BINDS = tuple(f"b_{column}" for column in _KEY_COLUMNS)


def _store_partition_evaluations(
    storage: SqlEventLogStorage, conn: Connection, evaluations: Sequence[tuple[dg.EventLogEntry, int]]
) -> None:
    """What Dagster's `_update_asset_check_evaluation` does per event (update the run's planned
    row of that check and partition, or insert one when there is none), as one UPDATE and one
    INSERT statement over all the rows instead of a statement (and a round trip) per event."""
    table = AssetCheckExecutionsTable
    run_ids = {event.run_id for event, _ in evaluations}
    planned = {
        tuple(row)
        for row in conn.execute(
            sa.select(*(table.c[column] for column in _KEY_COLUMNS)).where(
                table.c.run_id.in_(run_ids), table.c.partition.is_not(None)
            )
        )
    }
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for event, event_id in evaluations:
        evaluation = _evaluation(event)
        target = evaluation.target_materialization_data
        key = (event.run_id, evaluation.asset_key.to_string(), evaluation.check_name, evaluation.partition)
        values = {
            "execution_status": (
                AssetCheckExecutionRecordStatus.SUCCEEDED
                if evaluation.passed
                else AssetCheckExecutionRecordStatus.FAILED
            ).value,
            "evaluation_event": dg.serialize_value(event),
            "evaluation_event_timestamp": storage._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
            "materialization_event_storage_id": target.storage_id if target else None,
        }
        # The row's key under bind names for the UPDATE's WHERE, under its columns for an INSERT.
        if key in planned:
            updates.append({**dict(zip(_KEY_BINDS, key)), **values})
        else:
            inserts.append({**dict(zip(_KEY_COLUMNS, key)), **values})
    if updates:
        conn.execute(
            table.update()
            .where(*(table.c[column] == sa.bindparam(bind) for column, bind in zip(_KEY_COLUMNS, _KEY_BINDS)))
            .values({name: sa.bindparam(name) for name in updates[0] if name not in _KEY_BINDS}),
            updates,
        )
    if inserts:
        conn.execute(table.insert(), inserts)


if TYPE_CHECKING:
    # The type checker sees the mixin as the storage it is mixed into.
    _SqlStorage = SqlEventLogStorage
else:
    _SqlStorage = object


class BatchedAssetEvents(_SqlStorage):
    """Mixin for a SqlEventLogStorage: a batch's asset and check events in one transaction per
    database; any other event of a batch is stored alone, after them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
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

    def _store_asset_check_evaluation_planned(self, event: dg.EventLogEntry, event_id: int | None) -> None:
        """Dagster's row per partition of a planned check, with the event serialized once, not
        once per row (a planned check over a run's 365 partitions is serialized 365 times)."""
        planned = cast(AssetCheckEvaluationPlanned, event.get_dagster_event().event_specific_data)
        partitions = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        common = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": dg.serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert().values([{**common, "partition": p} for p in partitions]))

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        batched: list[dg.EventLogEntry] = []
        alone: list[dg.EventLogEntry] = []
        for event in events:
            (batched if batchable(event) else alone).append(event)
        if batched:
            store_events(self, batched)
        for event in alone:
            self.store_event(event)
