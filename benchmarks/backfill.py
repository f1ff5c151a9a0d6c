"""Backfill overhead: database-only reprocessing of DAYS x SUBREDDITS partitions through a real
Dagster backfill (`dagster dev` webserver + daemon in a subprocess, launched over GraphQL)
against a plain Python loop doing the same work (read raw file, normalize, replace_partition).

Two instance storages, each its own `dagster dev`: the local SQLite instance (`dagster.yaml`,
what `make demo` uses) and dagster-postgres (`deploy/dagster.yaml`, production, on a scratch
database). Two sizes on each: 30 and 90 days x 20 subreddits (600 and 1,800 partitions).
Both sides load the same raw files into the same scratch PostgreSQL tables; every pass
replaces every partition (idempotent). The loop's baseline is one pass over the 90 days,
run first, into tables not yet loaded (it only inserts, where the backfills also delete: the
comparison favours the loop), timed at day 30 for the 600-partition figure. The raw files
are written by one process per core. The webserver's start-up is reported apart: it is paid
once, not per backfill. So is the first run after start-up (a one-partition backfill),
which starts the daemon's warm run starter. The runs' own timings (queued, started, step)
say where the backfill's time goes. Dagster's event switches (`event_settings()`) are
exported to `dagster dev`, as a deployment exports them to its daemon and webserver.

The plug-ins stock Dagster could replace are timed too: on each storage, the first shape is
backfilled `reps` times by the shipped file and by it with one plug-in swapped (the other
run queue; Dagster's 30 s backfill tick), each in its own `dagster dev`; the rows give the
medians' ratio to the shipped file's, and the shipped file's median backfill is the one its
row against the loop shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from benchmarks.common import PG_HOST, PG_PORT, PG_USER, Result, Row, Sizes, log_errors, pg_url, scratch_postgres
from benchmarks.year import stop_automation
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.automation.executors import event_settings
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.storage.tables import TableStore
from reddit_assets_demo.dagster_api import backfill_status, graphql, launch_asset_backfill, wait_until_up
from reddit_assets_demo.processes import free_port, start_process_group, stop_process_group
from reddit_assets_demo.raw_documents import generated_raw_document

NAME = "backfill"
REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = [["reddit", "submissions"], ["reddit", "comments"]]
# Days in the past whatever the date (raw files from the future are refused).
START = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=120)
# The local instance `make demo` uses too (SQLite storage, 4 concurrent runs, no telemetry),
# and the production one (dagster-postgres; DAGSTER_PG_* point it at a scratch database).
INSTANCE_YAML = {"sqlite": REPO_ROOT / "dagster.yaml", "postgres": REPO_ROOT / "deploy" / "dagster.yaml"}


# The plug-ins stock Dagster could replace, each swapped in its own `dagster dev` and timed on
# the first shape against the shipped file: the run queue (ours looks every 0.5 s, Dagster's
# every 1 s at its shortest) and the backfill tick (ours adaptive, Dagster's a fixed 30 s).
STOCK_QUEUE = {"module": "dagster", "class": "QueuedRunCoordinator"}
OUR_QUEUE = {"module": "reddit_assets.instance.run_queue", "class": "RunQueue"}
VARIANTS = ("shipped", "other run queue", "Dagster's backfill tick")


def _ships_our_queue(storage: str) -> bool:
    return yaml.safe_load(INSTANCE_YAML[storage].read_text())["run_coordinator"]["module"] == OUR_QUEUE["module"]


def instance_yaml(storage: str, variant: str) -> str:
    """The shipped dagster.yaml of `storage`, or it with one plug-in swapped (see VARIANTS)."""
    text = INSTANCE_YAML[storage].read_text()
    if variant == "shipped":
        return text
    config = yaml.safe_load(text)
    if variant == "other run queue":
        to_stock = _ships_our_queue(storage)
        queue = config["run_coordinator"]
        queue.update(STOCK_QUEUE if to_stock else OUR_QUEUE)
        queue["config"]["dequeue_interval_seconds"] = 1 if to_stock else 0.5
    else:
        config["backfill_tick"] = "dagster"
    return yaml.safe_dump(config)


def variant_name(storage: str, variant: str) -> str:
    """What the variant runs, in words: the queue swapped is the one the storage does not ship."""
    if variant == "other run queue":
        return "Dagster's 1 s QueuedRunCoordinator" if _ships_our_queue(storage) else "our 0.5 s RunQueue"
    return variant


@contextlib.contextmanager
def _dagster_dev(env: dict[str, str], home: Path, log_path: Path, storage: str, variant: str = "shipped"):
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml(storage, variant))
    port = free_port()
    with open(log_path, "wb") as log:
        process = start_process_group(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT,
            env={**env, "DAGSTER_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url, timeout=300)
            yield base_url
        finally:
            stop_process_group(process, timeout=60)


_ENDED = """
query Ended($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { endTimestamp } }
}"""


def _wait(base_url: str, backfill_id: str, timeout: float = 900) -> tuple[dict, float]:
    """The backfill's final status and when the daemon marked it done (its own end time, so
    polling once a second neither rounds the figure up nor loads the machine it measures)."""
    deadline = time.monotonic() + timeout
    while True:
        status = backfill_status(base_url, backfill_id)
        if status["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            ended = graphql(base_url, _ENDED, {"id": backfill_id})["partitionBackfillOrError"]["endTimestamp"]
            return status, ended or time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"backfill {backfill_id} still {status['status']} after {timeout:.0f} s")
        time.sleep(1)


_RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { creationTime startTime endTime stepStats { stepKey startTime endTime } }
  }
}"""


def run_timings(base_url: str, run_ids: list[str]) -> dict[str, float]:
    """Seconds summed over the backfill's runs: queued (created -> started), started -> ended,
    and inside the steps; plus when the first run was created and the last one ended."""
    runs = [graphql(base_url, _RUN, {"id": run_id})["runOrError"] for run_id in run_ids]
    runs = [r for r in runs if r.get("startTime") and r.get("endTime")]
    steps = [st for r in runs for st in r["stepStats"] if st.get("startTime") and st.get("endTime")]
    return {
        "queued": sum(r["startTime"] - r["creationTime"] for r in runs),
        "running": sum(r["endTime"] - r["startTime"] for r in runs),
        "steps": sum(st["endTime"] - st["startTime"] for st in steps),
        "first_created": min(r["creationTime"] for r in runs),
        "last_ended": max(r["endTime"] for r in runs),
    }


def _backfill(base_url: str, keys: list[str], log_path: Path) -> tuple[float, dict, int]:
    """(wall seconds from launch to completion, the runs' timings, runs launched)."""
    launched_at = time.time()
    backfill_id = launch_asset_backfill(base_url, ASSETS, keys, title="benchmark: database-only reprocessing")
    status, ended_at = _wait(base_url, backfill_id)
    backfill_s = ended_at - launched_at
    if status["status"] not in ("COMPLETED", "COMPLETED_SUCCESS"):
        raise RuntimeError(f"backfill ended {status['status']}:\n" + "\n".join(log_errors(log_path)))
    timings = run_timings(base_url, [r["runId"] for r in status["runs"]])
    timings["to_first_run"] = timings.pop("first_created") - launched_at
    timings["after_last_run"] = launched_at + backfill_s - timings.pop("last_ended")
    return backfill_s, timings, len(status["runs"])


def _write_day(data_dir: Path, day: dt.date, names: list[str]) -> tuple[int, int]:
    """One day's raw files, one per subreddit: (bytes, rows)."""
    raw_bytes = rows = 0
    for name in names:
        document = generated_raw_document(
            name, day, n_submissions=25, comments_per_submission=(0, 60), popular_threads=0
        )
        raw_bytes += write_raw_file(raw_file_path(data_dir, day, name), document).size
        rows += len(document["submissions"]) + len(document["comments"])
    return raw_bytes, rows


def _write_days(data_dir: Path, days: list[dt.date], names: list[str]) -> list[tuple[int, int]]:
    """Every day's raw files, the days spread over the cores: generating and writing 1,800
    files (800 MiB) takes a minute on one core."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        return list(pool.map(_write_day, [data_dir] * len(days), days, [names] * len(days)))


def run(sizes: Sizes) -> Result:
    shapes = [(5, 4)] if sizes.quick else [(30, 20), (90, 20)]
    n_subreddits = shapes[0][1]
    assert all(subs == n_subreddits for _, subs in shapes)  # one loop times every shape
    names = [f"bench{i:02d}" for i in range(n_subreddits)]
    all_dates = [START + dt.timedelta(days=i) for i in range(max(d for d, _ in shapes))]
    result = Result()
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="reddit-bench-backfill-") as tmp,
        scratch_postgres("reddit_bench_backfill") as database,
    ):
        root = Path(tmp)
        data_dir = root / "data"
        config = root / "subreddits.yaml"
        config.write_text(yaml.safe_dump({"start_date": START.isoformat(), "subreddits": [{"name": n} for n in names]}))
        phases: dict[str, float] = {}  # where the benchmark's own wall time goes
        clock = [started]

        def lap(phase: str) -> None:
            now = time.perf_counter()
            phases[phase] = phases.get(phase, 0.0) + now - clock[0]
            clock[0] = now

        sizes_of: dict[int, list[int]] = {}  # days -> [raw bytes, rows], cumulative
        raw_bytes = rows = 0
        for day, (day_bytes, day_rows) in zip(all_dates, _write_days(data_dir, all_dates, names), strict=True):
            raw_bytes, rows = raw_bytes + day_bytes, rows + day_rows
            sizes_of[(day - START).days + 1] = [raw_bytes, rows]
        lap("raw files written")
        url = pg_url(database)
        store = TableStore(url)
        store.ensure_schema()

        def loop() -> dict[tuple[int, int], float]:
            """One pass over every partition, day by day; the time at each shape's last day. The
            first 600 partitions are the 600-partition loop, into tables not yet loaded."""
            elapsed, start = {}, time.perf_counter()
            for days, day in enumerate(all_dates, start=1):
                for name in names:
                    _header, submissions, comments, _sha = read_normalized(raw_file_path(data_dir, day, name))
                    store.replace_partition(day, name, submissions, comments)
                if (days, n_subreddits) in shapes:
                    elapsed[(days, n_subreddits)] = time.perf_counter() - start
            return elapsed

        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL", "DAGSTER_"))}
        env.update(
            REDDIT_ASSETS_CONFIG=str(config),
            REDDIT_ASSETS_DATA_DIR=str(data_dir),
            DATABASE_URL=url,
            REDDIT_CLIENT_ID="bench",
            REDDIT_CLIENT_SECRET="bench",
            REDDIT_USER_AGENT="reddit_assets benchmark",
            REDDIT_OAUTH_URL="http://127.0.0.1:9",
            REDDIT_URL="http://127.0.0.1:9",
            **event_settings(os.environ),
        )  # Reddit is never called
        loop_times = loop()
        lap("plain loops")
        measured: dict[tuple[str, tuple[int, int]], tuple[float, dict, int]] = {}
        # (storage, variant) -> the first shape's backfill seconds, `sizes.reps` times
        swapped: dict[tuple[str, str], list[float]] = {}
        startups, warmups = {}, {}
        for storage, variant in [(st, v) for st in ("sqlite", "postgres") for v in VARIANTS]:
            with contextlib.ExitStack() as stack:
                storage_env = dict(env)
                if storage == "postgres":
                    instance_db = stack.enter_context(scratch_postgres("reddit_bench_instance"))
                    storage_env.update(
                        DAGSTER_PG_HOST=PG_HOST,
                        DAGSTER_PG_PORT=str(PG_PORT),
                        DAGSTER_PG_USER=PG_USER,
                        DAGSTER_PG_PASSWORD="",
                        DAGSTER_PG_DB=instance_db,
                    )
                tag = f"{storage}-{VARIANTS.index(variant)}"
                log_path = root / f"dagster-{tag}.log"
                t0 = time.perf_counter()
                base_url = stack.enter_context(
                    _dagster_dev(storage_env, root / f"home-{tag}", log_path, storage, variant)
                )
                if variant == "shipped":
                    startups[storage] = time.perf_counter() - t0
                lap(f"{storage}: start")
                # Only the backfill launches runs: the automation sensors would add the daily
                # reports of the dates just loaded, work the loop does not do.
                stop_automation(base_url)
                # The daemon's first run starts the warm run starter (Dagster and the definitions
                # imported once, seconds): paid once per daemon start, like the webserver's.
                first_key = [f"{all_dates[0].isoformat()}|{names[0]}"]
                warmup = _backfill(base_url, first_key, log_path)[0]
                for days, subs in shapes if variant == "shipped" else shapes[:1]:
                    keys = [f"{day.isoformat()}|{name}" for day in all_dates[:days] for name in names[:subs]]
                    lap(f"{storage}: warm-up and checks")
                    if (days, subs) == shapes[0]:  # every variant, `reps` times on one server
                        backfills = [_backfill(base_url, keys, log_path) for _ in range(sizes.reps)]
                        swapped[(storage, variant)] = [seconds for seconds, _timings, _runs in backfills]
                        backfill = sorted(backfills, key=lambda b: b[0])[len(backfills) // 2]  # median (upper of two)
                    else:
                        backfill = _backfill(base_url, keys, log_path)
                    if variant == "shipped":
                        warmups[storage] = warmup
                        measured[(storage, (days, subs))] = backfill
                    lap(f"{storage}: backfill of {days * subs} ({variant})")
            lap(f"{storage}: stop")
        counts = store.partition_counts(all_dates[0], names[0])
        store.dispose()
        if not all(n > 0 for n in counts):
            raise RuntimeError("the loads left no rows")
    lap("clean-up")

    for (storage, (days, subs)), (backfill_s, timings, runs) in measured.items():
        loop_s = loop_times[(days, subs)]
        label = f"Backfill {days} d x {subs} subs, {storage} instance ({sizes_of[days][1]:,} rows)"
        ratio = backfill_s / loop_s
        result.rows.append(
            Row(
                label,
                "wall s, backfill vs Python loop",
                f"{backfill_s:.1f} s",
                f"{loop_s:.1f} s",
                ratio,
                "<= 2",
                ratio <= 2,
                ratio_text=f"{ratio:.2f}x",
            )
        )
        result.notes.append(
            f"{label}: {days * subs} partitions, {sizes_of[days][0] / 2**20:.1f} MiB of raw files; {runs} runs; "
            f"loop {loop_s:.1f} s. Summed over the runs: queued "
            f"{timings['queued']:.0f} s, running {timings['running']:.0f} s, of which inside the steps "
            f"{timings['steps']:.0f} s (per run: {timings['running'] / max(1, runs):.1f} s running, "
            f"{timings['steps'] / max(1, runs):.1f} s in steps); launch to first run created "
            f"{timings['to_first_run']:.0f} s, last run ended to backfill completed {timings['after_last_run']:.0f} s"
        )
    days, subs = shapes[0]
    for storage in ("sqlite", "postgres"):
        shipped = statistics.median(swapped[(storage, "shipped")])
        for variant in VARIANTS[1:]:
            other = statistics.median(swapped[(storage, variant)])
            result.rows.append(
                Row(
                    f"Backfill {days * subs} partitions, {storage}: {variant_name(storage, variant)} vs shipped",
                    f"wall s, median of {sizes.reps}",
                    f"{other:.1f} s",
                    f"{shipped:.1f} s",
                    other / shipped,
                    "measured (keep the plug-in if > 1.05)",
                    None,
                    ratio_text=f"{other / shipped:.2f}x",
                )
            )
    result.notes.append(
        "Backfill plug-ins, each backfill of the first shape in seconds: "
        + "; ".join(
            f"{storage} {variant_name(storage, variant)} " + ", ".join(f"{t:.1f}" for t in times)
            for (storage, variant), times in swapped.items()
        )
    )
    result.notes.append(
        "Backfill: `dagster dev` start-up (once per instance) "
        + ", ".join(f"{storage} {seconds:.1f} s" for storage, seconds in startups.items())
        + "; then a backfill of one partition (the first run starts the warm run starter) "
        + ", ".join(f"{storage} {seconds:.1f} s" for storage, seconds in warmups.items())
        + "; Dagster event settings "
        + ", ".join(f"{k}={v}" for k, v in event_settings(os.environ).items())
    )
    result.notes.append(
        f"Backfill benchmark's own {sum(phases.values()):.0f} s: "
        + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in phases.items())
    )
    return result
