"""The automation sensors on a real daemon: raw files imported for past days are loaded and
archived by `follow_raw_scrapes` alone, without any Reddit request, and their days reported
by `report_settled_days`.

`dagster dev` (webserver + daemon) runs the definitions; `reddit-assets import` records
the raw_scrape materializations in its instance while it runs; the test then only waits.
"""

import datetime as dt
import sqlite3
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.automation.sensors import FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS
from reddit_assets.config import load_config
from reddit_assets.files.paths import archive_object_key
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.partitions import DATE_DIM, build_partitions
from reddit_assets_demo.dagster_api import graphql
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.fixtures.dagster_dev import dagster_dev_env, running_dagster
from reddit_assets_tests.harness import CLI

pytestmark = [pytest.mark.slow, pytest.mark.integration]

_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename ... on Sensor { sensorState { status ticks(limit: 5) { status timestamp } } }
  }
}"""


def _ticks(base_url: str, name: str) -> list[dict]:
    selector = {"repositoryLocationName": "reddit_assets", "repositoryName": "__repository__", "sensorName": name}
    sensor = graphql(base_url, _TICKS, {"selector": selector})["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    assert sensor["sensorState"]["status"] == "RUNNING"  # on by default, nobody started it
    return sensor["sensorState"]["ticks"]


def _wait(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"{what} not within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}"
        )
        time.sleep(2)


def _rows(db: Path, day: dt.date, name: str) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    with sqlite3.connect(db) as conn:
        try:
            return tuple(
                conn.execute(
                    f"SELECT count(*) FROM {table} WHERE scrape_date = ? AND subreddit = ?", (day.isoformat(), name)
                ).fetchone()[0]
                for table in ("reddit_submissions", "reddit_comments")
            )
        except sqlite3.OperationalError:  # the tables are not created yet
            return 0, 0


def test_imported_past_days_are_loaded_and_archived_by_the_sensor(tmp_path, reddit_server):
    today = dt.datetime.now(dt.UTC).date()
    days, names = [today - dt.timedelta(days=3), today - dt.timedelta(days=9)], ["older", "elder"]
    config, data, old = tmp_path / "subreddits.yaml", tmp_path / "data", tmp_path / "old_system"
    config.write_text(
        yaml.safe_dump(
            {
                "start_date": min(days).isoformat(),
                "flags": {"master_enabled": False},
                # The imported days are old enough for a second pass, which calls Reddit by design.
                "second_pass": {"enabled": False},
                "subreddits": [{"name": n, "category": "new"} for n in names],
            }
        )
    )
    expected = {}
    for day in days:
        for name in names:
            document = generated_raw_document(
                name, day, n_submissions=8, comments_per_submission=(0, 20), popular_threads=0
            )
            write_raw_file(old / f"{name}_{day}.json", document)
            expected[(day, name)] = (len(document["submissions"]), len(document["comments"]))

    env = dagster_dev_env(config, data, reddit_server.url, "reddit_assets automation test")
    home, log = tmp_path / "home", tmp_path / "dagster.log"
    with running_dagster(env, home, log) as base_url:
        # The sensor's first tick only starts its cursor: import after it, as a user would.
        for sensor in (FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS):
            _wait(lambda name=sensor: _ticks(base_url, name), 180, f"a first tick of {sensor}", log)
        imported = subprocess.run(
            [str(CLI), "import", str(old)],
            env={**env, "DAGSTER_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr

        def loaded() -> bool:
            return all(_rows(data / "reddit.db", day, name) == counts for (day, name), counts in expected.items())

        def archived() -> bool:
            return all((data / "r2" / archive_object_key(day, name)).exists() for day, name in expected)

        _wait(lambda: loaded() and archived(), 300, "the loads and archives of the imported partitions", log)
        # Once a day's partitions have settled, the report sensor (a tick every 2 minutes) reports the day.
        _wait(lambda: _reports(home, days) == {day: 2 for day in days}, 480, "both days' complete reports", log)

    assert reddit_server.stats()["requests"] == 0  # reprocessing never calls Reddit
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
    # The sensors launched every run: the reports' runs the report sensor, the others follow_raw_scrapes.
    launched_by = {r.run_id: r.tags.get("dagster/sensor_name") for r in runs}
    reports = {r.run_id for r in runs if DAILY_REPORT in (r.asset_selection or ())}
    assert reports and all(launched_by[run_id] == REPORT_SETTLED_DAYS for run_id in reports)
    assert all(sensor == FOLLOW_RAW_SCRAPES for run_id, sensor in launched_by.items() if run_id not in reports)
    partitions = build_partitions(load_config(config))
    launched = {str(key) for r in runs for key in _run_keys(r, partitions)}
    assert launched >= {f"{day}|{name}" for day, name in expected}, [r.tags for r in runs]


def _reports(home: Path, days: list[dt.date]) -> dict[dt.date, int]:
    """day -> partitions_complete of its latest reddit/daily_report materialization."""
    found = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for day in days:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=DAILY_REPORT, asset_partitions=[day.isoformat()]), limit=1
            ).records
            if records:
                found[day] = records[0].asset_materialization.metadata["partitions_complete"].value
    return found


def _run_keys(run: dg.DagsterRun, partitions: dg.PartitionsDefinition) -> list[str]:
    """The partition keys a run covered: one key, or a range in the partitions' own order."""
    if "dagster/partition" in run.tags:  # one key; a daily_report run's is a date
        return [run.tags["dagster/partition"]]
    key_range = dg.PartitionKeyRange(
        run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]
    )
    if DAILY_REPORT in (run.asset_selection or ()):  # a range of days
        partitions = partitions.get_partitions_def_for_dimension(DATE_DIM)
    return partitions.get_partition_keys_in_range(key_range)
