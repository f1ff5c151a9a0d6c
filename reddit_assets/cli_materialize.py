"""`reddit-assets materialize DATE SUBREDDIT [--only scrape|database|archive] [--late-snapshot]`:
one partition, as `dagster asset materialize` would run it, with messages a user can act on.

Before Dagster starts, a bad partition key is refused with one message that explains
`YYYY-MM-DD|subreddit`, says which half is wrong and lists the valid range and subreddits;
missing Reddit credentials are named, with where to set them. Exit 0: the run succeeded;
1: it failed (the step's error is shown); 2: usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys

from reddit_assets.config import AppConfig, ConfigError, load_config

USAGE_ERROR = 2
CREDENTIALS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
# --only -> the job whose assets it runs (and the assets, for the run's summary)
ONLY = {
    None: ("daily_scrape_job", None),
    "scrape": ("daily_scrape_job", ["reddit/raw_scrape"]),
    "database": ("database_only_job", None),
    "archive": ("upload_only_job", None),
}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def add_parser(commands) -> None:
    mat = commands.add_parser(
        "materialize",
        help="scrape, load and archive one subreddit-day (one Dagster run in $DAGSTER_HOME)",
        description="Materialize the partition DATE|SUBREDDIT of reddit/raw_scrape, reddit/submissions, "
        "reddit/comments and reddit/r2_archive (as the flags say) in one Dagster run, recorded in the instance "
        "at $DAGSTER_HOME. Exit 0: the run succeeded; 1: it failed; 2: usage error.",
    )
    mat.add_argument(
        "date",
        metavar="DATE",
        help="YYYY-MM-DD, or a whole partition key YYYY-MM-DD|subreddit",
    )
    mat.add_argument(
        "subreddit",
        metavar="SUBREDDIT",
        nargs="?",
        help="a subreddit of the config file",
    )
    mat.add_argument(
        "--only",
        choices=["scrape", "database", "archive"],
        help="only the scrape (calls Reddit), or only the database or archive branch (from the existing raw file)",
    )
    mat.add_argument(
        "--late-snapshot",
        action="store_true",
        help="take a snapshot category (hot, top, ...) for a past day; the raw file records it as late",
    )
    mat.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)",
    )


def partition_problems(config: AppConfig, date_text: str, name: str, today: dt.date) -> list[str]:
    """What is wrong with each half of a partition key, one line per bad half; [] if it is good."""
    problems = []
    valid_dates = f"valid dates are {config.start_date} (start_date) to {today} (today, {config.schedule.timezone})"
    if not _DATE_RE.fullmatch(date_text):
        problems.append(f"date {date_text!r} is not a date YYYY-MM-DD; {valid_dates}")
    else:
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            problems.append(f"date {date_text!r} is not a real day; {valid_dates}")
        else:
            if date < config.start_date:
                problems.append(f"date {date_text} is before start_date; {valid_dates}")
            elif date > today:
                problems.append(f"date {date_text} is in the future; {valid_dates}")
    if name not in config.names:
        folded = [n for n in config.names if n.lower() == name.lower()]
        hint = f" (did you mean {folded[0]}? names are written as in the config file)" if folded else ""
        problems.append(f"subreddit {name!r} is not in the config file{hint}; configured: {', '.join(config.names)}")
    return problems


def _split(args) -> tuple[str, str] | None:
    if args.subreddit is None:
        parts = args.date.split("|")
        return (parts[0], parts[1]) if len(parts) == 2 else None
    return args.date, args.subreddit


def bad_key_message(config: AppConfig, key: str, problems: list[str]) -> str:
    example = f"{config.start_date}|{config.names[0]}"
    lines = [
        f"reddit-assets materialize: bad partition key {key!r}: a partition key is YYYY-MM-DD|subreddit, "
        f"e.g. {example} (or give DATE and SUBREDDIT as two arguments)"
    ]
    return "\n".join(lines + [f"  {p}" for p in problems])


def missing_credentials_message(missing: list[str]) -> str:
    return (
        f"reddit-assets materialize: Reddit credentials missing: {', '.join(missing)} not set.\n"
        '  Set them to a Reddit app\'s id, secret and a user agent (README.md, "Environment"), '
        "or run `make demo` to try everything against a local Reddit-compatible server."
    )


def _late_snapshot_message(config: AppConfig, date: dt.date, name: str, today: dt.date) -> str | None:
    entry = config.subreddit(name)
    if date < today and entry.category != "new":
        return (
            f"reddit-assets materialize: r/{name} uses category '{entry.category}', a snapshot of Reddit now; "
            f"it cannot be taken for {date} (today is {today}).\n"
            "  Add --late-snapshot to record today's listing under that day (marked late_snapshot), or "
            "re-process an existing raw file with --only database / --only archive."
        )
    return None


def _run_failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            return f"{event.step_key}: {event.step_failure_data.error.message.strip().splitlines()[0]}"
    return "see the run's logs in the Dagster UI"


def materialize(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"reddit-assets materialize: {exc}", file=sys.stderr)
        return USAGE_ERROR
    from reddit_assets.report.today import today_for

    today = today_for(config)
    halves = _split(args)
    key = args.date if args.subreddit is None else f"{args.date}|{args.subreddit}"
    if halves is None:
        print(
            bad_key_message(config, key, [f"{key!r} does not have exactly one '|'"]),
            file=sys.stderr,
        )
        return USAGE_ERROR
    problems = partition_problems(config, *halves, today)
    if problems:
        print(bad_key_message(config, key, problems), file=sys.stderr)
        return USAGE_ERROR
    date, name = dt.date.fromisoformat(halves[0]), halves[1]
    scrapes = args.only in (None, "scrape")
    if scrapes:
        missing = [var for var in CREDENTIALS if not os.environ.get(var)]
        if missing:
            print(missing_credentials_message(missing), file=sys.stderr)
            return USAGE_ERROR
        late = None if args.late_snapshot else _late_snapshot_message(config, date, name, today)
        if late:
            print(late, file=sys.stderr)
            return USAGE_ERROR
    if not os.environ.get("DAGSTER_HOME"):
        print(
            "reddit-assets materialize: DAGSTER_HOME is not set; the run is recorded in that Dagster instance "
            "(make demo uses .demo/dagster_home)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    return _execute(config, date, name, args, scrapes)


def _execute(config: AppConfig, date: dt.date, name: str, args, scrapes: bool) -> int:
    import dagster as dg

    from reddit_assets.config import CONFIG_ENV_VAR
    from reddit_assets.definitions import build_definitions
    from reddit_assets.partitions import partition_key

    if args.config:
        os.environ[CONFIG_ENV_VAR] = args.config  # the definitions read the same file
    defs = build_definitions()

    job_name, only_assets = ONLY[args.only]
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if scrapes and args.late_snapshot:
        run_config["ops"] = {"reddit__raw_scrape": {"config": {"allow_late_snapshot": True}}}
    key = partition_key(date, name)
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job_name).execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=key,
            asset_selection=[dg.AssetKey.from_user_string(a) for a in only_assets] if only_assets else None,
            raise_on_error=False,
        )
    assets = sorted(
        {e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key is not None}
    )
    if result.success:
        print(f"{key}: run {result.run_id} succeeded; materialized {', '.join(assets)}")
        return 0
    print(f"{key}: run {result.run_id} FAILED: {_run_failure(result)}", file=sys.stderr)
    if assets:
        print(f"  materialized before the failure: {', '.join(assets)}", file=sys.stderr)
    return 1
