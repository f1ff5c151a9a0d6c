"""`make demo` end to end: `python -m reddit_assets_demo.run` with nothing configured.

It must serve the UI with all four assets materialized for today's partitions of the
repository's subreddits.yaml, and SIGTERM (like Ctrl-C) must stop every process it started.
"""

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.config import load_config
from reddit_assets.files.paths import archive_object_key
from reddit_assets_demo.processes import free_port
from reddit_assets_demo.stream_demo import STREAM_NAME
from reddit_assets_tests.harness import CLI

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
READY = "Ctrl-C stops everything."
EXPORTS = "To use reddit-assets on the demo from another terminal, run:"


def _wait_for_line(log: Path, process: subprocess.Popen, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, f"the demo ended early:\n{log.read_text(errors='replace')[-3000:]}"
        assert time.monotonic() < deadline, (
            f"no {text!r} after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}"
        )
        time.sleep(1)


def _processes_with(marker: str) -> list[int]:
    """Pids whose environment holds `marker` (every process the demo started inherits it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read
                pass
    return pids


def test_demo_materializes_today_and_stops_everything_on_sigterm(tmp_path):
    root, port = tmp_path / "demo", free_port()
    data = root / "data"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DAGSTER_")) and k != "DATABASE_URL"
    }
    env.update(REDDIT_ASSETS_DEMO_DIR=str(root), REDDIT_ASSETS_DEMO_PORT=str(port))
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "reddit_assets_demo.run"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_line(log, demo, READY, timeout=600)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/asset-groups", timeout=30) as page:
            assert page.status == 200

        today = dt.datetime.now(dt.UTC).date()
        names = load_config(root / "subreddits.yaml").names  # the repository's, plus the stream subreddit
        assert names == [*load_config(REPO / "subreddits.yaml").names, STREAM_NAME]
        stream_day = json.loads((data / "scrapes" / today.isoformat() / f"{STREAM_NAME}.json").read_text())
        assert stream_day["coverage"]["polls"] >= 2 and stream_day["coverage"]["complete"] is False  # day not over
        with sqlite3.connect(data / "reddit.db") as db:
            for name in names:
                assert (data / "scrapes" / today.isoformat() / f"{name}.json").exists(), name
                (rows,) = db.execute(
                    "SELECT count(*) FROM reddit_submissions WHERE scrape_date = ? AND subreddit = ?",
                    (today.isoformat(), name),
                ).fetchone()
                assert rows > 0, name
                assert (data / "r2" / archive_object_key(today, name)).exists(), name
        assert _processes_with(f"REDDIT_ASSETS_DATA_DIR={data}")  # Dagster's processes, found by their environment

        # The "where to look" block is the last thing on the screen, in plain text; Dagster's logs are in a file.
        screen = log.read_text(errors="replace")
        block = screen[screen.rindex("\n\n  Dagster UI:") :]
        assert screen.endswith(f"{READY}\n"), screen[-2000:]
        assert "\x1b[" not in screen and "will not be used" not in screen
        assert len(screen.splitlines()) < 30, screen  # our lines only, not Dagster's
        dagster_log = root / "dagster.log"
        assert f"  Dagster's logs:  {dagster_log}\n" in block
        assert "RUN_SUCCESS" in dagster_log.read_text() and "\x1b[" not in dagster_log.read_text()
        summary = f"{today}: complete, {len(names)} of {len(names)} subreddit(s) scraped, loaded and archived"
        assert f"exit 0: {summary}\n" in block

        # Today's report is materialized, and `reddit-assets status` on the demo's state exits 0.
        with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
            reports = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=DAILY_REPORT, asset_partitions=[today.isoformat()]), limit=1
            ).records
        assert reports and reports[0].asset_materialization.metadata["partitions_complete"].value == len(names)
        # The exports printed once the UI is up, run as shown in a shell in another folder.
        told = screen[screen.index(EXPORTS) + len(EXPORTS) : screen.index("\n\n  Dagster UI:")].splitlines()
        commands = [line.strip() for line in told[1 : told.index(f"  {CLI} status") + 1]]
        assert commands[:2] == [f"export DAGSTER_HOME={root / 'dagster_home'}", f"export REDDIT_ASSETS_DATA_DIR={data}"]
        assert commands[2] == f"export REDDIT_ASSETS_CONFIG={root / 'subreddits.yaml'}"
        status = subprocess.run(
            ["bash", "-c", "\n".join(commands)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.rstrip().endswith(summary)

        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=90) == 0
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    deadline = time.monotonic() + 30
    while _processes_with(f"REDDIT_ASSETS_DATA_DIR={data}") and time.monotonic() < deadline:
        time.sleep(1)
    assert _processes_with(f"REDDIT_ASSETS_DATA_DIR={data}") == []
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/asset-groups", timeout=5)
