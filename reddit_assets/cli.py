"""The `reddit-assets` command.

- `reddit-assets import DIR [--dry-run] [--overwrite]`: scrape files left by the old
  system (our raw files, URS subreddit scrapes) -> raw files in the data directory and
  recorded `reddit/raw_scrape` materializations (see `reddit_assets.migrate.importer`).
  Exit 0: every file good; 1: some bad (the good ones are imported); 2: usage error.
- `reddit-assets validate-config [PATH]`: check the config file and list its entries.
- `reddit-assets status [DATE] [--days N] [--html FILE]`: the daily report (see `reddit_assets.cli_status`).
- `reddit-assets materialize DATE SUBREDDIT [--only ...] [--late-snapshot]`: one partition, with
  messages a user can act on (see `reddit_assets.cli_materialize`).
- `reddit-assets init-pools`: create the `reddit_api` pool's limit in the Dagster
  instance if it has none (see `reddit_assets.automation.pools`); run before the daemon starts.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reddit_assets import cli_dumps, cli_materialize, cli_status
from reddit_assets.config import ConfigError, config_path, load_config

if TYPE_CHECKING:  # the commands import the importers only when they run
    from reddit_assets.migrate.dump_import import DumpImportReport
    from reddit_assets.migrate.importer import ImportReport

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reddit-assets", description="reddit_assets command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser(
        "import",
        help="import scrape files left by the old system (raw files and URS subreddit scrapes)",
        description="Place every good scrape file under DIR in the data directory ($REDDIT_ASSETS_DATA_DIR) as "
        "<data_dir>/scrapes/<date>/<subreddit>.json and record it as a reddit/raw_scrape materialization "
        "in the Dagster instance ($DAGSTER_HOME). Dates: our raw files carry theirs; a URS file takes its date "
        "folder's (YYYY-MM-DD, or the older MM-DD-YYYY), else the UTC date of its newest submission. "
        "Exit 0: all good; 1: some files bad; 2: usage error.",
    )
    imp.add_argument(
        "dir",
        metavar="PATH",
        help="folder searched (recursively) for *.json scrape files and *.zst Pushshift / Arctic Shift dumps, "
        "or one dump file",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and report only: write and record nothing")
    imp.add_argument("--overwrite", action="store_true", help="replace existing raw files whose content differs")
    imp.add_argument(
        "--config", metavar="PATH", help="config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)"
    )
    imp.add_argument(
        "--urs-timezone",
        metavar="TZ",
        default="UTC",
        help="time zone of the machine that ran URS, whose times are local (default: UTC)",
    )

    val = commands.add_parser(
        "validate-config",
        help="check the config file and list its entries",
        description="Exit 0: valid; 1: invalid (the message names the entry and field).",
    )
    val.add_argument(
        "path", metavar="PATH", nargs="?", help="config file (default: $REDDIT_ASSETS_CONFIG or ./subreddits.yaml)"
    )

    commands.add_parser(
        "init-pools",
        help="create the reddit_api pool's limit in the Dagster instance if it has none",
        description="Create the reddit_api pool's limit in the Dagster instance ($DAGSTER_HOME) from its "
        "concurrency.pools.default_limit, unless the pool has a limit already (which is left as is), so "
        "the run queue holds scraping runs back from the first one. Safe to run at every start. "
        "Exit 0: the pool has a limit; 1: none could be set; 2: usage error.",
    )
    cli_status.add_parser(commands)
    cli_materialize.add_parser(commands)
    return parser


def _usage(message: str) -> int:
    print(f"reddit-assets: {message}", file=sys.stderr)
    return USAGE_ERROR


# Control characters (C0, DEL, C1) and the bidirectional overrides that reorder a terminal line.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """Text for one report line: a file name with ESC or a newline cannot forge or recolour a line."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(text)
    )


def _import_line(outcome, dry_run: bool) -> str:
    return printable(_import_text(outcome, dry_run))


def _import_text(outcome, dry_run: bool) -> str:
    from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT, REPLACED, SKIPPED

    if outcome.status == BAD:
        return f"BAD           {outcome.source}: {outcome.reason}"
    if outcome.status == CONFLICT:
        return f"CONFLICT      {outcome.source}: {outcome.reason}"
    if outcome.status == SKIPPED:
        return f"skipped       {outcome.source}: {outcome.reason}"
    labels = {IMPORTED: "imported", REPLACED: "replaced", PRESENT: "present"}
    if dry_run:
        labels.update({IMPORTED: "would import", REPLACED: "would replace"})
    label = labels[outcome.status]
    details = f"{outcome.partition}: {outcome.submissions} submissions, {outcome.comments} comments"
    if outcome.reason:
        details += f"; {outcome.reason}"
    details += (
        f"; materialization {outcome.recorded}" if outcome.recorded else "; NOT recorded (partition not configured)"
    )
    return f"{label:<13} {outcome.source} -> {outcome.raw_path} ({details})"


def _print_report(report, args) -> None:
    from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT, REPLACED, SKIPPED

    for outcome in report.outcomes:
        print(_import_line(outcome, report.dry_run))
    counts = [
        (report.count(IMPORTED), "imported"),
        (report.count(REPLACED), "replaced"),
        (report.count(PRESENT), "already present"),
        (report.count(BAD), "bad"),
        (report.count(CONFLICT), "conflicts"),
        (report.count(SKIPPED), "skipped"),
    ]
    summary = ", ".join(f"{n} {what}" for n, what in counts if n) or "no *.json files found"
    print(f"\n{summary}" + (" (dry run: nothing written or recorded)" if report.dry_run else ""))
    if report.unconfigured:
        files = sum(len(v) for v in report.unconfigured.values())
        print(
            f"\nNOT CONFIGURED: add these to subreddits.yaml: {', '.join(sorted(report.unconfigured, key=str.lower))}\n"
            f"  Their {files} file(s) are {'checked' if report.dry_run else 'placed in the data directory'} but not "
            "recorded as materialized: the partitions do not exist until the subreddits are configured.\n"
            f"  After adding them, run `reddit-assets import {printable(args.dir)}` again to record them; the sensor then loads them."
        )
    if report.before_start:
        earliest = min(str(o.partition).split("|")[0] for o in report.outcomes if o.source in report.before_start)
        print(
            f"\nBEFORE start_date {report.start_date}: {len(report.before_start)} file(s), the earliest for {earliest}.\n"
            f'  Set start_date: "{earliest}" in subreddits.yaml and run the import again to record them.'
        )
    if report.failed:
        print(f"\n{len(report.failed)} file(s) not imported; see the BAD and CONFLICT lines above.")


def _import(args) -> int:
    from reddit_assets.files.paths import data_dir as configured_data_dir
    from reddit_assets.migrate.source_file import ImportDiskError

    root = Path(args.dir)
    if not root.is_dir() and not (root.is_file() and root.suffix.lower() == ".zst"):
        return _usage(f"import: {printable(repr(args.dir))} is not a directory (nor a .zst dump file)")
    try:
        tz = ZoneInfo(args.urs_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _usage(f"import: --urs-timezone {args.urs_timezone!r} is not a known time zone")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _usage(f"import: {exc}")
    data_dir = configured_data_dir()
    options = dict(config=config, data_dir=data_dir, dry_run=args.dry_run, overwrite=args.overwrite, tz=tz)
    if not args.dry_run and not os.environ.get("DAGSTER_HOME"):
        return _usage(
            "import: DAGSTER_HOME is not set; the import records materializations in that "
            "Dagster instance (use --dry-run to check the files only)"
        )
    try:
        reports = _run_import(root, args, options)
    except ImportDiskError as exc:
        print(f"reddit-assets import: stopped: {printable(exc)}", file=sys.stderr)
        return 1
    code = 0
    from reddit_assets.migrate.dump_import import DumpImportReport

    for report in reports:
        if isinstance(report, DumpImportReport):
            cli_dumps.print_dump_report(report, printable, _import_line)
        else:
            _print_report(report, args)
        code = max(code, report.exit_code)
    return code


def _run_import(root: Path, args, options: dict) -> list[ImportReport | DumpImportReport]:
    """The reports of the import: the scrape files' (unless PATH holds dumps only) and the dumps'."""
    import contextlib

    import dagster as dg

    from reddit_assets.migrate.dump_import import import_dumps, scan_dumps
    from reddit_assets.migrate.importer import import_directory, scan_folder

    dumps, _refused = scan_dumps(root)
    with contextlib.ExitStack() as stack:
        instance = None if args.dry_run else stack.enter_context(dg.DagsterInstance.get())
        reports: list[ImportReport | DumpImportReport] = []
        if root.is_dir() and (not dumps or scan_folder(root)[0]):
            reports.append(import_directory(root, instance=instance, **options))
        if dumps:
            dump_options = {k: v for k, v in options.items() if k != "tz"}
            report = import_dumps(dumps, instance=instance, progress=cli_dumps.progress, **dump_options)
            report.outcomes[:0] = _refused  # symbolic links: reported, never followed
            reports.append(report)
        return reports


def _validate_config(args) -> int:
    path = Path(args.path) if args.path else config_path()
    try:
        config = load_config(args.path)
    except ConfigError as exc:
        print(f"invalid config: {exc}", file=sys.stderr)
        return 1
    flags = " ".join(f"{k}={str(v).lower()}" for k, v in config.flags.model_dump().items())
    print(f"{path}: valid, {len(config.subreddits)} subreddit(s)")
    print(
        f"start_date {config.start_date}, schedule {config.schedule.cron!r} {config.schedule.timezone}, flags: {flags}"
    )
    width = max(len(s.name) for s in config.subreddits)
    for entry in config.subreddits:
        parts = [f"category={entry.category}"]
        if entry.category == "search":
            parts.append(f"query={entry.query!r}")
        parts.append(f"n_results={entry.n_results}")
        if entry.category in ("top", "controversial", "search"):
            parts.append(f"time_filter={entry.time_filter}")
        parts.append(f"comments={entry.comments}")
        print(f"  {entry.name:<{width}}  {' '.join(parts)}")
    return 0


def _init_pools(args) -> int:
    if not os.environ.get("DAGSTER_HOME"):
        return _usage("init-pools: DAGSTER_HOME is not set; the limit is kept in that Dagster instance")
    import dagster as dg

    from reddit_assets.automation.pools import REDDIT_POOL, PoolLimitMissing, ensure_pool_limit

    with dg.DagsterInstance.get() as instance:
        try:
            limit, created = ensure_pool_limit(instance)
        except PoolLimitMissing as exc:
            print(f"reddit-assets init-pools: {exc}", file=sys.stderr)
            return 1
    state = "created from default_limit" if created else "already set, left as is"
    print(f"pool {REDDIT_POOL}: limit {limit} ({state})")
    return 0


def _absolute_dagster_home() -> None:
    """Resolve a relative $DAGSTER_HOME against the current directory: Dagster refuses one that is not absolute."""
    home = os.environ.get("DAGSTER_HOME")
    if home and not os.path.isabs(home):
        os.environ["DAGSTER_HOME"] = os.path.abspath(home)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _absolute_dagster_home()
    commands = {
        "import": _import,
        "validate-config": _validate_config,
        "init-pools": _init_pools,
        "status": cli_status.status,
        "materialize": cli_materialize.materialize,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
