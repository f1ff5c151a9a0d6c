"""reddit/raw_scrape: the only asset that talks to Reddit."""

import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from reddit_assets.assets.declarations import OWNERS, RAW_SCRAPE, REDDIT_POOL, RETRY_POLICY
from reddit_assets.assets.stream import materialize_stream_day
from reddit_assets.config import AppConfig, SubredditConfig
from reddit_assets.files.atomic import DiskWriteError
from reddit_assets.files.preview import top_posts_markdown
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.partitions import split_partition_key
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.reddit.scraper import SubredditUnavailable
from reddit_assets.storage.raw_files_resource import RawFilesResource


class ScrapeRunConfig(dg.Config):
    """Run config of reddit/raw_scrape."""

    allow_late_snapshot: bool = Field(
        default=False,
        description="Take a snapshot listing (hot, top, ...) for a day other than today; the file records it as late.",
    )


def plan_scrape(
    entry: SubredditConfig, date: dt.date, today: dt.date, allow_late_snapshot: bool
) -> "tuple[dt.date | None, bool]":
    """(past_day for `new`, late flag) for scraping `date` on `today`; refuses what would lie.

    A listing shows Reddit as it is now, so a snapshot for another day would be
    recorded under a date it does not describe.
    """
    if date == today:
        return None, False
    if date > today:
        raise dg.Failure(f"{date} is in the future (today is {today}): nothing to scrape yet", allow_retries=False)
    if entry.category == "new":
        return date, False
    if allow_late_snapshot:
        return None, True
    raise dg.Failure(
        f"r/{entry.name} uses category '{entry.category}', a snapshot of Reddit now; it cannot be taken for "
        f"{date} (today is {today}). Re-process the existing raw file instead (database_only_job / "
        "upload_only_job), or set run config allow_late_snapshot: true to record today's snapshot as late.",
        allow_retries=False,
    )


def _check_writable(folder: Path) -> None:
    """Fail without retries when the raw file's folder could not be written (nothing is created here)."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        problem = "Read-only file system"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = "Permission denied"
    else:
        return
    raise dg.Failure(f"cannot write {folder}: {problem} (not retried)", allow_retries=False)


def build_raw_scrape(app_config: AppConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    tz = ZoneInfo(app_config.schedule.timezone)

    @dg.asset(
        key=RAW_SCRAPE,
        partitions_def=partitions_def,
        group_name="scrape",
        kinds={"reddit", "json"},
        owners=OWNERS,
        pool=REDDIT_POOL,
        retry_policy=RETRY_POLICY,
        backfill_policy=dg.BackfillPolicy.multi_run(1),
    )
    def raw_scrape(
        context: dg.AssetExecutionContext, config: ScrapeRunConfig, reddit: RedditResource, raw_files: RawFilesResource
    ) -> dg.MaterializeResult:
        """One subreddit's listing and comment trees for one day, as Reddit returned them,
        in `<data_dir>/scrapes/<date>/<subreddit>.json` (written atomically)."""
        date, name = split_partition_key(context.partition_key)
        entry = app_config.subreddit(name)
        if entry.is_stream:  # merged from the poll records: no Reddit call
            return materialize_stream_day(app_config, entry, date, raw_files)
        past_day, late = plan_scrape(entry, date, dt.datetime.now(tz).date(), config.allow_late_snapshot)

        raw_path = raw_files.raw_path(date, name)
        _check_writable(raw_path.parent)  # before any Reddit request: a retry would only ask Reddit again
        stats = RequestStats()
        try:
            result = reddit.scrape(entry, stats, past_day=past_day)
        except SubredditUnavailable as exc:
            raise dg.Failure(str(exc), allow_retries=False) from None
        for note in result.notes:
            context.log.warning(note)

        document = {
            "subreddit": name,
            "date": date.isoformat(),
            "settings": entry.settings(),
            "scraped_at": dt.datetime.now(dt.UTC).isoformat(),
            "api_requests": stats.requests,
            "rate_limited": stats.rate_limited,
            "late_snapshot": late,
            "reached_day_start": result.reached_day_start,
            "notes": result.notes,
            "submissions": result.submissions,
            "comments": result.comments,
        }
        try:
            written = write_raw_file(raw_path, document)
        except DiskWriteError as exc:  # disk full or read-only: a retry would scrape Reddit again for nothing
            raise dg.Failure(f"{exc}; the scrape was not kept (not retried)", allow_retries=False) from None
        metadata: dict[str, Any] = {
            "submissions": len(result.submissions),
            "comments": len(result.comments),
            "api_requests": stats.requests,
            "rate_limited": stats.rate_limited,
            "bytes": written.size,
            "sha256": written.sha256,
            "path": dg.MetadataValue.path(str(written.path)),
            "late_snapshot": late,
            "comment_trees_unavailable": len(result.unavailable_threads),
            "top_posts": dg.MetadataValue.md(top_posts_markdown(result.submissions)),
        }
        if result.reached_day_start is not None:
            metadata["reached_day_start"] = result.reached_day_start
        return dg.MaterializeResult(metadata=metadata)

    return raw_scrape
