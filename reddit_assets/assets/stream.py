"""Stream subreddits in Dagster: `stream_poll_job` (the polls) and a stream partition of reddit/raw_scrape."""

import datetime as dt
import time

import dagster as dg

from reddit_assets.assets.declarations import REDDIT_POOL
from reddit_assets.config import AppConfig, SubredditConfig
from reddit_assets.files.atomic import DiskWriteError
from reddit_assets.files.preview import top_posts_markdown
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.storage.raw_files_resource import RawFilesResource
from reddit_assets.stream.day import merge_recorded_day, stream_document
from reddit_assets.stream.merge import uncovered_seconds
from reddit_assets.stream.poller import COMMENTS, NEW, SystemClock, run_polls
from reddit_assets.stream.records import PollRecordError, last_seen_ids, write_poll

STREAM_POLL_JOB = "stream_poll_job"


def stream_listings(entry: SubredditConfig) -> tuple[str, ...]:
    """The listings a stream entry polls: `/new`, and `/comments` unless comments are `none`."""
    return (NEW, COMMENTS) if entry.comments != "none" else (NEW,)


def stream_targets(app_config: AppConfig) -> list[tuple[str, str]]:
    """(subreddit, listing) of every stream entry."""
    return [(entry.name, listing) for entry in app_config.stream_entries for listing in stream_listings(entry)]


def build_stream_poll_job(app_config: AppConfig) -> dg.JobDefinition:
    settings = app_config.stream
    targets = stream_targets(app_config)

    @dg.op(name="stream_poll", pool=REDDIT_POOL)
    def stream_poll(context: dg.OpExecutionContext, reddit: RedditResource, raw_files: RawFilesResource) -> None:
        """Poll every stream subreddit's `/new` and `/comments` every `stream.poll_seconds` for
        `stream.run_minutes`, keeping each poll in `<data_dir>/stream/` as soon as it is done."""
        stats = RequestStats()
        clock = SystemClock()
        polls = run_polls(
            reddit.client(stats),
            targets,
            previous=lambda name, listing: last_seen_ids(raw_files.data_dir, name, listing, clock.now()),
            record=lambda poll: write_poll(raw_files.data_dir, poll),
            poll_seconds=settings.poll_seconds,
            run_seconds=settings.run_minutes * 60,
            stats=stats,
            clock=clock,
            warn=context.log.warning,
        )
        context.log.info(
            f"{polls} polls of {len(targets)} listings, {stats.requests} requests, {stats.rate_limited} 429s"
        )

    @dg.job(
        name=STREAM_POLL_JOB,
        description="Poll the stream subreddits for stream.run_minutes; stream_poll_schedule starts the next run.",
        tags={"stream": "poll"},
    )
    def stream_poll_job():
        stream_poll()

    return stream_poll_job


def materialize_stream_day(
    app_config: AppConfig, entry: SubredditConfig, date: dt.date, raw_files: RawFilesResource
) -> dg.MaterializeResult:
    """A stream partition's raw file merged from the poll records; never calls Reddit."""
    now = time.time()
    try:
        merged = merge_recorded_day(
            raw_files.data_dir, entry, date, app_config.schedule.timezone, app_config.stream, now
        )
    except PollRecordError as exc:
        raise dg.Failure(f"{exc} (not retried)", allow_retries=False) from None
    document = stream_document(entry, date, merged)
    try:
        written = write_raw_file(raw_files.raw_path(date, entry.name), document)
    except DiskWriteError as exc:
        raise dg.Failure(f"{exc} (not retried)", allow_retries=False) from None
    coverage = merged.coverage
    return dg.MaterializeResult(
        metadata={
            "submissions": len(merged.submissions),
            "comments": len(merged.comments),
            "api_requests": merged.api_requests,
            "rate_limited": merged.rate_limited,
            "bytes": written.size,
            "sha256": written.sha256,
            "path": dg.MetadataValue.path(str(written.path)),
            "coverage_complete": coverage["complete"],
            "coverage_polls": coverage["polls"],
            "coverage_gaps": len(coverage["gaps"]),
            "minutes_uncovered": round(uncovered_seconds(coverage) / 60, 1),
            "top_posts": dg.MetadataValue.md(top_posts_markdown(merged.submissions)),
        }
    )
