"""The production instance (dagster.yaml) on a real PostgreSQL, and the deployment files."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml

from reddit_assets.demo.run import demo_environment
from reddit_assets_tests.fixtures.postgres import PG_HOST, PG_PORT, PG_USER
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, run_job

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = REPO / "dagster.yaml"
DEMO_YAML = REPO / "reddit_assets" / "demo" / "dagster.yaml"
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


def test_production_instance_settings(production_instance):
    instance = production_instance
    assert type(instance.run_storage).__module__.startswith("dagster_postgres")
    assert type(instance.event_log_storage).__module__.startswith("dagster_postgres")
    assert type(instance.schedule_storage).__module__.startswith("dagster_postgres")
    assert instance.run_storage.postgres_url.startswith("postgresql+psycopg2://")
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    concurrency = instance.get_concurrency_config()
    queue = concurrency.run_queue_config
    assert queue.max_concurrent_runs == 8
    assert {"key": "dagster/backfill", "limit": 4} in queue.tag_concurrency_limits
    assert {"key": "dagster/backfill", "value": {"applyLimitPerUniqueValue": True}, "limit": 2} in queue.tag_concurrency_limits
    assert concurrency.pool_config.default_pool_limit == 2

    monitoring = instance.run_monitoring_settings
    assert monitoring["enabled"] and monitoring["max_runtime_seconds"] == 4 * 3600
    assert monitoring["start_timeout_seconds"] == monitoring["cancel_timeout_seconds"] == 300
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    retention = instance.get_settings("retention")
    assert retention["sensor"]["purge_after_days"]["skipped"] == 7
    assert retention["schedule"]["purge_after_days"] == 90
    assert instance.telemetry_enabled is False


def test_daily_job_lands_in_postgres(production_instance, postgres_database, monkeypatch, tmp_path, reddit_server):
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "dataengineering", "n_results": 5}])
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
    # The scrape asked the reddit_api pool for a slot, which created the pool with the default limit.
    limits = _query(postgres_database, "SELECT concurrency_key, \"limit\", using_default_limit FROM concurrency_limits")
    assert limits == [("reddit_api", 2, True)]
    assert production_instance.event_log_storage.get_concurrency_info("reddit_api").slot_count == 2


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
        assert Path(instance.root_directory) == home
