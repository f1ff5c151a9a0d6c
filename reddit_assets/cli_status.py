"""`reddit-assets status [DATE] [--days N] [--html FILE]`: the daily report in the terminal.

Read from the Dagster instance ($DAGSTER_HOME) and the tables' database. Exit 0 when every
configured subreddit of the day(s) is scraped, loaded and archived (or archived locally, or
not archived by flag); 1 otherwise; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from reddit_assets.config import ConfigError, load_config

COMPLETE, INCOMPLETE, USAGE_ERROR = 0, 1, 2
GRID_DAYS = 30


def add_parser(commands) -> None:
    status = commands.add_parser(
        "status",
        help="per subreddit per day: scraped, loaded, archived, checks, and why not",
        description="The daily report for DATE (default: today in the schedule's time zone) and the N-1 days "
        "before it, read from the Dagster instance ($DAGSTER_HOME) and the tables' database. "
        "Exit 0: every configured subreddit of those days is scraped, loaded and archived; 1: not; 2: usage error.",
    )
    status.add_argument("date", metavar="DATE", nargs="?", help="YYYY-MM-DD (default: today)")
    status.add_argument(
        "--days",
        type=int,
        default=1,
        metavar="N",
        help="report N days ending at DATE (default 1)",
    )
    status.add_argument(
        "--html",
        metavar="FILE",
        help=f"also write the report with a subreddit x day picture of the last {GRID_DAYS} days",
    )
    status.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)",
    )


def _usage(message: str) -> int:
    print(f"reddit-assets status: {message}", file=sys.stderr)
    return USAGE_ERROR


def _row_counter():
    """(date, subreddit) -> rows in the tables; None (said once) when the database cannot be read."""
    import sqlalchemy as sa

    from reddit_assets.files.paths import data_dir
    from reddit_assets.storage.tables import TableStore

    # The same rule as resources.database_resource: DATABASE_URL, else the SQLite file in the data directory.
    store = TableStore(os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'reddit.db'}")
    failed: list[sa.exc.SQLAlchemyError] = []

    def count(date: dt.date, subreddit: str) -> tuple[int, int] | None:
        if failed:
            return None
        try:
            return store.partition_counts(date, subreddit)
        except sa.exc.SQLAlchemyError as exc:
            failed.append(exc)
            print(
                f"reddit-assets status: the tables' database cannot be read ({type(exc).__name__}); "
                "rows are not compared with the database",
                file=sys.stderr,
            )
            return None

    return count


def status(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _usage(str(exc))
    if not os.environ.get("DAGSTER_HOME"):
        return _usage("DAGSTER_HOME is not set; the report reads that Dagster instance's records")
    if not Path(os.environ["DAGSTER_HOME"]).is_dir():
        return _usage(f"DAGSTER_HOME {os.environ['DAGSTER_HOME']} is not a directory (a Dagster instance's folder)")
    from reddit_assets.report.gather import gather
    from reddit_assets.report.today import today_for

    today = today_for(config)
    try:
        date = dt.date.fromisoformat(args.date) if args.date else today
    except ValueError:
        return _usage(f"{args.date!r} is not a date YYYY-MM-DD")
    if args.days < 1:
        return _usage("--days must be 1 or more")
    if not config.start_date <= date <= today:
        return _usage(f"{date} is outside the partitions: {config.start_date} (start_date) to {today} (today)")
    first = max(date - dt.timedelta(days=args.days - 1), config.start_date)
    detail = [first + dt.timedelta(days=n) for n in range((date - first).days + 1)]
    grid = [d for d in (date - dt.timedelta(days=n) for n in range(GRID_DAYS)) if d >= config.start_date]

    import dagster as dg

    from reddit_assets.report.picture import render_html
    from reddit_assets.report.text import render_text

    with dg.DagsterInstance.get() as instance:
        days = gather(
            instance,
            config,
            set(detail) | (set(grid) if args.html else set()),
            today=today,
            row_counts=_row_counter(),
        )
    detail_days = [day for day in days if day.date in detail]
    print(render_text(detail_days))
    if args.html:
        Path(args.html).write_text(
            render_html([d for d in days if d.date in grid], detail_days),
            encoding="utf-8",
        )
        print(f"wrote {args.html}")
    return COMPLETE if all(day.complete for day in detail_days) else INCOMPLETE
