"""What the Dagster instance recorded about partitions, read and written in batches.

One lookup or one event write per partition costs a query and a commit each (20 ms per
runless event on the SQLite instance): a year of 100 subreddits is 36,500 of them. These
helpers read many partitions with one query and write many runless materializations in
one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

from reddit_assets.dagster_private import RUNLESS_JOB_NAME, RUNLESS_RUN_ID, SqlEventLogStorage, StepMaterializationData
from reddit_assets.instance.event_batches import store_events

# Partitions per lookup query and events per write transaction.
BATCH_SIZE = 500


def metadata_values(record: dg.EventLogRecord) -> dict[str, Any]:
    """A materialization record's metadata, as plain values."""
    materialization = record.asset_materialization
    if materialization is None:  # the instance's materialization records always hold one
        raise ValueError(f"event {record.storage_id} is not a materialization")
    return {k: v.value for k, v in materialization.metadata.items()}


def latest_materialization_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str) -> dict:
    """The metadata values of the partition's latest materialization; {} if it has none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[str(partition)]), limit=1
    ).records
    return metadata_values(records[0]) if records else {}


def latest_materialization_metadata_by_partition(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: Iterable[str]
) -> dict[str, dict]:
    """{partition: metadata values of its latest materialization} for those that have one.

    One query per BATCH_SIZE partitions (newest first, paged until each has been seen).
    """
    wanted = list(dict.fromkeys(str(p) for p in partitions))
    found: dict[str, dict] = {}
    for start in range(0, len(wanted), BATCH_SIZE):
        batch = wanted[start : start + BATCH_SIZE]
        records_filter = dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=batch)
        cursor = None
        while True:
            page = instance.fetch_materializations(records_filter, limit=2 * len(batch), cursor=cursor)
            for record in page.records:
                key = record.partition_key  # newest first: the first seen is the latest
                if key is not None and key not in found:
                    found[key] = metadata_values(record)
            if not page.has_more or all(p in found for p in batch):
                break
            cursor = page.cursor
    return found


def _runless_entry(event: dg.AssetMaterialization | dg.AssetCheckEvaluation) -> dg.EventLogEntry:
    """The event log entry instance.report_runless_asset_event writes for `event`."""
    data: StepMaterializationData | dg.AssetCheckEvaluation
    if isinstance(event, dg.AssetMaterialization):
        kind, data = dg.DagsterEventType.ASSET_MATERIALIZATION, StepMaterializationData(event)
    else:
        kind, data = dg.DagsterEventType.ASSET_CHECK_EVALUATION, event
    return dg.EventLogEntry(
        user_message="",
        level=logging.INFO,
        job_name=RUNLESS_JOB_NAME,
        run_id=RUNLESS_RUN_ID,
        error_info=None,
        timestamp=time.time(),
        step_key=None,
        dagster_event=dg.DagsterEvent(event_type_value=kind.value, event_specific_data=data, job_name=RUNLESS_JOB_NAME),
    )


def report_materializations(
    instance: dg.DagsterInstance,
    events: Sequence[dg.AssetMaterialization | dg.AssetCheckEvaluation],
    per_batch: int = BATCH_SIZE,
) -> None:
    """Record runless materializations (or check evaluations), as
    instance.report_runless_asset_event would one by one, in batches of `per_batch`.

    Dagster's SQL storages (SQLite, PostgreSQL, ours or stock) get one transaction per batch:
    readers see a whole batch or none of it. Any other storage stores the batch its own way.
    """
    storage = instance.event_log_storage
    for start in range(0, len(events), per_batch):
        entries = [_runless_entry(e) for e in events[start : start + per_batch]]
        if isinstance(storage, SqlEventLogStorage):
            store_events(storage, entries)
        else:
            storage.store_event_batch(entries)
