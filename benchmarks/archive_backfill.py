"""Archives and automation through a real daemon (`dagster dev` on the local SQLite instance,
archives uploaded to moto's S3 server over HTTP), DAYS x SUBREDDITS small partitions:

1. automation: `reddit-assets import` of the raw files with the follow_raw_scrapes sensor
   RUNNING (as shipped); timed from the sensor's request (the backfill its tick started)
   until every partition of reddit/submissions, reddit/comments and reddit/r2_archive is
   materialized. The wait from the import's end to that request, the sensor's latency (its
   interval), is a row of its own. Also counted: the runs and backfills the sensor started
   and the most runs queued at once.
2. a backfill of the same three assets over the same partitions (sensor stopped): the
   figure automation is compared with ("comparable to a backfill").
3. a backfill of upload_only_job's asset (reddit/r2_archive) against a plain Python loop of
   the same work: read and normalize the raw file, build_archive, put_verified.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import dagster as dg

from benchmarks.archive_upload import KEYS, _moto_server
from benchmarks.backfill import INSTANCE_YAML, run_timings
from benchmarks.common import Result, Row, Sizes
from benchmarks.import_bench import write_config
from benchmarks.year import (
    reprocess_env,
    run_backfill,
    sensor_ticked,
    stop_automation,
    wait_until,
    write_year,
)
from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, SUBMISSIONS
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.automation.sensors import FOLLOW_RAW_SCRAPES, FOLLOW_RAW_SCRAPES_INTERVAL_S
from reddit_assets.files.archive_zip import build_archive
from reddit_assets.files.paths import archive_object_key, raw_file_path
from reddit_assets.storage.archive_store_resource import R2ArchiveStore
from reddit_assets_tests.fixtures.dagster_dev import running_dagster

NAME = "archive_backfill"
BUCKET = "bench-archive-backfill"
ALL_ASSETS = [["reddit", "submissions"], ["reddit", "comments"], ["reddit", "r2_archive"]]
# After the import, the sensor's next tick is due within its interval; Dagster's sensor daemon
# looks for due ticks every 5 s (MIN_INTERVAL_LOOP_TIME); the tick itself, of 50 partitions, ~1 s.
SENSOR_LATENCY_LIMIT_S = FOLLOW_RAW_SCRAPES_INTERVAL_S + 5 + 5


def run(sizes: Sizes) -> Result:
    days, n_subreddits = (3, 2) if sizes.quick else (5, 10)  # keeps `make bench` under 10 minutes
    names = [f"arch{i:02d}" for i in range(n_subreddits)]
    start = dt.date.today() - dt.timedelta(days=days + 5)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    keys = [f"{day.isoformat()}|{name}" for day in dates for name in names]
    result = Result()
    with tempfile.TemporaryDirectory(prefix="reddit-bench-archives-") as tmp, _moto_server() as endpoint:
        root = Path(tmp)
        data_dir, home, log_path = root / "data", root / "dagster_home", root / "dagster.log"
        write_year(root / "old", start, days, names)
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).create_bucket(Bucket=BUCKET)
        env = reprocess_env(home, data_dir, write_config(root / "subreddits.yaml", names, start), endpoint, BUCKET)
        with running_dagster(env, home, log_path, INSTANCE_YAML["sqlite"].read_text()) as base_url:
            wait_until(
                lambda: sensor_ticked(base_url), 300, f"a first tick of {FOLLOW_RAW_SCRAPES}", log_path
            )  # its cursor starts

            t0 = time.perf_counter()
            cli = Path(sys.executable).with_name("reddit-assets")
            subprocess.run([str(cli), "import", str(root / "old")], env=env, check=True, capture_output=True)
            import_s = time.perf_counter() - t0
            imported_at = time.time()
            most_queued = 0
            with dg.DagsterInstance.from_config(str(home)) as instance:

                def done() -> bool:
                    nonlocal most_queued
                    queued = instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
                    most_queued = max(most_queued, queued)
                    return all(
                        set(keys) <= set(instance.get_materialized_partitions(key))
                        for key in (SUBMISSIONS, COMMENTS, R2_ARCHIVE)
                    )

                wait_until(done, 1800, "the sensor's loads and archives", log_path)
                automation_s = time.perf_counter() - t0 - import_s
                sensor_runs = instance.get_runs_count()
                backfills = instance.get_backfills()
                requested_at = min(b.backfill_timestamp for b in backfills)
            stop_automation(base_url)

            backfill_all = run_backfill(base_url, ALL_ASSETS, keys, "bench: database + archive", 1800)
            archive = run_backfill(base_url, [["reddit", "r2_archive"]], keys, "bench: upload_only", 1800)
            for status in (backfill_all, archive):
                if status["status"] not in ("COMPLETED", "COMPLETED_SUCCESS"):
                    raise RuntimeError(f"backfill ended {status['status']}: see {log_path}")
            archive_runs = run_timings(base_url, [r["runId"] for r in archive["runs"]])

        store = R2ArchiveStore(endpoint_url=endpoint, bucket=BUCKET, **KEYS).store()
        loop_zip = root / "loop.zip"
        t0 = time.perf_counter()
        for day in dates:
            for name in names:
                header, submissions, comments, _sha = read_normalized(raw_file_path(data_dir, day, name))
                info = build_archive(raw_file_path(data_dir, day, name), header, submissions, comments, loop_zip)
                store.put_verified(archive_object_key(day, name), loop_zip, info.sha256)
                loop_zip.unlink()
        loop_s = time.perf_counter() - t0

    n = len(keys)
    label = f"Archives {days} d x {n_subreddits} subs ({n} partitions, moto S3)"
    ratio = archive["seconds"] / loop_s
    result.rows.append(
        Row(
            label,
            "wall s, upload_only backfill vs loop of build + put_verified",
            f"{archive['seconds']:.1f} s ({len(archive['runs'])} runs)",
            f"{loop_s:.1f} s",
            ratio,
            "<= 2",
            ratio <= 2,
            ratio_text=f"{ratio:.2f}x",
        )
    )
    # From the sensor's request on: the wait for its next tick is the interval it is given, a
    # latency (its own row), not work.
    latency_s = requested_at - imported_at
    requested_s = automation_s - latency_s
    ratio = requested_s / backfill_all["seconds"]
    result.rows.append(
        Row(
            f"Automation {days} d x {n_subreddits} subs ({n} partitions)",
            "wall s from the sensor's request: follow_raw_scrapes vs backfill (db + archive)",
            f"{requested_s:.1f} s ({sensor_runs} runs)",
            f"{backfill_all['seconds']:.1f} s ({len(backfill_all['runs'])} runs)",
            ratio,
            "<= 1.5",
            ratio <= 1.5,
            ratio_text=f"{ratio:.2f}x",
        )
    )
    result.rows.append(
        Row(
            f"Automation {days} d x {n_subreddits} subs ({n} partitions)",
            "s from the import's end to the sensor's request",
            f"{latency_s:.1f} s",
            f"{FOLLOW_RAW_SCRAPES_INTERVAL_S} s interval",
            None,
            f"<= {SENSOR_LATENCY_LIMIT_S} s",
            latency_s <= SENSOR_LATENCY_LIMIT_S,
        )
    )
    result.notes.append(
        f"Archives: the upload_only backfill's {len(archive['runs'])} runs, summed: queued "
        f"{archive_runs['queued']:.1f} s, running {archive_runs['running']:.1f} s, of which inside the steps "
        f"{archive_runs['steps']:.1f} s; the loop's {n} archives {loop_s:.1f} s"
    )
    result.notes.append(
        f"Automation: import {import_s:.1f} s; the sensor requested {len(backfills)} backfill(s) "
        f"{latency_s:.1f} s after it, which ran {sensor_runs} runs and finished {requested_s:.1f} s later "
        f"({automation_s:.1f} s after the import, {automation_s / backfill_all['seconds']:.2f}x the backfill); "
        f"at most {most_queued} runs queued at once (polled every second)"
    )
    return result
