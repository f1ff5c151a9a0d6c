"""What `reddit-assets import` prints about dumps: each file, its bad lines (file:line), where a
truncated stream stops, and each day written (see `reddit_assets.migrate.dump_import`)."""

from __future__ import annotations

import sys


def progress(text: str) -> None:
    """A progress line of a long import, on stderr so that the report on stdout stays clean."""
    print(f"  ... {text}", file=sys.stderr, flush=True)


def print_dump_report(report, printable, day_line) -> None:
    """The dump import's report on stdout: `printable` cleans a line, `day_line` shows one day's outcome."""
    for file in report.files:
        if file.skipped:
            print(printable(f"skipped       {file.path}: {file.skipped}"))
            continue
        print(
            printable(
                f"dump          {file.path}: {file.lines:,} lines, {file.kept:,} kept, {file.other_subreddits:,} of "
                f"other subreddits skipped, {file.bad_lines:,} bad; {file.size:,} bytes, SHA-256 {file.sha256}"
            )
        )
        for number, reason in file.shown:
            print(printable(f"BAD LINE      {file.path}:{number}: {reason}"))
        if file.bad_lines > len(file.shown):
            print(printable(f"BAD LINE      {file.path}: ... and {file.bad_lines - len(file.shown):,} more"))
        if file.cut:
            print(printable(f"TRUNCATED     {file.path}: {file.cut}"))
    for outcome in report.outcomes:
        print(day_line(outcome, report.dry_run))
    days = [o for o in report.outcomes if o.partition]
    written = sum(1 for o in days if not o.failed and o.status != "present")
    print(
        f"\ndumps: {len(report.files)} file(s), {sum(f.kept for f in report.files):,} lines kept in {written} day file(s)"
        f", {sum(f.bad_lines for f in report.files):,} bad line(s), {sum(1 for f in report.files if f.cut)} truncated"
        + (" (dry run: nothing written or recorded)" if report.dry_run else "")
    )
    if report.before_start:
        earliest = min(str(o.partition).split("|")[0] for o in report.before_start)
        print(
            f"\nBEFORE start_date {report.start_date}: {len(report.before_start)} day(s), the earliest {earliest}.\n"
            f'  Set start_date: "{earliest}" in subreddits.yaml and run the import again to record them.'
        )
    failed = [o for o in report.outcomes if o.failed]
    if failed:
        print(f"\n{len(failed)} day(s) not imported; see the BAD and CONFLICT lines above.")
