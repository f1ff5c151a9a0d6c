"""Backfill overhead: a database-only reprocessing of DAYS x SUBREDDITS partitions through a real
Dagster backfill (`dagster dev` webserver + daemon in a subprocess, launched over GraphQL)
against a plain Python loop doing the same work (read raw file, normalize, replace_partition).

Both load the same raw files into the same scratch PostgreSQL database; every run replaces
every partition (idempotent), so runs alternate: loop, backfill, loop, backfill, ...
The webserver's start-up is reported apart: it is paid once, not per backfill.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.common import Result, Row, Sizes, free_port, median, pg_url, scratch_postgres, side_by_side
from reddit_assets.dagster_api import backfill_status, launch_asset_backfill, wait_until_up
from reddit_assets.demo.raw_documents import generated_raw_document
from reddit_assets.normalize import normalize
from reddit_assets.paths import raw_file_path
from reddit_assets.rawfile import read_raw_file_hashed, write_raw_file
from reddit_assets.storage.tables import TableStore

NAME = "backfill"
REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS = [["reddit", "submissions"], ["reddit", "comments"]]
START = dt.date(2026, 10, 1)
# The Dagster instance of `make demo` (SQLite storage, 4 concurrent runs, no telemetry).
INSTANCE_YAML = REPO_ROOT / "reddit_assets" / "demo" / "dagster.yaml"


def _restore_sigint():
    # `dagster dev` ignores SIGTERM when started from a non-interactive shell.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


@contextlib.contextmanager
def _dagster_dev(env: dict[str, str], home: Path, log_path: Path):
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML.read_text())
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT, env={**env, "DAGSTER_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_restore_sigint,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url, timeout=300)
            yield base_url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


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


def run(sizes: Sizes) -> Result:
    days, n_subreddits = (5, 4) if sizes.quick else (30, 20)
    names = [f"bench{i:02d}" for i in range(n_subreddits)]
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    result = Result()
    with tempfile.TemporaryDirectory(prefix="reddit-bench-backfill-") as tmp, scratch_postgres("reddit_bench_backfill") as database:
        root = Path(tmp)
        data_dir = root / "data"
        config = root / "subreddits.yaml"
        config.write_text(yaml.safe_dump({"start_date": START.isoformat(), "subreddits": [{"name": n} for n in names]}))
        raw_bytes = rows = 0
        for day in dates:
            for name in names:
                document = generated_raw_document(name, day, n_submissions=25, comments_per_submission=(0, 60), popular_threads=0)
                raw_bytes += write_raw_file(raw_file_path(data_dir, day, name), document).size
                rows += len(document["submissions"]) + len(document["comments"])
        keys = [f"{day.isoformat()}|{name}" for day in dates for name in names]
        url = pg_url(database)

        store = TableStore(url)
        store.ensure_schema()

        def loop() -> None:
            for day in dates:
                for name in names:
                    document, _sha = read_raw_file_hashed(raw_file_path(data_dir, day, name))
                    store.replace_partition(day, name, *normalize(document))

        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL", "DAGSTER_"))}
        env.update(REDDIT_ASSETS_CONFIG=str(config), REDDIT_ASSETS_DATA_DIR=str(data_dir), DATABASE_URL=url,
                   REDDIT_CLIENT_ID="bench", REDDIT_CLIENT_SECRET="bench", REDDIT_USER_AGENT="reddit_assets benchmark",
                   REDDIT_OAUTH_URL="http://127.0.0.1:9", REDDIT_URL="http://127.0.0.1:9")  # never called
        runs: list[int] = []
        t0 = time.perf_counter()
        with _dagster_dev(env, root / "dagster_home", root / "dagster.log") as base_url:
            startup = time.perf_counter() - t0

            def backfill() -> None:
                backfill_id = launch_asset_backfill(base_url, ASSETS, keys, title="benchmark: database-only reprocessing")
                status = _wait(base_url, backfill_id)
                if status["status"] not in ("COMPLETED", "COMPLETED_SUCCESS"):
                    tail = (root / "dagster.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"backfill ended {status['status']}:\n{tail}")
                runs.append(len(status["runs"]))

            reps = max(2, sizes.reps - 1)  # a backfill is the slowest thing here: one fewer
            times = side_by_side({"loop": loop, "backfill": backfill}, reps)
        counts = [store.partition_counts(d, n) for d in dates[:1] for n in names[:1]]
        store.dispose()
        if not all(s > 0 for s, _c in counts):
            raise RuntimeError("the loads left no rows")

    loop_s, backfill_s = median(times["loop"]), median(times["backfill"])
    label = f"Backfill {days} d x {n_subreddits} subs ({rows:,} rows)"
    result.rows.append(Row(label, "wall s, backfill vs Python loop", f"{backfill_s:.1f} s", f"{loop_s:.1f} s",
                           backfill_s / loop_s, "<= 2", backfill_s / loop_s <= 2, ratio_text=f"{backfill_s / loop_s:.2f}x"))
    result.notes.append(
        f"Backfill: {len(keys)} partitions, {raw_bytes / 2**20:.1f} MiB of raw files, {rows:,} rows; "
        f"runs launched per backfill: {', '.join(map(str, runs))}; backfill times {', '.join(f'{t:.1f}' for t in times['backfill'])} s, "
        f"loop times {', '.join(f'{t:.1f}' for t in times['loop'])} s; `dagster dev` start-up (once) {startup:.1f} s"
    )
    return result
