"""Per-partition results of a run over a range of partitions (a batched backfill).

Dagster 1.13 records a check result against a partition only when the run has exactly
one partition key, and its public per-partition metadata call re-lists the run's keys on
every call. These helpers give range runs what single-partition runs get:

- `partition_check_evaluations`: one check evaluation per examined partition, each aimed
  at that partition's materialization, so the check's Partitions tab shows Passed/Failed
  per partition (and the planned evaluations of a range run never end up "Skipped").
- `attach_partition_metadata`: every partition's materialization metadata in one step.
- `per_partition`: runs a range run's work partition by partition with all of the above.
- `materialize_finished_partitions`: when a range run fails halfway, materializations
  for the partitions it finished (the rest show failed; see `mark_unfinished_partitions`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from reddit_assets.assets.bounded_pool import run_bounded
from reddit_assets.assets.records import metadata_values
from reddit_assets.dagster_private import (
    AssetCheckEvaluationTargetMaterializationData,
    AssetMaterializationPlannedData,
    DagsterEventBatchMetadata,
    add_asset_metadata_by_partition,
    generate_event_batch_id,
    step_execution_context,
)
from reddit_assets.instance.event_batches import BatchedAssetEvents

BACKFILL_TAG = "dagster/backfill"


@dataclass(frozen=True)
class PartitionCheck:
    """What one check found for one partition."""

    partition: str
    passed: bool
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Materialization:
    """A partition's materialization as the instance stored it."""

    storage_id: int
    run_id: str
    timestamp: float
    metadata: Mapping[str, object]


def _materialization(record: dg.EventLogRecord) -> Materialization:
    return Materialization(record.storage_id, record.run_id, record.timestamp, metadata_values(record))


def latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: Iterable[str]
) -> dict[str, Materialization]:
    """The latest materialization of each partition that has one, newest first in pages: for
    the partitions a run has just materialized, the first page holds them all.

    Read from the instance's asset index, whose storage ids are the ones check results must
    aim at (a SQLite instance numbers a run's own event log differently).
    """
    wanted = set(map(str, partitions))
    found: dict[str, Materialization] = {}
    cursor = None
    while wanted - found.keys():
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=sorted(wanted - found.keys())),
            limit=max(100, len(wanted - found.keys())),
            cursor=cursor,
        )
        for record in page.records:
            if record.partition_key is not None:
                found.setdefault(record.partition_key, _materialization(record))
        if not page.has_more:
            break
        cursor = page.cursor
    return found


def partition_check_evaluations(
    context: dg.AssetCheckExecutionContext,
    check_key: dg.AssetCheckKey,
    results: Iterable[PartitionCheck],
    materializations: Mapping[str, Materialization],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """What a check op yields for a range of partitions: one evaluation per examined partition,
    aimed at that partition's materialization (so the UI counts it as the partition's current
    result, as for a one-partition run), then the check's output.

    On a storage that writes check evaluations in batches (reddit_assets.instance), the
    evaluations are logged as one batch instead of yielded one event (and commit) at a time.
    """
    evaluations = [check_evaluation(check_key, result, materializations.get(result.partition)) for result in results]
    if len(evaluations) > 1 and _batches_check_events(context.instance):
        _log_as_one_batch(context, evaluations)
    else:
        yield from evaluations
    # The op's output for this check (what AssetCheckResult would yield besides its evaluation).
    yield dg.Output(
        None, output_name=context.op_execution_context.assets_def.get_output_name_for_asset_check_key(check_key)
    )


def check_evaluation(
    check_key: dg.AssetCheckKey, result: PartitionCheck, target: Materialization | None
) -> dg.AssetCheckEvaluation:
    """One partition's evaluation, aimed at its materialization `target`."""
    return dg.AssetCheckEvaluation(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=result.passed,
        metadata=dict(result.metadata),
        description=result.description,
        target_materialization_data=(
            AssetCheckEvaluationTargetMaterializationData(
                storage_id=target.storage_id, run_id=target.run_id, timestamp=target.timestamp
            )
            if target
            else None
        ),
        blocking=False,
        partition=result.partition,
    )


def _batches_check_events(instance: dg.DagsterInstance) -> bool:
    # Dagster buffers a batch only when DAGSTER_EVENT_BATCH_SIZE is set, and its stock storages
    # refuse check evaluations in a batch (it then retries them one by one, noisily).
    return int(os.environ.get("DAGSTER_EVENT_BATCH_SIZE") or 0) > 0 and isinstance(
        instance.event_log_storage, BatchedAssetEvents
    )


def _log_as_one_batch(context: dg.AssetCheckExecutionContext, evaluations: list[dg.AssetCheckEvaluation]) -> None:
    """Log the evaluations as DagsterEvent.asset_check_evaluation would, one batch for them all
    (not blocking: a failed one does not fail the step, as when yielded with blocking=False)."""
    step = step_execution_context(context)
    batch_id = generate_event_batch_id()
    for i, evaluation in enumerate(evaluations):
        dg.DagsterEvent.from_step(
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
            step,
            evaluation,
            message=f"Asset check '{evaluation.check_name}' on '{evaluation.asset_key.to_user_string()}' "
            + ("passed." if evaluation.passed else "did not pass.")
            + ("" if evaluation.description is None else f" Description: '{evaluation.description}'"),
            batch_metadata=DagsterEventBatchMetadata(batch_id, i == len(evaluations) - 1),
        )


def attach_partition_metadata(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    metadata: Mapping[str, Mapping[str, Any]],
) -> None:
    """Metadata for each partition's materialization, as `add_asset_metadata(..., partition_key=)`
    would record it, but in one update: that call re-lists the run's partition keys and copies
    everything recorded so far on each call (quadratic over a range run). The keys are the
    run's own (`context.partition_keys`), so its per-call check has nothing to add.
    """
    add_asset_metadata_by_partition(context, asset_key, metadata)


def materialize_finished_partitions(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    metadata: Mapping[str, Mapping[str, Any]],
) -> Iterator[dg.AssetMaterialization]:
    """Materializations of the partitions a failing range run finished (their rows are committed),
    tagged with the run's backfill like Dagster's own, so the backfill counts them done."""
    backfill = context.run.tags.get(BACKFILL_TAG)
    tags = {BACKFILL_TAG: backfill} if backfill else None
    for partition, values in metadata.items():
        yield dg.AssetMaterialization(asset_key=asset_key, partition=partition, metadata=dict(values), tags=tags)


def mark_unfinished_partitions(
    context: dg.AssetExecutionContext,
    asset_keys: Iterable[dg.AssetKey],
    partitions: Iterable[str],
) -> None:
    """Record a planned materialization per unfinished partition of a failing run.

    Dagster shows a partition failed when its latest planned materialization belongs to a
    failed run and has no materialization after it. With
    DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS a range run gets one planned event
    for all its partitions, which that rule never reads; these per-partition events make
    exactly the unfinished partitions show failed once the run fails. Written as one batch.
    """
    events = [
        dg.DagsterEvent.build_asset_materialization_planned_event(
            context.run.job_name,
            step_execution_context(context).step.key,
            AssetMaterializationPlannedData(asset_key, partition=partition),
        )
        for asset_key in asset_keys
        for partition in partitions
    ]
    batch_id = generate_event_batch_id()
    for i, event in enumerate(events):
        context.instance.report_dagster_event(
            event,
            context.run.run_id,
            logging.DEBUG,
            batch_metadata=DagsterEventBatchMetadata(batch_id, i == len(events) - 1),
        )


def per_partition(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    partitions,
    work,
    *,
    threads: int = 1,
    weight=lambda partition: 0,
    budget: int = 0,
):
    """Run `work(key, date, name) -> metadata` for each partition and record each partition's
    metadata; when one fails, the partitions finished before it stay materialized and the rest
    show failed (as the database load does).

    With `threads` > 1, up to that many partitions are worked on at once, their `weight`s
    (bytes) summing to at most `budget`; a failure stops new ones starting, and those in
    flight that finish are materialized too."""
    done: dict[str, dict] = {}
    try:
        for (key, _, _), metadata in run_bounded(
            partitions, lambda p: work(*p), threads=threads, weight=weight, budget=budget
        ):
            done[key] = metadata
    except Exception:
        yield from materialize_finished_partitions(context, asset_key, done)
        mark_unfinished_partitions(context, (asset_key,), [key for key, _, _ in partitions if key not in done])
        raise
    attach_partition_metadata(context, asset_key, done)
    yield dg.MaterializeResult(asset_key=asset_key)
