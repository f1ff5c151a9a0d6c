"""Stream automation: stream_poll_schedule keeps polling continuous; stream_day_sensor builds each
stream subreddit's day once it is over.

The schedule looks every minute and requests a run only when none is queued or running, so
runs follow each other without overlapping; the pause between two runs (at most a minute and
a run's start-up) is recovered by the next run's first poll, which pages back until it meets
what the last recorded poll saw.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.assets.stream import STREAM_POLL_JOB, stream_listings
from reddit_assets.automation.jobs import DAILY_SCRAPE_JOB
from reddit_assets.config import AppConfig, SubredditConfig
from reddit_assets.files.paths import data_dir
from reddit_assets.partitions import partition_key
from reddit_assets.stream.day import READ_AFTER_END
from reddit_assets.stream.merge import DayBounds
from reddit_assets.stream.records import record_files

_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Days ended this long ago are still looked at: a sensor paused over a weekend catches up.
LOOK_BACK_DAYS = 3


def _running(app_config: AppConfig) -> bool:
    return app_config.flags.master_enabled and bool(app_config.stream_entries)


def build_stream_schedule(app_config: AppConfig) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="stream_poll_schedule",
        job_name=STREAM_POLL_JOB,
        cron_schedule="* * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING if _running(app_config) else dg.DefaultScheduleStatus.STOPPED,
    )
    def stream_poll_schedule(context: dg.ScheduleEvaluationContext):
        """A stream_poll_job run whenever none is queued or running."""
        if not app_config.stream_entries:
            return dg.SkipReason("no subreddit has category 'stream'")
        unfinished = context.instance.get_run_records(
            filters=dg.RunsFilter(job_name=STREAM_POLL_JOB, statuses=_UNFINISHED), limit=1
        )
        if unfinished:
            return dg.SkipReason(f"run {unfinished[0].dagster_run.run_id} is still polling")
        return dg.RunRequest()

    return stream_poll_schedule


def polled_between(root: Path, entry: SubredditConfig, since: float, until: float) -> bool:
    """Whether every listing of `entry` has a recorded poll started in [since, until)."""
    start, end = (dt.datetime.fromtimestamp(t, dt.UTC) for t in (since, until))
    files = record_files(root, entry.name, start, end)
    low, high = (t.strftime("%Y%m%dT%H%M%S.%f") for t in (start, end))
    return all(
        any(p.name.startswith(f"{listing}-") and low <= p.name[len(listing) + 1 :] < high for p in files)
        for listing in stream_listings(entry)
    )


def days_to_build(app_config: AppConfig, root: Path, now: float) -> list[tuple[dt.date, str]]:
    """(day, subreddit) of stream days that are over, were polled, and have a poll after their
    end for every listing, or ended READ_AFTER_END ago (built with their gaps: polling stopped).
    Days no poll saw (before the subreddit was added) are not built."""
    tz = app_config.schedule.timezone
    today = dt.datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    after = READ_AFTER_END.total_seconds()
    ready = []
    for back in range(LOOK_BACK_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if day < app_config.start_date:
            continue
        bounds = DayBounds.of(day, tz)
        for entry in app_config.stream_entries:
            if polled_between(root, entry, bounds.start, bounds.end) and (
                now - bounds.end >= after or polled_between(root, entry, bounds.end, bounds.end + after)
            ):
                ready.append((day, entry.name))
    return ready


def build_stream_day_sensor(app_config: AppConfig) -> dg.SensorDefinition:
    @dg.sensor(
        name="stream_day_sensor",
        job_name=DAILY_SCRAPE_JOB,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING if _running(app_config) else dg.DefaultSensorStatus.STOPPED,
    )
    def stream_day_sensor(context: dg.SensorEvaluationContext):
        """Scrapes (merges from the poll records), loads and archives each stream subreddit's day
        once it is over and polls after its end exist; once per day (run key)."""
        ready = days_to_build(app_config, data_dir(), time.time())
        if not ready:
            return dg.SkipReason("no stream day has ended with a poll after its end")
        for day, name in ready:
            key = partition_key(day, name)
            yield dg.RunRequest(run_key=f"stream-day:{key}", partition_key=key)

    return stream_day_sensor
