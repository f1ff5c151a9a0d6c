"""Dagster's private API: the only module of reddit_assets allowed to touch `dagster._`.

Everything Dagster exports publicly (`import dagster as dg`) is imported from there; the
names below are not exported, yet the platform needs them. Private names move or change
between releases without notice, so they are all here, where ruff's TID251 lets them be
imported (pyproject.toml bans `dagster._*` everywhere else), and
reddit_assets_tests/test_dagster_private.py checks each one's shape: on a Dagster upgrade,
run that canary file first (`pytest reddit_assets_tests/test_dagster_private.py`); a name
that moved fails there, by name, instead of deep in a run.

Why each is needed:

- Writing events in batches (assets/records.py, instance/event_batches.py): Dagster writes
  one event per commit. `SqlEventLogStorage` is the SQL event log our storages extend and
  write to in one transaction; `SqlEventLogStorageTable` and `AssetCheckExecutionsTable` are
  the tables written; `AssetCheckExecutionRecordStatus` is a check row's status;
  `AssetCheckEvaluationPlanned` is a planned check event's data (what the batch reads of it);
  `ASSET_EVENTS` and `ASSET_CHECK_EVENTS` tell which events are batched;
  `StepMaterializationData`, `RUNLESS_JOB_NAME` and `RUNLESS_RUN_ID` build the event
  `instance.report_runless_asset_event` would write.
- Per-partition results of range runs (assets/partition_results.py): Dagster records a
  check result or metadata per partition only for one-partition runs.
  `AssetCheckEvaluationTargetMaterializationData` aims an evaluation at a partition's
  materialization; `DagsterEventBatchMetadata` and `generate_event_batch_id` log events as
  one batch; `AssetMaterializationPlannedData` marks unfinished partitions failed;
  `step_execution_context` and `add_asset_metadata_by_partition` reach the step behind an
  op's context, which logs those events and holds the metadata.
- Second-pass sensor (automation/second_pass_sensor.py): `PARTITION_NAME_TAG` and
  `SENSOR_NAME_TAG`, the run tags its runs are found by.
- Picture redraws (automation/report_redraw_sensor.py): `ASSET_PARTITION_RANGE_START_TAG`
  and `ASSET_PARTITION_RANGE_END_TAG`, the run tags that make one run of a range of days
  (a sensor's RunRequest takes one partition key, or these tags).
- Local storage (instance/sqlite.py): `SqliteEventLogStorage` and `DagsterSqliteStorage` are
  extended; `INDEX_SHARD_NAME`, `create_engine`, `SQLITE_BUSY_TIMEOUT_SECONDS` and
  `event_logs_directory` are what Dagster's own SQLite storage opens its files with;
  `InstanceRef` and `ConfigurableClassData` make our storage the instance's default.
- PostgreSQL storage (instance/postgres.py): `SqlEventLogStorageTable`, the table a batch locks.
- Warm run launcher (instance/warm_launcher.py, instance/warm_runner.py): a forked worker
  runs `dagster api execute_run` in-process (`execute_run`, `import_run_command`,
  `RUN_MODULES`), given `ExecuteRunArgs` for a `RepositoryPythonOrigin`; the launcher's
  interface is `LaunchRunContext`, `CheckRunHealthResult` and `WorkerStatus`.
- Backfill tick (instance/daemon_ticks.py): `daemon_controller`, the daemon's module whose
  interval constant sets the backfill loop's sleep.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationPlanned,
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    AssetMaterializationPlannedData,
    DagsterEventBatchMetadata,
    StepMaterializationData,
    generate_event_batch_id,
)
from dagster._core.execution.context.metadata_logging import AssetMetadataHandle, OutputMetadataAccumulator
from dagster._core.instance.ref import InstanceRef
from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID
from dagster._core.launcher.base import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.origin import RepositoryPythonOrigin
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._core.storage.sqlite_storage import _event_logs_directory as event_logs_directory
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
    SENSOR_NAME_TAG,
)
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData

__all__ = [
    "ASSET_CHECK_EVENTS",
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "ASSET_EVENTS",
    "INDEX_SHARD_NAME",
    "PARTITION_NAME_TAG",
    "RUNLESS_JOB_NAME",
    "RUNLESS_RUN_ID",
    "RUN_MODULES",
    "SENSOR_NAME_TAG",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "AssetCheckEvaluationPlanned",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "AssetCheckExecutionsTable",
    "AssetMaterializationPlannedData",
    "CheckRunHealthResult",
    "ConfigurableClassData",
    "DagsterEventBatchMetadata",
    "DagsterSqliteStorage",
    "ExecuteRunArgs",
    "InstanceRef",
    "LaunchRunContext",
    "RepositoryPythonOrigin",
    "SqlEventLogStorage",
    "SqlEventLogStorageTable",
    "SqliteEventLogStorage",
    "StepMaterializationData",
    "WorkerStatus",
    "add_asset_metadata_by_partition",
    "create_engine",
    "daemon_controller",
    "event_logs_directory",
    "execute_run",
    "generate_event_batch_id",
    "import_run_command",
    "step_execution_context",
]

# Modules a run imports lazily (its instance, the in-process executor, the execution plan),
# for the warm starter to import once before it forks workers.
RUN_MODULES = (
    "dagster._core.instance.factory",
    "dagster._core.executor.in_process",
    "dagster._core.execution.plan.active",
)

_DAEMON_CONTROLLER = "dagster._daemon.controller"


def daemon_controller() -> ModuleType | None:
    """Dagster's daemon controller module if this process has imported it (the daemon has),
    else None: it is never imported here, so other processes do not pay for the daemons."""
    return sys.modules.get(_DAEMON_CONTROLLER)


def import_run_command() -> None:
    """Import what `execute_run` runs (the warm starter does, once, before forking)."""
    import dagster._cli.api  # noqa: F401


def execute_run(request: str) -> None:
    """Run `dagster api execute_run REQUEST` in this process (a serialized ExecuteRunArgs);
    it may raise SystemExit with the run's exit code."""
    from dagster._cli.api import execute_run_command

    command = execute_run_command.callback
    if command is None:  # click's type: a command may have no callback; this one always has
        raise RuntimeError("dagster api execute_run has no callback")
    command(input_json=request, compressed_input_json=None)


def step_execution_context(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext):
    """The step execution context behind an asset's or check's context: what logs its events
    and holds the metadata its outputs get."""
    return context.op_execution_context._step_execution_context


def add_asset_metadata_by_partition(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, metadata: Mapping[str, Mapping[str, Any]]
) -> None:
    """Add `metadata[partition]` to each partition's materialization of `asset_key`, as
    `context.add_asset_metadata(..., partition_key=partition)` records it, in one update."""
    step = step_execution_context(context)
    merged = dict(step._metadata_accumulator.per_output_metadata)
    for partition, values in metadata.items():
        handle = AssetMetadataHandle(asset_key=asset_key, partition_key=partition)
        merged[handle] = {**merged.get(handle, {}), **values}
    step._metadata_accumulator = OutputMetadataAccumulator(per_output_metadata=merged)
