"""Backfill overhead: a database-only reprocessing of DAYS x SUBREDDITS partitions through a real
Dagster backfill (`dagster dev` webserver + daemon in a subprocess, launched over GraphQL)
against a plain Python loop doing the same work (read raw file, normalize, replace_partition).

Both load the same raw files into the same scratch PostgreSQL database; every pass replaces
every partition (idempotent). One backfill (it takes minutes on 2 cores) runs between two
loops, whose median is the baseline. The webserver's start-up is reported apart: it is
paid once, not per backfill. The runs' own timings (queued, started, step) say where the
backfill's time goes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import Result, Row, Sizes, median, pg_url, scratch_postgres
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.storage.tables import TableStore
from reddit_assets_demo.dagster_api import backfill_status, graphql, launch_asset_backfill, wait_until_up
from reddit_assets_demo.processes import free_port, start_process_group, stop_process_group
from reddit_assets_demo.raw_documents import generated_raw_document

NAME = "backfill"
REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = [["reddit", "submissions"], ["reddit", "comments"]]
START = dt.date(2026, 10, 1)
# The local instance `make demo` uses too (SQLite storage, 4 concurrent runs, no telemetry).
INSTANCE_YAML = REPO_ROOT / "dagster.yaml"


@contextlib.contextmanager
def _dagster_dev(env: dict[str, str], home: Path, log_path: Path):
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML.read_text())
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


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _wait(base_url: str, backfill_id: str, timeout: float = 900) -> dict:
    # Polled more often than dagster_api.wait_for_backfill (2 s), which would round the time up.
    deadline = time.monotonic() + timeout
    while True:
        status = backfill_status(base_url, backfill_id)
        if status["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"):
            return status
        if time.monotonic() > deadline:
            raise RuntimeError(f"backfill {backfill_id} still {status['status']} after {timeout:.0f} s")
        time.sleep(0.25)


_RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { creationTime startTime endTime stepStats { stepKey startTime endTime } }
  }
}"""


def _run_timings(base_url: str, run_ids: list[str]) -> dict[str, float]:
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


def run(sizes: Sizes) -> Result:
    days, n_subreddits = (5, 4) if sizes.quick else (30, 20)
    names = [f"bench{i:02d}" for i in range(n_subreddits)]
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    result = Result()
    with (
        tempfile.TemporaryDirectory(prefix="reddit-bench-backfill-") as tmp,
        scratch_postgres("reddit_bench_backfill") as database,
    ):
        root = Path(tmp)
        data_dir = root / "data"
        config = root / "subreddits.yaml"
        config.write_text(yaml.safe_dump({"start_date": START.isoformat(), "subreddits": [{"name": n} for n in names]}))
        raw_bytes = rows = 0
        for day in dates:
            for name in names:
                document = generated_raw_document(
                    name, day, n_submissions=25, comments_per_submission=(0, 60), popular_threads=0
                )
                raw_bytes += write_raw_file(raw_file_path(data_dir, day, name), document).size
                rows += len(document["submissions"]) + len(document["comments"])
        keys = [f"{day.isoformat()}|{name}" for day in dates for name in names]
        url = pg_url(database)

        store = TableStore(url)
        store.ensure_schema()

        def loop() -> None:
            for day in dates:
                for name in names:
                    _header, submissions, comments, _sha = read_normalized(raw_file_path(data_dir, day, name))
                    store.replace_partition(day, name, submissions, comments)

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
        )  # never called
        loop_times = [_timed(loop)]
        t0 = time.perf_counter()
        with _dagster_dev(env, root / "dagster_home", root / "dagster.log") as base_url:
            startup = time.perf_counter() - t0
            t0, launched_at = time.perf_counter(), time.time()
            backfill_id = launch_asset_backfill(base_url, ASSETS, keys, title="benchmark: database-only reprocessing")
            status = _wait(base_url, backfill_id)
            backfill_s = time.perf_counter() - t0
            if status["status"] not in ("COMPLETED", "COMPLETED_SUCCESS"):
                tail = (root / "dagster.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"backfill ended {status['status']}:\n{tail}")
            timings = _run_timings(base_url, [r["runId"] for r in status["runs"]])
            timings["to_first_run"] = timings.pop("first_created") - launched_at
            timings["after_last_run"] = launched_at + backfill_s - timings.pop("last_ended")
        loop_times.append(_timed(loop))
        counts = [store.partition_counts(d, n) for d in dates[:1] for n in names[:1]]
        store.dispose()
        if not all(s > 0 for s, _c in counts):
            raise RuntimeError("the loads left no rows")

    loop_s = median(loop_times)
    runs = len(status["runs"])
    label = f"Backfill {days} d x {n_subreddits} subs ({rows:,} rows)"
    result.rows.append(
        Row(
            label,
            "wall s, backfill vs Python loop",
            f"{backfill_s:.1f} s",
            f"{loop_s:.1f} s",
            backfill_s / loop_s,
            "<= 2",
            backfill_s / loop_s <= 2,
            ratio_text=f"{backfill_s / loop_s:.2f}x",
        )
    )
    result.rows.append(Row(label, "runs launched by the backfill", str(runs), "-", None, "-", None))
    result.notes.append(
        f"Backfill: {len(keys)} partitions, {raw_bytes / 2**20:.1f} MiB of raw files, {rows:,} rows; one backfill, "
        f"{runs} runs; loops {', '.join(f'{t:.1f}' for t in loop_times)} s; `dagster dev` start-up (once) {startup:.1f} s. "
        f"Summed over the runs: queued {timings['queued']:.0f} s, running {timings['running']:.0f} s, of which inside "
        f"the steps {timings['steps']:.0f} s (per run: {timings['running'] / max(1, runs):.1f} s running, "
        f"{timings['steps'] / max(1, runs):.1f} s in steps); launch to first run created {timings['to_first_run']:.0f} s, "
        f"last run ended to backfill completed {timings['after_last_run']:.0f} s"
    )
    return result
