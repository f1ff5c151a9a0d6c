"""`make demo`: the whole product on its embedded defaults against the fake Reddit, with nothing configured."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg

from reddit_assets.automation.pools import ensure_pool_limit
from reddit_assets.config import load_config
from reddit_assets_demo.dagster_api import launch_asset_backfill, wait_for_backfill, wait_until_up
from reddit_assets_demo.earlier_day import earlier_day, import_earlier_day, with_earlier_day
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.processes import start_process_group, stop_process_group
from reddit_assets_demo.server import RedditServer

ASSETS = [["reddit", "raw_scrape"], ["reddit", "submissions"], ["reddit", "comments"], ["reddit", "r2_archive"]]
# Settings that would point the demo at production parts; the demo runs without them.
PRODUCTION_VARS = (
    "DATABASE_URL",
    "R2_ENDPOINT_URL",
    "R2_ACCOUNT_ID",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "R2_BUCKET",
)


def demo_environment(root: Path, reddit_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARS and not k.startswith("REDDIT_")}
    env.update(
        DAGSTER_HOME=str(root / "dagster_home"),
        REDDIT_ASSETS_DATA_DIR=str(root / "data"),
        REDDIT_CLIENT_ID="demo-client",
        REDDIT_CLIENT_SECRET="demo-secret",
        REDDIT_USER_AGENT="reddit_assets demo (local)",
        REDDIT_OAUTH_URL=reddit_url,
        REDDIT_URL=reddit_url,
    )
    if os.environ.get("REDDIT_ASSETS_CONFIG"):
        env["REDDIT_ASSETS_CONFIG"] = os.environ["REDDIT_ASSETS_CONFIG"]
    return env


def start_dagster(env: dict[str, str], host: str, port: int) -> subprocess.Popen:
    return start_process_group(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", host, "-p", str(port)], env=env
    )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start the fake Reddit, then the Dagster UI and daemon on 127.0.0.1:3000; materialize today's
    partitions of all four assets through a real backfill, print where to look, and serve until
    Ctrl-C (or SIGTERM)."""
    # Ctrl-C, and also `kill`: both stop Dagster and the Reddit server. Set explicitly, since
    # a demo started in the background of a shell would otherwise ignore SIGINT, and SIGTERM
    # would end it at once, leaving `dagster dev` serving on the port.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    root = Path(os.environ.get("REDDIT_ASSETS_DEMO_DIR", ".demo")).resolve()
    host, port = "127.0.0.1", int(os.environ.get("REDDIT_ASSETS_DEMO_PORT", "3000"))
    config = load_config()
    today = dt.datetime.now(dt.UTC).date()

    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy("dagster.yaml", home / "dagster.yaml")  # the local instance settings at the repository top
    # A search entry's query shows up in some titles, so its scrape finds posts as it would on Reddit.
    topics = {entry.name: entry.query for entry in config.subreddits}
    past = earlier_day(today)
    data = {
        name: with_earlier_day(
            generate_subreddit(name, today, topic=topic), generate_subreddit(name, past, topic=topic)
        )
        for name, topic in topics.items()
    }
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ensure_pool_limit(instance)  # before the run queue's first pass, as the daemon's unit does
    reddit = RedditServer(data, day=today, auto_create=True).start()
    print(f"demo Reddit server with generated data: {reddit.url}", flush=True)
    dagster = start_dagster(demo_environment(root, reddit.url), host, port)
    base_url = f"http://{host}:{port}"
    try:
        wait_until_up(base_url)
        # An older day, as if imported from the old system while Dagster runs (the automation
        # follows materializations recorded after its first tick): loaded, archived, and (it is
        # old enough) fetched again by the second pass.
        with dg.DagsterInstance.from_config(str(home)) as instance:
            imported = import_earlier_day(config, past, root / "data", instance, topics)
        print(f"imported {len(imported.outcomes)} raw files of {past}; the automation loads them", flush=True)
        keys = [f"{today.isoformat()}|{name}" for name in config.names]
        backfill_id = launch_asset_backfill(base_url, ASSETS, keys, title="make demo: today's partitions")
        print(f"materializing {len(keys)} partitions of 4 assets (backfill {backfill_id}) ...", flush=True)
        status = wait_for_backfill(base_url, backfill_id)
        print(f"backfill {status['status']}: {len(status['runs'])} runs", flush=True)
        print(
            f"\n  Dagster UI:    {base_url}/asset-groups\n"
            f"  backfill:      {base_url}/runs/b/{backfill_id}\n"
            f"  raw files:     {root / 'data' / 'scrapes' / today.isoformat()}\n"
            f"  second pass:   {root / 'data' / 'scrapes' / past.isoformat()} (*.second_pass.json, table "
            "reddit_second_pass, views reddit_*_then_and_now; sensor second_pass_when_due)\n"
            f"  tables:        {root / 'data' / 'reddit.db'} (SQLite)\n"
            f"  archives:      {root / 'data' / 'r2'} (local folder store)\n"
            "\nCtrl-C stops everything.",
            flush=True,
        )
        dagster.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if dagster.poll() is None:
            stop_process_group(dagster, timeout=30)
        reddit.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
