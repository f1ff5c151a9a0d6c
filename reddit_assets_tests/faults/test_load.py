"""Load: a backfill of reddit/raw_scrape over SUBREDDITS x DAYS partitions, launched over
GraphQL and run by a real daemon from the run queue, with the `reddit_api` pool limited.

Every partition must materialize exactly once, no run may fail, and the Reddit server
must never see more requests at once than the pool allows (PRAW is sequential within a
scrape, so requests in flight <= scrapes running <= pool limit).

The scale is what shows the pool held without filling the suite: each run is a process of
its own (2-4 s of CPU), about 0.25 runs/s here, so 12 subreddits x 2 days = 24 runs, every
one waiting 5 s on its listing with two at a time allowed. See docs/faults.md.
"""

import datetime as dt
import os
import subprocess
import time

import dagster as dg
import pytest
import yaml

from reddit_assets.automation.sensors import FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS
from reddit_assets_demo.dagster_api import graphql, launch_asset_backfill, wait_for_backfill
from reddit_assets_tests.faults.support import data_dir, raw_path, today
from reddit_assets_tests.fixtures.dagster_dev import dagster_dev_env, running_dagster
from reddit_assets_tests.harness import CLI

pytestmark = [pytest.mark.slow, pytest.mark.integration]

# The full 50 x 7 runs with REDDIT_ASSETS_LOAD_SCALE=50x7 (about 20 minutes here).
SUBREDDITS, DAYS = (int(n) for n in os.environ.get("REDDIT_ASSETS_LOAD_SCALE", "12x2").split("x"))
POOL_LIMIT, MAX_RUNS = 2, 4
INSTANCE_YAML = f"""
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
concurrency:
  runs:
    max_concurrent_runs: {MAX_RUNS}
  pools:
    default_limit: {POOL_LIMIT}
    granularity: run
telemetry:
  enabled: false
"""

_SENSOR = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { __typename ... on Sensor { sensorState { id status } } }
}"""
_STOP = """
mutation Stop($id: String) {
  stopSensor(id: $id) { __typename ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } }
}"""


def _stop_sensor(base_url: str, name: str) -> None:
    """Stop a sensor that starts RUNNING, so only the backfill launches runs."""
    selector = {"repositoryLocationName": "reddit_assets", "repositoryName": "__repository__", "sensorName": name}
    state = graphql(base_url, _SENSOR, {"selector": selector})["sensorOrError"]["sensorState"]
    result = graphql(base_url, _STOP, {"id": state["id"]})["stopSensor"]
    assert result["__typename"] == "StopSensorMutationResult", result


def _most_runs_at_once(runs: list[tuple]) -> int:
    """The largest number of runs between their start and end at any moment."""
    edges = sorted([(start, 1) for start, *_ in runs] + [(end, -1) for _, end, *_ in runs], key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _peak_report(stats: dict, runs: list[tuple]) -> str:
    """Which requests were in flight at the peak, and which runs Dagster had started then."""
    peak = stats["peak_requests"]
    moment = max(started for started, *_ in peak)
    running = sorted(r for r in runs if r[0] and r[0] <= moment and (r[1] is None or r[1] >= moment))
    return f"max in flight {stats['max_in_flight']}; requests at the peak {peak}; runs started then {running}"


def test_backfill_through_run_queue_respects_reddit_pool(tmp_path, reddit_server):
    names = [f"load{i:02d}" for i in range(SUBREDDITS)]
    days = [today() - dt.timedelta(days=d) for d in range(DAYS)]
    config = tmp_path / "subreddits.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "start_date": min(days).isoformat(),
                "flags": {"master_enabled": False},  # no schedule ticks during the test
                "second_pass": {"enabled": False},  # no second passes of the scraped past days either
                # `new` may be scraped for past days (the day's submissions); the others are snapshots of now.
                "subreddits": [{"name": n, "category": "new", "n_results": 5, "comments": "none"} for n in names],
            }
        )
    )
    # Each listing answer takes 5 s (a run here takes about 10 s to start): scrapes overlap, so the
    # pool is reached, and a pool that let more through would show.
    reddit_server.add_fault(r"/new", delay=5, times=None)

    env = dagster_dev_env(config, data_dir(tmp_path), reddit_server.url, "reddit_assets load test")
    keys = [f"{day}|{name}" for day in days for name in names]
    home, log_path = tmp_path / "home", tmp_path / "dagster.log"

    with running_dagster(env, home, log_path, INSTANCE_YAML) as base_url:
        for sensor in (FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS):  # loads and reports would add runs
            _stop_sensor(base_url, sensor)
        # As the daemon's unit does: Dagster would create the pool's limit lazily, during the
        # run queue's first pass, and that pass is not limited (the 50 x 7 run here started 3
        # runs at once in a pool of 2 without this step).
        init = subprocess.run(
            [CLI, "init-pools"],
            env={**env, "DAGSTER_HOME": str(home)},
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert init.stdout.strip() == f"pool reddit_api: limit {POOL_LIMIT} (created from default_limit)", init
        started = time.monotonic()
        backfill_id = launch_asset_backfill(
            base_url, [["reddit", "raw_scrape"]], keys, title="load test"
        )  # runs execute their step in the run's own process (the default executor)
        status = wait_for_backfill(base_url, backfill_id, timeout=max(900, 8 * len(keys)))  # ~0.3 runs/s here
        elapsed = time.monotonic() - started

    log = log_path.read_text(errors="replace")
    assert status["status"] == "COMPLETED_SUCCESS", log[-3000:]
    assert len(status["runs"]) == len(keys) and all(r["status"] == "SUCCESS" for r in status["runs"])

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(dg.AssetKey(["reddit", "raw_scrape"]), limit=10 * len(keys)).records
        runs = [
            (r.start_time, r.end_time, r.dagster_run.tags.get("dagster/partition"), r.dagster_run.run_id[:8])
            for r in instance.get_run_records()
        ]
        assert instance.event_log_storage.get_concurrency_info("reddit_api").slot_count == POOL_LIMIT
    materialized = sorted(r.partition_key for r in records)
    assert materialized == sorted(keys)  # every partition exactly once: none lost, none twice
    assert all(raw_path(tmp_path, k.split("|")[1], dt.date.fromisoformat(k.split("|")[0])).exists() for k in keys)

    stats = reddit_server.stats()
    assert stats["by_kind"]["listing"] == len(keys)
    assert stats["max_in_flight"] == POOL_LIMIT, _peak_report(stats, runs)  # reached, never exceeded
    assert _most_runs_at_once(runs) <= POOL_LIMIT, runs  # and Dagster's own record agrees
    # ... and the pool did hold scrapes back: the run queue kept runs queued for it.
    held = [
        line for line in log.splitlines() if "blocked by global concurrency limits" in line and '"reddit_api"' in line
    ]
    assert held
    print(
        f"load: {len(keys)} runs in {elapsed:.0f} s ({len(keys) / elapsed:.2f} runs/s), "
        f"{stats['requests']} Reddit requests, max in flight {stats['max_in_flight']}"
    )
