"""Canaries for Dagster's private API (reddit_assets.dagster_private): every name it exports
is still there, with the shape our code relies on. Run these first after a Dagster upgrade:
a name that moved or changed fails here, by name, instead of deep in a run."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import dagster as dg
import pytest

import reddit_assets
from reddit_assets import dagster_private as private

PRODUCT = Path(reddit_assets.__file__).parent
FENCE = PRODUCT / "dagster_private"


def _params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def _has_params(function, *names: str) -> None:
    missing = [name for name in names if name not in _params(function)]
    assert not missing, f"{function.__qualname__} no longer takes {missing} (takes {_params(function)})"


def _has_methods(cls, *names: str) -> None:
    missing = [name for name in names if not callable(getattr(cls, name, None))]
    assert not missing, f"Dagster's {cls.__name__} no longer has {missing}"


@pytest.mark.parametrize("name", private.__all__)
def test_every_exported_name_is_there(name):
    assert getattr(private, name, None) is not None, f"reddit_assets.dagster_private.{name} is gone"


def _product_files():
    return [path for path in PRODUCT.rglob("*.py") if FENCE not in path.parents]


def test_the_product_imports_only_exported_names_from_the_fence():
    imported = {
        (path.relative_to(PRODUCT.parent).as_posix(), alias.name)
        for path in _product_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "reddit_assets.dagster_private"
        for alias in node.names
    }
    assert imported, "no module imports reddit_assets.dagster_private any more"
    assert not {(path, name) for path, name in imported if name not in private.__all__}


def test_nothing_outside_the_fence_names_a_private_dagster_module():
    """Not only imports (ruff's TID251 refuses those): module paths in strings too."""
    naming = [str(path.relative_to(PRODUCT.parent)) for path in _product_files() if "dagster._" in path.read_text()]
    assert not naming


def test_public_names_are_not_fenced():
    """A name Dagster exports publicly is imported from `dagster`, not through the fence."""
    public = [name for name in private.__all__ if getattr(dg, name, None) is getattr(private, name)]
    assert not public


def test_the_event_log_storage_our_batches_extend():
    storage = private.SqlEventLogStorage
    _has_methods(
        storage,
        "_event_to_row",
        "_store_asset_event_tags",
        "_store_asset_event",
        "_event_insert_timestamp",
        "_store_asset_check_evaluation_planned",
        "store_asset_check_event",
        "store_event",
        "store_event_batch",
        "index_transaction",
        "index_connection",
        "run_connection",
    )
    assert isinstance(inspect.getattr_static(storage, "is_run_sharded"), property)
    _has_params(storage._store_asset_event_tags, "conn", "events", "event_ids")
    _has_params(storage._store_asset_event, "conn", "event", "event_id")
    # BatchedAssetEvents overrides the planned-check write: Dagster must still go through it.
    assert "_store_asset_check_evaluation_planned" in inspect.getsource(storage.store_asset_check_event)


def test_the_tables_a_batch_writes():
    assert private.SqlEventLogStorageTable.name == "event_logs"
    assert {"id", "run_id"} <= set(private.SqlEventLogStorageTable.c.keys())
    assert {
        "run_id",
        "asset_key",
        "check_name",
        "partition",
        "execution_status",
        "evaluation_event",
        "evaluation_event_timestamp",
        "evaluation_event_storage_id",
        "materialization_event_storage_id",
    } <= set(private.AssetCheckExecutionsTable.c.keys())
    status = private.AssetCheckExecutionRecordStatus
    assert {status.PLANNED.value, status.SUCCEEDED.value, status.FAILED.value} == {"PLANNED", "SUCCEEDED", "FAILED"}


def test_the_events_a_batch_takes():
    kinds = dg.DagsterEventType
    assert {kinds.ASSET_MATERIALIZATION, kinds.ASSET_MATERIALIZATION_PLANNED} <= set(private.ASSET_EVENTS)
    assert {kinds.ASSET_CHECK_EVALUATION, kinds.ASSET_CHECK_EVALUATION_PLANNED} <= set(private.ASSET_CHECK_EVENTS)


def test_a_runless_materialization_event_can_be_built():
    materialization = dg.AssetMaterialization(asset_key="a", partition="p")
    assert private.StepMaterializationData(materialization).materialization == materialization
    assert isinstance(private.RUNLESS_JOB_NAME, str) and isinstance(private.RUNLESS_RUN_ID, str)


def test_the_pieces_of_a_range_runs_events():
    target = private.AssetCheckEvaluationTargetMaterializationData(storage_id=1, run_id="r", timestamp=2.0)
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("a"),
        check_name="c",
        passed=True,
        target_materialization_data=target,
        blocking=False,
        partition="p",
    )
    assert (evaluation.partition, evaluation.target_materialization_data.storage_id) == ("p", 1)
    batch = private.DagsterEventBatchMetadata(private.generate_event_batch_id(), True)
    assert isinstance(batch.id, str) and batch.is_end
    assert private.AssetMaterializationPlannedData(dg.AssetKey("a"), partition="p").partition == "p"
    _has_params(dg.DagsterEvent.from_step, "event_type", "step_context", "event_specific_data", "batch_metadata")
    _has_params(dg.DagsterEvent.build_asset_materialization_planned_event, "job_name", "step_key")
    _has_params(dg.DagsterInstance.report_dagster_event, "dagster_event", "run_id", "log_level", "batch_metadata")


def test_partition_metadata_and_the_step_behind_an_assets_context():
    """What attach_partition_metadata and mark_unfinished_partitions do with the step context,
    on a real range run: each partition's materialization gets its own metadata."""
    seen = {}

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def ranged(context):
        seen["step_key"] = private.step_execution_context(context).step.key
        private.add_asset_metadata_by_partition(context, context.asset_key, {"a": {"n": 1}, "b": {"n": 2}})
        return dg.MaterializeResult()

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [ranged],
            instance=instance,
            tags={private.ASSET_PARTITION_RANGE_START_TAG: "a", private.ASSET_PARTITION_RANGE_END_TAG: "b"},
        )
        assert result.success
        records = instance.fetch_materializations(dg.AssetKey("ranged"), limit=10).records
    assert seen["step_key"] == "ranged"
    assert {r.partition_key: r.asset_materialization.metadata["n"].value for r in records} == {"a": 1, "b": 2}


def test_the_run_tags_the_second_pass_sensor_finds_its_runs_by():
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a"]))
    def tagged():
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        run_id = dg.materialize([tagged], instance=instance, partition_key="a").run_id
        assert instance.get_run_by_id(run_id).tags[private.PARTITION_NAME_TAG] == "a"
    assert private.SENSOR_NAME_TAG == "dagster/sensor_name"


def test_the_sqlite_storage_our_local_instance_extends(tmp_path):
    _has_methods(private.SqliteEventLogStorage, "_connect", "_initdb", "conn_string_for_shard", "dispose")
    assert _params(private.SqliteEventLogStorage._connect) == ["self", "shard"]
    _has_params(private.create_engine, "url")
    assert isinstance(private.INDEX_SHARD_NAME, str)
    assert isinstance(private.SQLITE_BUSY_TIMEOUT_SECONDS, int | float)
    storage = private.DagsterSqliteStorage.from_local(str(tmp_path))
    try:
        events = storage._event_log_storage
        assert isinstance(events, private.SqliteEventLogStorage)
        assert {"_initialized_dbs", "_db_lock"} <= set(vars(events))
        assert Path(private.event_logs_directory(str(tmp_path))) == Path(events._base_dir)
    finally:
        storage.dispose()
    assert "storage" in private.InstanceRef.config_defaults(str(tmp_path))
    data = private.ConfigurableClassData("m", "C", "{}")
    assert (data.module_name, data.class_name, data.config_yaml) == ("m", "C", "{}")


def test_the_run_launcher_interface():
    assert list(private.LaunchRunContext._fields) == ["dagster_run", "workspace"]
    health = private.CheckRunHealthResult(private.WorkerStatus.FAILED, "gone")
    assert (health.status, health.msg) == (private.WorkerStatus.FAILED, "gone")
    assert private.WorkerStatus.RUNNING.value == "RUNNING"
    launcher = dg.DefaultRunLauncher()
    assert isinstance(launcher._run_ids, set)
    _has_methods(dg.DefaultRunLauncher, "launch_run", "terminate", "check_run_worker_health", "dispose")


def test_what_a_warm_worker_is_given_and_runs():
    _has_params(private.ExecuteRunArgs, "job_origin", "run_id", "instance_ref")
    _has_params(private.RepositoryPythonOrigin, "executable_path", "code_pointer")
    private.import_run_command()
    from dagster._cli.api import execute_run_command  # what execute_run calls

    assert _params(execute_run_command.callback) == ["input_json", "compressed_input_json"]


@pytest.mark.parametrize("module", private.RUN_MODULES)
def test_the_modules_the_warm_starter_preloads_exist(module):
    """A missing one is skipped silently by the starter (and each run pays for its import)."""
    importlib.import_module(module)


def test_the_daemon_controller_is_found_once_imported():
    from dagster._daemon import controller

    assert private.daemon_controller() is sys.modules[controller.__name__] is controller
    assert isinstance(controller.DEFAULT_DAEMON_INTERVAL_SECONDS, int | float)


def test_the_run_queue_keeps_its_interval_where_run_queue_sets_it():
    queue = dg.QueuedRunCoordinator(dequeue_interval_seconds=3)
    assert queue._dequeue_interval_seconds == 3
    assert "dequeue_interval_seconds" in dict(queue.config_type())
