"""Check executions written in a batch by our storages read back exactly like the ones
Dagster's stock storages write event by event: planned rows per partition, evaluations
updating their planned row, and evaluations with no planned row inserted."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg
import pytest
from dagster import AssetCheckEvaluation, DagsterEventType, EventLogEntry
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned
from dagster._core.storage.event_log.base import PartitionKeyFilter
from dagster_postgres import PostgresEventLogStorage

from reddit_assets.dagster_private import AssetCheckEvaluationTargetMaterializationData, SqliteEventLogStorage
from reddit_assets.instance.postgres import BatchingPostgresEventLogStorage
from reddit_assets.instance.sqlite import BatchingSqliteEventLogStorage
from reddit_assets_tests.instance.events import run_event

ASSET = dg.AssetKey(["reddit", "submissions"])
KEYS = [f"2026-01-0{d}|sub" for d in range(1, 7)]
RUN_ID = "0f0f0f0f-0000-4000-8000-000000000001"


def _events(check_name: str) -> tuple[list[EventLogEntry], list[EventLogEntry]]:
    """(planned for KEYS[:4], evaluations for KEYS: 4 with a planned row, 2 without)."""
    subset = dg.StaticPartitionsDefinition(KEYS).subset_with_partition_keys(KEYS[:4])
    planned = [
        run_event(
            DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
            AssetCheckEvaluationPlanned(asset_key=ASSET, check_name=check_name, partitions_subset=subset),
            RUN_ID,
        )
    ]
    evaluations = [
        run_event(
            DagsterEventType.ASSET_CHECK_EVALUATION,
            AssetCheckEvaluation(
                asset_key=ASSET,
                check_name=check_name,
                passed=i != 2,
                metadata={"rows": i},
                target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
                    storage_id=100 + i, run_id=RUN_ID, timestamp=1.0
                ),
                partition=key,
            ),
            RUN_ID,
        )
        for i, key in enumerate(KEYS)
    ]
    return planned, evaluations


def _history(storage, check_name: str) -> list[tuple]:
    records = storage.get_asset_check_execution_history(dg.AssetCheckKey(ASSET, check_name), limit=100)
    return sorted(
        (
            r.partition,
            r.run_id,
            r.status.value,
            r.event.dagster_event.event_type_value,
            getattr(r.event.dagster_event.event_specific_data, "passed", None),
        )
        for r in records
    )


@contextlib.contextmanager
def _storages(kind: str, tmp_path: Path, request):
    """(stock storage, batching storage); on PostgreSQL one database (the tests keep their check names apart)."""
    if kind == "sqlite":
        stock, ours = (
            SqliteEventLogStorage(str(tmp_path / "stock")),
            BatchingSqliteEventLogStorage(str(tmp_path / "ours")),
        )
    else:
        url = request.getfixturevalue("postgres_url_psycopg2")
        stock, ours = PostgresEventLogStorage(url), BatchingPostgresEventLogStorage(url)
    try:
        yield stock, ours
    finally:
        stock.dispose()
        ours.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_batched_check_executions_read_like_stock_ones(kind, tmp_path, request):
    with _storages(kind, tmp_path, request) as (stock, ours):
        planned, evaluations = _events("rows_stock")
        for event in planned + evaluations:
            stock.store_event(event)
        planned, evaluations = _events("rows_ours")
        ours.store_event_batch(planned)
        ours.store_event_batch(evaluations)
        expected = _history(stock, "rows_stock")
        assert _history(ours, "rows_ours") == expected
        assert len(expected) == len(KEYS)  # planned rows updated, not duplicated
        assert ("2026-01-03|sub", RUN_ID, "FAILED", "ASSET_CHECK_EVALUATION", False) in expected
        assert all(status != "PLANNED" for _, _, status, _, _ in expected)
        # The summary the UI reads per partition points at the same materializations.
        for storage, name in ((stock, "rows_stock"), (ours, "rows_ours")):
            check_key = dg.AssetCheckKey(ASSET, name)
            latest = storage.get_latest_asset_check_execution_by_key(
                [check_key], partition_filter=PartitionKeyFilter(key="2026-01-05|sub")
            )
            assert latest[check_key].status.value == "SUCCEEDED"
