"""`make bench-year`: reprocess a year of 100 subreddits end to end on a PostgreSQL instance.

36,500 small raw files (5 submissions and 20 comments each, one per subreddit-day) are
written as an old system would have left them, then, timed phase by phase:

1. import:            `reddit-assets import <folder>` (places the files, records materializations)
2. database backfill: a backfill of reddit/submissions + reddit/comments over every partition
3. archive backfill:  a backfill of reddit/r2_archive (zip, upload to moto's S3 server, verify)

Dagster runs on the production instance settings (deploy/dagster.yaml: dagster-postgres,
the queued run coordinator and its limits) in a fresh database; the tables go to another
fresh database; `dagster dev` serves the definitions and runs the daemon. The automation
sensor is stopped first, so only the backfills launch runs. Goals (issue 10): import under
3 minutes, database backfill under 10, archive backfill under 20.

With --automation, phases 2 and 3 are instead what the follow_raw_scrapes sensor (left
running, as shipped) does after the import: timed from the import's end until every
partition is in both tables and in the bucket, with the most runs queued at once. Its goal,
"comparable to a backfill", is the two backfills' goals together (30 minutes).

    python -m benchmarks.year [--days 365] [--subreddits 100] [--automation]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

from benchmarks.archive_upload import KEYS, _moto_server
from benchmarks.common import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    cpu_ticks,
    log_errors,
    pg_connect,
    pg_url,
    scratch_postgres,
    stolen_since,
)
from benchmarks.import_bench import small_day, write_config
from reddit_assets.automation.executors import event_settings
from reddit_assets.automation.sensors import FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS
from reddit_assets.files.raw_file import RAW_FORMAT
from reddit_assets_demo.dagster_api import backfill_status, graphql, launch_asset_backfill
from reddit_assets_tests.fixtures.dagster_dev import running_dagster

REPO_ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster.yaml"
BUCKET = "bench-year"
DATABASE_ASSETS = [["reddit", "submissions"], ["reddit", "comments"]]
ARCHIVE_ASSETS = [["reddit", "r2_archive"]]
GOALS_S = {"import": 180, "database backfill": 600, "archive backfill": 1200, "automation": 1800}
REPORT_KEY = '["reddit", "daily_report"]'  # AssetKey.to_string(), as the event log stores it
FINISHED = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")

_SENSOR = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { __typename ... on Sensor { sensorState { id status } } }
}"""
_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { ... on Sensor { sensorState { ticks(limit: 1) { status } } } }
}"""
_STOP = """
mutation Stop($id: String) {
  stopSensor(id: $id) { __typename ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } }
}"""


def write_year(root: Path, start: dt.date, days: int, names: list[str]) -> int:
    """The raw files, as `write_raw_file` lays them out (without its fsyncs: these are only sources)."""
    total = 0
    for i in range(days):
        day = start + dt.timedelta(days=i)
        folder = root / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            document = small_day(name, day)
            body = {
                "format": RAW_FORMAT,
                **document,
                "submission_count": len(document["submissions"]),
                "comment_count": len(document["comments"]),
            }
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            (folder / f"{name}.json").write_bytes(data)
            total += len(data)
    return total


def reprocess_env(home: Path, data_dir: Path, config: Path, endpoint: str, bucket: str) -> dict[str, str]:
    """This process's environment without ours, plus what a reprocessing run needs: the
    instance, the config, the data folder, the S3 endpoint; Reddit settings that are never used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        REDDIT_ASSETS_CONFIG=str(config),
        REDDIT_ASSETS_DATA_DIR=str(data_dir),
        R2_ENDPOINT_URL=endpoint,
        R2_ACCESS_KEY_ID=KEYS["aws_access_key_id"],
        R2_SECRET_ACCESS_KEY=KEYS["aws_secret_access_key"],
        R2_BUCKET=bucket,
        REDDIT_CLIENT_ID="bench",
        REDDIT_CLIENT_SECRET="bench",
        REDDIT_USER_AGENT="reddit_assets benchmark",
        REDDIT_OAUTH_URL="http://127.0.0.1:9",  # never called: reprocessing does not talk to Reddit
        REDDIT_URL="http://127.0.0.1:9",
        # Dagster's event switches, exported to the daemon and webserver as the deploy env file does.
        **event_settings(os.environ),
    )
    return env


def _sensor_selector(name: str) -> dict[str, str]:
    """GraphQL's address of one of our sensors."""
    return {"repositoryLocationName": "reddit_assets", "repositoryName": "__repository__", "sensorName": name}


def stop_automation(base_url: str, timeout: float = 120) -> None:
    """Stop both automation sensors (loads and archives; reports), which start RUNNING, so only
    backfills launch runs; and see them stay stopped for one loop of Dagster's sensor daemon
    (5 s): a stop sent while the daemon starts can be overwritten by the code's default."""
    selectors = [_sensor_selector(name) for name in (FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS)]
    deadline = time.monotonic() + timeout
    stopped_since = None
    while time.monotonic() < deadline:
        all_stopped = True
        for selector in selectors:
            state = graphql(base_url, _SENSOR, {"selector": selector})["sensorOrError"]["sensorState"]
            if state["status"] != "STOPPED":
                all_stopped = False
                result = graphql(base_url, _STOP, {"id": state["id"]})["stopSensor"]
                if result["__typename"] != "StopSensorMutationResult":
                    raise RuntimeError(f"could not stop sensor {selector['sensorName']}: {result}")
        if not all_stopped:
            stopped_since = None
        elif stopped_since is None:
            stopped_since = time.monotonic()
        elif time.monotonic() - stopped_since >= 5:
            return
        time.sleep(1)
    raise RuntimeError(f"the automation sensors did not stay stopped within {timeout:.0f} s")


def run_backfill(base_url: str, assets: list[list[str]], keys: list[str], title: str, timeout: float) -> dict:
    """Launch a backfill and poll until it ends; its status with runs, and the seconds it took."""
    start = time.perf_counter()
    backfill_id = launch_asset_backfill(base_url, assets, keys, title=title)
    deadline = time.monotonic() + timeout
    while True:
        status = backfill_status(base_url, backfill_id)
        if status["status"] in FINISHED:
            break
        if time.monotonic() > deadline:
            status["status"] = f"STOPPED WAITING (still {status['status']} after {timeout:.0f} s)"
            break
        time.sleep(1)
    status["seconds"] = time.perf_counter() - start
    return status


def _count(database: str, table: str) -> int:
    with pg_connect(database) as conn:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
            return 0  # the first load creates the tables
        return conn.execute(f"SELECT count(DISTINCT (scrape_date, subreddit)) FROM {table}").fetchone()[0]


def _objects(endpoint: str) -> int:
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}), **KEYS
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="daily_scrapes/")
    return sum(page.get("KeyCount", 0) for page in pages)


def wait_until(condition, timeout: float, what: str, log: Path, poll: float = 1.0) -> None:
    """Poll `condition` until it holds; after `timeout` s, fail with the log's tail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(poll)


def sensor_ticked(base_url: str) -> bool:
    """Whether the automation sensor has ticked once (its cursor starts there)."""
    sensor = graphql(base_url, _TICKS, {"selector": _sensor_selector(FOLLOW_RAW_SCRAPES)})["sensorOrError"]
    return bool(sensor.get("sensorState", {}).get("ticks"))


def _runs_queued(database: str) -> tuple[int, int]:
    """(runs queued now, runs created) on the instance."""
    with pg_connect(database) as conn:
        return conn.execute("SELECT count(*) FILTER (WHERE status = 'QUEUED'), count(*) FROM runs").fetchone()


def _reports(database: str) -> int:
    """Days with a reddit/daily_report materialization."""
    with pg_connect(database) as conn:
        return conn.execute(
            "SELECT count(DISTINCT partition) FROM event_logs WHERE asset_key = %s AND dagster_event_type = %s",
            (REPORT_KEY, "ASSET_MATERIALIZATION"),
        ).fetchone()[0]


def _sensor_ticks(database: str) -> str:
    """How many backfills the instance holds, and each automation sensor's ticks: how many, and
    how long they took (median, longest)."""
    with pg_connect(database) as conn:
        backfills = conn.execute("SELECT count(*) FROM bulk_actions").fetchone()[0]
        bodies = [json.loads(row[0]) for row in conn.execute("SELECT tick_body FROM job_ticks")]
    described = []
    for sensor in (FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS):
        seconds = sorted(
            body["end_timestamp"] - body["timestamp"]
            for body in bodies
            if body.get("job_name") == sensor and body.get("end_timestamp")  # TickData's name for its instigator
        )
        described.append(
            f"{len(seconds)} {sensor} ticks of median {seconds[len(seconds) // 2]:.2f} s, longest {seconds[-1]:.2f} s"
            if seconds
            else f"no finished {sensor} tick"
        )
    return f"{backfills} backfills; " + "; ".join(described)


def _automation(done, dagster_db: str, timeout: float) -> tuple[float, bool, str]:
    """Poll until `done()` (every 10 s: a poll counts the tables' partitions); (seconds,
    finished, what the queue held and the sensor did)."""
    start = time.perf_counter()
    most_queued = 0
    while not (finished := done()) and time.perf_counter() - start < timeout:
        most_queued = max(most_queued, _runs_queued(dagster_db)[0])
        time.sleep(10)
    seconds = time.perf_counter() - start
    runs = _runs_queued(dagster_db)[1]
    return (
        seconds,
        finished,
        f"automation: {runs} runs, at most {most_queued} queued at once, {_sensor_ticks(dagster_db)}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.year", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--subreddits", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=7200, help="seconds to wait for each backfill")
    parser.add_argument(
        "--automation", action="store_true", help="time the automation sensor's loads and archives, not backfills"
    )
    args = parser.parse_args(argv)
    names = [f"year{i:03d}" for i in range(args.subreddits)]
    start = dt.date.today() - dt.timedelta(days=args.days + 5)
    dates = [start + dt.timedelta(days=i) for i in range(args.days)]
    keys = [f"{day.isoformat()}|{name}" for day in dates for name in names]
    load = os.getloadavg()
    print(
        f"bench-year: {len(keys):,} partitions ({args.days} days x {args.subreddits} subreddits); "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    phases: dict[str, float] = {}
    finished: dict[str, bool] = {"import": True}
    details: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="reddit-bench-year-") as tmp,
        scratch_postgres("reddit_year_dagster") as dagster_db,
        scratch_postgres("reddit_year_tables") as tables_db,
        _moto_server() as endpoint,
    ):
        root = Path(tmp)
        t0 = time.perf_counter()
        raw_bytes = write_year(root / "old", start, args.days, names)
        print(f"  wrote {len(keys):,} source files ({raw_bytes / 2**20:,.0f} MiB) in {time.perf_counter() - t0:.0f} s")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).create_bucket(Bucket=BUCKET)
        home = root / "dagster_home"
        env = reprocess_env(home, root / "data", write_config(root / "subreddits.yaml", names, start), endpoint, BUCKET)
        env.update(
            DAGSTER_PG_HOST=PG_HOST,
            DAGSTER_PG_PORT=str(PG_PORT),
            DAGSTER_PG_USER=PG_USER,
            DAGSTER_PG_PASSWORD="",
            DAGSTER_PG_DB=dagster_db,
            DATABASE_URL=pg_url(tables_db),
        )
        log_path = root / "dagster.log"
        with running_dagster(env, home, log_path, PRODUCTION_YAML.read_text()) as base_url:
            if args.automation:  # its cursor starts at its first tick
                wait_until(lambda: sensor_ticked(base_url), 300, f"a first tick of {FOLLOW_RAW_SCRAPES}", log_path)
            else:
                stop_automation(base_url)

            t0, ticks = time.perf_counter(), cpu_ticks()
            with open(root / "import.log", "wb") as out:
                cli = Path(sys.executable).with_name("reddit-assets")
                imported = subprocess.run(
                    [str(cli), "import", str(root / "old")], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            phases["import"] = time.perf_counter() - t0
            if imported.returncode:
                tail = (root / "import.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"reddit-assets import exited {imported.returncode}:\n{tail}")
            print(f"  import: {phases['import']:.0f} s ({stolen_since(ticks)})", flush=True)

            progress = {
                "database backfill": lambda: min(
                    _count(tables_db, t) for t in ("reddit_submissions", "reddit_comments")
                ),
                "archive backfill": lambda: _objects(endpoint),
            }
            if args.automation:

                def done() -> bool:  # the bucket is listed (37 pages) only once the tables are full
                    return progress["database backfill"]() == len(keys) and progress["archive backfill"]() == len(keys)

                ticks = cpu_ticks()
                phases["automation"], finished["automation"], detail = _automation(done, dagster_db, args.timeout)
                details.append(f"{detail}; {stolen_since(ticks)}")
                print(f"  automation: {phases['automation']:.0f} s ({details[-1]})", flush=True)
                if finished["automation"]:  # then every day settles, and its report follows
                    t0 = time.perf_counter()
                    wait_until(lambda: _reports(dagster_db) == args.days, 1800, "the daily reports", log_path, poll=5)
                    details.append(f"all {args.days} daily reports {time.perf_counter() - t0:.0f} s later")
                    print(f"  {details[-1]}", flush=True)
                else:
                    print("\n".join(f"    {line}" for line in log_errors(log_path)), flush=True)
            backfills = (
                ()
                if args.automation
                else (("database backfill", DATABASE_ASSETS), ("archive backfill", ARCHIVE_ASSETS))
            )
            for phase, assets in backfills:
                ticks = cpu_ticks()
                status = run_backfill(base_url, assets, keys, f"bench-year: {phase}", args.timeout)
                phases[phase] = status["seconds"]
                finished[phase] = status["status"] in ("COMPLETED", "COMPLETED_SUCCESS")
                details.append(
                    f"{phase}: {status['status']}, {len(status['runs'])} runs, "
                    f"{progress[phase]():,} of {len(keys):,} partitions done, {stolen_since(ticks)}"
                )
                print(f"  {phase}: {status['seconds']:.0f} s ({details[-1]})", flush=True)
                if not finished[phase]:
                    failed = [r["runId"] for r in status["runs"] if r["status"] != "SUCCESS"]
                    print(f"  stopped after {phase}; runs not successful: {failed or 'none'}", flush=True)
                    print("\n".join(f"    {line}" for line in log_errors(log_path)), flush=True)
                    break
        loaded = (_count(tables_db, "reddit_submissions"), _count(tables_db, "reddit_comments"))
        archived = _objects(endpoint)
    load = os.getloadavg()
    print()
    print(f"{'phase':<20} {'wall s':>8} {'goal s':>8}  met")
    for phase, seconds in phases.items():
        goal = GOALS_S[phase]
        met = "yes" if finished[phase] and seconds < goal else "NO" if finished[phase] else "NO (not finished)"
        print(f"{phase:<20} {seconds:>8.0f} {goal:>8}  {met}")
    print(f"{'total':<20} {sum(phases.values()):>8.0f}")
    print(
        f"\nPartitions loaded (submissions, comments): {loaded[0]:,}, {loaded[1]:,} of {len(keys):,}; "
        f"archives in the bucket: {archived:,}; {'; '.join(details)}; load average at the end "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    complete = loaded == (len(keys), len(keys)) and archived == len(keys)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
