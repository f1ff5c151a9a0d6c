"""`make demo`: the whole product on its embedded defaults, with nothing configured.

Starts the Reddit-compatible demo server (today's items all created before the start),
then the Dagster UI and daemon on 127.0.0.1:3000, prints the exports that point
`reddit-assets` in another terminal at its state, materializes today's partitions of all
four assets through a real backfill, then today's reddit/daily_report, checks
`reddit-assets status` for today, and ends with a "where to look" block, the last thing
on the screen: Dagster's own logs go to `<demo dir>/dagster.log`. Keeps serving until
Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg

from reddit_assets.automation.executors import event_settings
from reddit_assets.automation.pools import ensure_pool_limit
from reddit_assets.config import load_config
from reddit_assets_demo.dagster_api import launch_asset_backfill, wait_for_backfill, wait_until_up
from reddit_assets_demo.earlier_day import earlier_day, import_earlier_day, with_earlier_day
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.processes import start_process_group, stop_process_group
from reddit_assets_demo.server import RedditServer
from reddit_assets_demo.stream_demo import demo_config_file, first_polls, live_feeds

REPORT = ["reddit", "daily_report"]
ANSI_ESCAPE = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
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


# What `reddit-assets status` reads: the instance, the data directory and the config file.
CLI_VARS = ("DAGSTER_HOME", "REDDIT_ASSETS_DATA_DIR", "REDDIT_ASSETS_CONFIG")


def cli_exports(env: dict[str, str]) -> list[str]:
    """Shell lines that point `reddit-assets` in another terminal at the demo's state."""
    exports = [f"export {name}={shlex.quote(env[name])}" for name in CLI_VARS]
    return [*exports, "unset DATABASE_URL"]  # status would read that database, not the demo's tables


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
    env.update(event_settings(env))  # the daemon and webserver write events too and never load our code
    # Absolute: Dagster runs in DAGSTER_HOME (see start_dagster), not in this folder.
    env["REDDIT_ASSETS_CONFIG"] = str(Path(os.environ.get("REDDIT_ASSETS_CONFIG") or "subreddits.yaml").resolve())
    return env


def _copy_without_colours(source, log_path: Path) -> None:
    """Dagster's output into the log file, colour codes removed (its formatter always adds them)."""
    with open(log_path, "ab") as log:
        for line in iter(source.readline, b""):
            log.write(ANSI_ESCAPE.sub(b"", line))
            log.flush()


def start_dagster(env: dict[str, str], host: str, port: int, log_path: Path) -> subprocess.Popen:
    """`dagster dev` with its output in `log_path`. It runs in DAGSTER_HOME, so it reads the
    dagster.yaml placed there and does not warn about the repository's own dagster.yaml."""
    workspace = Path("workspace.yaml").resolve()
    process = start_process_group(
        [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", host, "-p", str(port)],
        env=env,
        cwd=env["DAGSTER_HOME"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    threading.Thread(target=_copy_without_colours, args=(process.stdout, log_path), daemon=True).start()
    return process


def status_of_today(env: dict[str, str], today: dt.date) -> tuple[int, str]:
    """`reddit-assets status <today>` on the demo's instance and data: its exit code and summary line."""
    done = subprocess.run(
        [sys.executable, "-m", "reddit_assets.cli", "status", today.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = (done.stdout or done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start the fake Reddit, then the Dagster UI and daemon on 127.0.0.1:3000; materialize today's
    partitions of all four assets through a real backfill and today's report, print where to
    look (last), and serve until Ctrl-C (or SIGTERM)."""
    # Ctrl-C, and also `kill`: both stop Dagster and the Reddit server. Set explicitly, since
    # a demo started in the background of a shell would otherwise ignore SIGINT, and SIGTERM
    # would end it at once, leaving `dagster dev` serving on the port.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    root = Path(os.environ.get("REDDIT_ASSETS_DEMO_DIR", ".demo")).resolve()
    host, port = "127.0.0.1", int(os.environ.get("REDDIT_ASSETS_DEMO_PORT", "3000"))
    os.environ["REDDIT_ASSETS_CONFIG"] = str(demo_config_file(root))
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
            generate_subreddit(name, today, topic=topic, until=time.time()),
            generate_subreddit(name, past, topic=topic),
        )
        for name, topic in topics.items()
    }
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ensure_pool_limit(instance)  # before the run queue's first pass, as the daemon's unit does
    reddit = RedditServer(data, day=today, auto_create=True, live=live_feeds(config, today)).start()
    print(f"demo Reddit server with generated data: {reddit.url}", flush=True)
    env = demo_environment(root, reddit.url)
    log_path = root / "dagster.log"
    dagster = start_dagster(env, host, port, log_path)
    print(f"Dagster UI and daemon starting on http://{host}:{port} (their logs: {log_path}) ...", flush=True)
    base_url = f"http://{host}:{port}"
    try:
        wait_until_up(base_url)
        exports = "".join(f"\n  {line}" for line in cli_exports(env))
        print(
            f"To use reddit-assets on the demo from another terminal, run:{exports}\n"
            f"  {Path(sys.executable).parent / 'reddit-assets'} status",
            flush=True,
        )
        # An older day, as if imported from the old system while Dagster runs (the automation
        # follows materializations recorded after its first tick): loaded, archived, and (it is
        # old enough) fetched again by the second pass.
        with dg.DagsterInstance.from_config(str(home)) as instance:
            imported = import_earlier_day(config, past, root / "data", instance, topics)
        print(f"imported {len(imported.outcomes)} raw files of {past}; the automation loads them", flush=True)
        polls = first_polls(config, root / "data", reddit.url)
        print(f"{polls} first polls of the stream subreddits; stream_poll_schedule polls them from now on", flush=True)
        keys = [f"{today.isoformat()}|{name}" for name in config.names]
        backfill_id = launch_asset_backfill(base_url, ASSETS, keys, title="make demo: today's partitions")
        print(f"materializing {len(keys)} partitions of 4 assets (backfill {backfill_id}) ...", flush=True)
        status = wait_for_backfill(base_url, backfill_id)
        print(f"backfill {status['status']}: {len(status['runs'])} runs", flush=True)
        report_id = launch_asset_backfill(base_url, [REPORT], [today.isoformat()], title="make demo: today's report")
        report = wait_for_backfill(base_url, report_id)
        print(f"reddit/daily_report for {today}: {report['status']}", flush=True)
        code, summary = status_of_today(env, today)
        data_dir = root / "data"
        print(
            f"\n  Dagster UI:      {base_url}/asset-groups\n"
            f"  backfill:        {base_url}/runs/b/{backfill_id}\n"
            f"  daily report:    {base_url}/assets/reddit/daily_report?view=partitions&partition={today}\n"
            f"  report page:     {data_dir / 'reports' / f'daily_report_{today}.html'}\n"
            f"  status:          DAGSTER_HOME={env['DAGSTER_HOME']} REDDIT_ASSETS_DATA_DIR={data_dir} "
            f"REDDIT_ASSETS_CONFIG={env['REDDIT_ASSETS_CONFIG']} "
            f"{Path(sys.executable).parent / 'reddit-assets'} status\n"
            f"                   exit {code}: {summary}\n"
            f"  raw files:       {data_dir / 'scrapes' / today.isoformat()}\n"
            f"  second pass:     {data_dir / 'scrapes' / past.isoformat()} (*.second_pass.json, table "
            "reddit_second_pass, views reddit_*_then_and_now; sensor second_pass_when_due)\n"
            f"  stream polls:    {data_dir / 'stream'} (stream_poll_job; days built after midnight: stream_day_sensor)\n"
            f"  tables:          {data_dir / 'reddit.db'} (SQLite)\n"
            f"  archives:        {data_dir / 'r2'} (local folder store)\n"
            f"  Dagster's logs:  {log_path}\n"
            "\nCtrl-C stops everything.",
            flush=True,
        )
        dagster.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if dagster.poll() is None:
            # Runs still going when `dagster dev` has stopped (their workers are forked from the
            # daemon's warm starter, in its process group) are ended too: Ctrl-C stops everything.
            stop_process_group(dagster, timeout=30, kill_leftovers=True)
        reddit.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
