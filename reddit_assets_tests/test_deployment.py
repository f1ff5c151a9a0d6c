"""The production instance (dagster.yaml) on a real PostgreSQL, and the deployment files."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from reddit_assets.alerts.freshness import FRESHNESS_CHECK_KEY
from reddit_assets.dagster_private import InstanceRef
from reddit_assets.instance.event_batches import BatchedAssetEvents
from reddit_assets.instance.postgres import PooledConnections
from reddit_assets.instance.run_queue import RunQueue
from reddit_assets.instance.sqlite import BatchingSqliteEventLogStorage
from reddit_assets.instance.ticking import TickingInstance
from reddit_assets.instance.warm_launcher import WarmRunLauncher
from reddit_assets_demo.dagster_api import graphql, wait_until_up
from reddit_assets_demo.processes import free_port
from reddit_assets_demo.run import demo_environment
from reddit_assets_tests.fixtures.postgres import PG_HOST, PG_PORT, PG_USER
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.fixtures.webhook import wait_for_posts, webhook_server
from reddit_assets_tests.harness import configure, run_job

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = REPO / "deploy" / "dagster.yaml"
DEMO_YAML = REPO / "dagster.yaml"
PG_VARS = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")
TODAY = utc_today()


def _home_with(tmp_path: Path, source: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(source, home / "dagster.yaml")
    return home


@pytest.fixture
def production_instance(monkeypatch, tmp_path, postgres_database):
    """DagsterInstance.get() on a copy of the production dagster.yaml, pointed at a scratch database."""
    home = _home_with(tmp_path, PRODUCTION_YAML)
    env = dict(zip(PG_VARS, (PG_HOST, str(PG_PORT), PG_USER, "", postgres_database)))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _query(database: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, connect_timeout=3) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.integration
@pytest.mark.postgres
def test_production_instance_settings(production_instance):
    instance = production_instance
    # dagster-postgres's storages keeping connections open, its event log with batched planned
    # events and check results (reddit_assets.instance)
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.event_log_storage, BatchedAssetEvents)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        assert isinstance(storage, PooledConnections)
    assert instance.run_storage.postgres_url.startswith("postgresql+psycopg2://")
    assert isinstance(instance.run_coordinator, RunQueue)  # Dagster's queue, looked at twice a second
    assert instance.run_coordinator.dequeue_interval_seconds == 0.5
    assert isinstance(instance.run_launcher, WarmRunLauncher)  # workers forked from the daemon's warm starter
    assert isinstance(instance, TickingInstance) and instance.backfill_tick == "adaptive"

    concurrency = instance.get_concurrency_config()
    queue = concurrency.run_queue_config
    assert queue.max_concurrent_runs == 8
    assert {"key": "dagster/backfill", "limit": 4} in queue.tag_concurrency_limits
    assert {
        "key": "dagster/backfill",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 2,
    } in queue.tag_concurrency_limits
    assert concurrency.pool_config.default_pool_limit == 2

    monitoring = instance.run_monitoring_settings
    assert monitoring["enabled"] and monitoring["max_runtime_seconds"] == 4 * 3600
    assert monitoring["start_timeout_seconds"] == monitoring["cancel_timeout_seconds"] == 300
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    retention = instance.get_settings("retention")
    assert retention["sensor"]["purge_after_days"]["skipped"] == 7
    assert retention["schedule"]["purge_after_days"] == 90
    assert instance.telemetry_enabled is False


@pytest.mark.integration
@pytest.mark.postgres
def test_daily_job_lands_in_postgres(production_instance, postgres_database, monkeypatch, tmp_path, reddit_server):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "dataengineering", "n_results": 5}]
    )
    result = run_job(defs, "daily_scrape_job", TODAY, "dataengineering", production_instance)
    assert result.success

    runs = _query(postgres_database, "SELECT status, pipeline_name FROM runs WHERE run_id = %s", (result.run_id,))
    assert runs == [("SUCCESS", "daily_scrape_job")]
    materialized = _query(
        postgres_database,
        "SELECT DISTINCT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
        (result.run_id,),
    )
    key = f"{TODAY.isoformat()}|dataengineering"
    assert sorted(materialized) == sorted(
        (f'["reddit", "{name}"]', key) for name in ("raw_scrape", "submissions", "comments", "r2_archive")
    )
    # The run queue holds runs back by pool (granularity run): the stored run says it needs
    # reddit_api, and the instance gives that pool two places.
    run = production_instance.get_run_by_id(result.run_id)
    assert set(run.run_op_concurrency.all_pools) == {"reddit_api"}
    pools = production_instance.get_concurrency_config().pool_config
    assert (pools.pool_granularity.value, pools.default_pool_limit) == ("run", 2)


def test_production_file_needs_its_variables(monkeypatch, tmp_path):
    for name in PG_VARS:
        monkeypatch.delenv(name, raising=False)
    home = _home_with(tmp_path, PRODUCTION_YAML)
    with pytest.raises(Exception, match="DAGSTER_PG_"):
        dg.DagsterInstance.from_config(str(home))


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    else:
        yield str(node)


def test_demo_and_production_instances_are_independent(monkeypatch, tmp_path):
    for name in PG_VARS:
        monkeypatch.delenv(name, raising=False)
    assert not any("demo" in s.lower() for s in _strings(yaml.safe_load(PRODUCTION_YAML.read_text())))
    assert not any("postgres" in s.lower() for s in _strings(yaml.safe_load(DEMO_YAML.read_text())))

    env = demo_environment(tmp_path, "http://127.0.0.1:9")
    assert env["DAGSTER_HOME"] == str(tmp_path / "dagster_home")  # never the repository's dagster.yaml
    home = _home_with(tmp_path, DEMO_YAML)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)  # batched events
        assert isinstance(instance.run_launcher, WarmRunLauncher)
        assert Path(instance.root_directory) == home
    # With DAGSTER_HOME unset, `dagster dev` reads the repository's file into a temporary folder:
    # the batching storage lives in that folder too.
    temporary = tmp_path / ".tmp_dagster_home_x"
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(temporary), config_dir=str(REPO))) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        assert Path(instance.event_log_storage._base_dir).is_relative_to(temporary)


# --- Kubernetes: the Helm values (validated here, not deployed: there is no cluster) ---------

HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
SECRETS = {
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "REDDIT_PASSWORD",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "DATABASE_URL",
    "REDDIT_ASSETS_ALERT_WEBHOOK_URL",
    "DAGSTER_PG_PASSWORD",
}


def _chart_instance_yaml(values: dict) -> dict:
    """The instance settings the chart renders from these values (the parts we set)."""
    pg = values["postgresql"]
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": pg["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": pg["postgresqlHost"],
                    "db_name": pg["postgresqlDatabase"],
                    "port": pg["service"]["port"],
                    "params": pg["postgresqlParams"],
                    "scheme": pg["postgresqlScheme"],
                }
            }
        },
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
        **values["additionalInstanceConfig"],
    }


def test_helm_values_have_what_reddit_assets_needs(tmp_path):
    values = yaml.safe_load(HELM_VALUES.read_text())
    user_code = values["dagster-user-deployments"]
    assert user_code["enabled"] and len(user_code["deployments"]) == 1
    deployment = user_code["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "reddit_assets.definitions", "-a", "defs"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert [s["name"] for s in deployment["envSecrets"]] == ["reddit-assets-secrets"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert not SECRETS & set(env)  # secrets come from the Secret, never from a value here
    mounts = {m["mountPath"]: m["name"] for m in deployment["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["volumes"]}
    assert "persistentVolumeClaim" in volumes[mounts[env["REDDIT_ASSETS_DATA_DIR"]]]  # raw files outlive run pods
    assert "configMap" in volumes[mounts[str(Path(env["REDDIT_ASSETS_CONFIG"]).parent)]]

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] and coordinator["type"] == "QueuedRunCoordinator" and "config" not in coordinator
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert (
        values["global"]["postgresqlSecretName"] and values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    )
    assert values["telemetry"]["enabled"] is False

    production = yaml.safe_load(PRODUCTION_YAML.read_text())
    for key in ("concurrency", "run_monitoring", "run_retries", "retention"):
        assert values["additionalInstanceConfig"][key] == production[key], key
    # Dagster's own instance schema accepts what the chart would render.
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(_chart_instance_yaml(values)))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["concurrency"]["pools"]["default_limit"] == 2


# --- the single-host deployment, started from its systemd units ------------------------------

SINGLE_HOST = REPO / "deploy" / "single-host"
UNITS = ("reddit-assets-code.service", "reddit-assets-daemon.service", "reddit-assets-webserver.service")


def _unit(name: str) -> dict[str, list[str]]:
    """The [Service] settings of a unit file: key -> values (in order)."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in (SINGLE_HOST / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif line and not line.startswith("#") and section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def _env_example() -> dict[str, str]:
    pairs = (
        line.lstrip("# ").split("=", 1)
        for line in (SINGLE_HOST / "reddit-assets.env.example").read_text().splitlines()
        if "=" in line and not line.startswith("# /etc")
    )
    return {key.strip(): value for key, value in pairs if key.strip().isupper()}


def test_units_and_env_file_name_what_the_product_reads():
    env = _env_example()
    for name in (
        "DAGSTER_HOME",
        *PG_VARS,
        "REDDIT_ASSETS_CONFIG",
        "REDDIT_ASSETS_DATA_DIR",
        "REDDIT_CLIENT_ID",
        "REDDIT_CLIENT_SECRET",
        "REDDIT_USER_AGENT",
        "REDDIT_USERNAME",
        "REDDIT_PASSWORD",
        "DATABASE_URL",
        "R2_ACCOUNT_ID",
        "R2_ACCESS_KEY_ID",
        "R2_SECRET_ACCESS_KEY",
        "R2_BUCKET",
        "R2_VERIFY_BY_READ_BACK",
        "REDDIT_ASSETS_ALERT_WEBHOOK_URL",
        "REDDIT_ASSETS_EXECUTOR",
        "CELERY_BROKER_URL",
        "CELERY_BACKEND_URL",
    ):
        assert name in env, name
    # every {env: ...} in the production dagster.yaml is in the env file
    assert set(PG_VARS) == {
        s for s in _strings(yaml.safe_load(PRODUCTION_YAML.read_text())) if s.startswith("DAGSTER_PG_")
    }
    for unit in (*UNITS, "reddit-assets-celery-worker@.service"):
        service = _unit(unit)
        assert service["EnvironmentFile"] == ["/etc/reddit-assets/reddit-assets.env"]
        executable = service["ExecStart"][0].split()[0].replace("/opt/reddit_assets", str(REPO))
        assert Path(executable).exists(), f"{unit}: {executable}"
    # The daemon's warm starter forks the runs: a daemon restart must signal the daemon only.
    assert _unit("reddit-assets-daemon.service")["KillMode"] == ["process"]
    workspace = yaml.safe_load((SINGLE_HOST / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"]["port"] == 4266 and " -p 4266 " in _unit(UNITS[0])["ExecStart"][0]


def _default_sigint_own_group():
    # A background child of a non-interactive shell ignores SIGINT, the signal Dagster stops on.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


_LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""
_RUN_STATUS = """query Status($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""


def _launch_daily_run(base_url: str, key: str) -> str:
    params = {
        "selector": {
            "repositoryLocationName": "reddit_assets",
            "repositoryName": "__repository__",
            "jobName": "daily_scrape_job",
        },
        "runConfigData": {},  # steps run in the run's own process (the default executor)
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": key}]},
    }
    result = graphql(base_url, _LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def _wait_for_runs(base_url: str, run_ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = {
            run_id: graphql(base_url, _RUN_STATUS, {"id": run_id})["runOrError"]["status"] for run_id in run_ids
        }
        if (
            all(status in ("SUCCESS", "FAILURE", "CANCELED") for status in statuses.values())
            or time.monotonic() > deadline
        ):
            return statuses
        time.sleep(1)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.postgres
def test_single_host_units_run_jobs_on_postgres_and_alert(tmp_path, postgres_database, reddit_server):
    """The three units' own command lines, with the production dagster.yaml on PostgreSQL:
    runs are queued by the daemon, launched through the code server, recorded in
    PostgreSQL, and the daemon's failure sensor posts the failed one to a webhook."""
    code_port, web_port = free_port(), free_port()
    home = _home_with(tmp_path, PRODUCTION_YAML)
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text((SINGLE_HOST / "workspace.yaml").read_text().replace("4266", str(code_port)))
    config = tmp_path / "subreddits.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "start_date": "2026-01-01",
                "subreddits": [{"name": "hostsub", "n_results": 5, "comments": "none"}, {"name": "secretclub"}],
            }
        )
    )
    keys = [f"{TODAY.isoformat()}|hostsub", f"{TODAY.isoformat()}|secretclub"]

    def command(line: str) -> list[str]:
        return (
            line.replace("/opt/reddit_assets/deploy/single-host/workspace.yaml", str(workspace))
            .replace("/opt/reddit_assets", str(REPO))
            .replace(" 4266", f" {code_port}")
            .replace(" -p 3000 ", f" -p {web_port} ")
            .split()
        )

    with webhook_server() as webhook:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL", "DAGSTER_", "CELERY_"))
        }
        env.update(
            DAGSTER_HOME=str(home),
            DAGSTER_PG_HOST=PG_HOST,
            DAGSTER_PG_PORT=str(PG_PORT),
            DAGSTER_PG_USER=PG_USER,
            DAGSTER_PG_PASSWORD="",
            DAGSTER_PG_DB=postgres_database,
            REDDIT_ASSETS_CONFIG=str(config),
            REDDIT_ASSETS_DATA_DIR=str(tmp_path / "data"),
            REDDIT_CLIENT_ID="c",
            REDDIT_CLIENT_SECRET="s",
            REDDIT_USER_AGENT="reddit_assets single-host test",
            REDDIT_OAUTH_URL=reddit_server.url,
            REDDIT_URL=reddit_server.url,
            REDDIT_ASSETS_ALERT_WEBHOOK_URL=webhook.url,
        )
        processes = []
        try:
            for unit in UNITS:
                for pre in _unit(unit).get("ExecStartPre", []):  # as systemd would, retrying until it passes
                    deadline = time.monotonic() + 120
                    while subprocess.run(command(pre), cwd=REPO, env=env, capture_output=True).returncode != 0:
                        assert time.monotonic() < deadline, f"{unit}: {pre} never passed"
                        time.sleep(1)
                log = open(tmp_path / f"{unit}.log", "wb")
                processes.append(
                    subprocess.Popen(
                        command(_unit(unit)["ExecStart"][0]),
                        cwd=REPO,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        preexec_fn=_default_sigint_own_group,
                    )
                )
            base_url = f"http://127.0.0.1:{web_port}"
            wait_until_up(base_url, timeout=180)
            run_ids = [_launch_daily_run(base_url, key) for key in keys]
            statuses = _wait_for_runs(base_url, run_ids, timeout=180)
            posts = wait_for_posts(webhook, 1, timeout=90)
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGINT)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    logs = "\n".join(f"--- {u}\n" + (tmp_path / f"{u}.log").read_text(errors="replace")[-2000:] for u in UNITS)
    assert statuses == {run_ids[0]: "SUCCESS", run_ids[1]: "FAILURE"}, logs
    # Only the runs launched here: the automation sensor may also have queued the day's
    # daily_report once the first run succeeded, which is its job, not this test's subject.
    runs = _query(
        postgres_database,
        "SELECT r.run_id, r.status, t.value FROM runs r JOIN run_tags t "
        "ON t.run_id = r.run_id AND t.key = 'dagster/partition' WHERE r.run_id = ANY(%s) ORDER BY t.value",
        (run_ids,),
    )
    assert runs == [(run_ids[0], "SUCCESS", keys[0]), (run_ids[1], "FAILURE", keys[1])], logs
    queued = _query(
        postgres_database,
        "SELECT count(DISTINCT run_id) FROM event_logs "
        "WHERE dagster_event_type = 'PIPELINE_ENQUEUED' AND run_id = ANY(%s)",
        (run_ids,),
    )
    assert queued == [(2,)]  # both went through the QueuedRunCoordinator
    assert _query(postgres_database, 'SELECT concurrency_key, "limit" FROM concurrency_limits') == [("reddit_api", 2)]
    assert [(p["body"]["run_id"], p["body"]["partition"]) for p in posts] == [(run_ids[1], keys[1])], logs
    assert "private" in posts[0]["body"]["failed_steps"][0]["error"]
    with pytest.MonkeyPatch.context() as mp:  # the daemon's freshness sensor reported its check
        for name in PG_VARS:
            mp.setenv(name, env[name])
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.get_latest_asset_check_evaluation_record(FRESHNESS_CHECK_KEY) is not None
