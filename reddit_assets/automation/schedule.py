"""The daily schedule: the seed's Celery beat entry at 23:30."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.automation.jobs import DAILY_SCRAPE_JOB
from reddit_assets.config import AppConfig
from reddit_assets.partitions import partition_key


def build_daily_schedule(app_config: AppConfig) -> dg.ScheduleDefinition:
    tz = app_config.schedule.timezone

    @dg.schedule(
        name="daily_scrape_schedule",
        job_name=DAILY_SCRAPE_JOB,
        cron_schedule=app_config.schedule.cron,
        execution_timezone=tz,
        default_status=(
            dg.DefaultScheduleStatus.RUNNING if app_config.flags.master_enabled else dg.DefaultScheduleStatus.STOPPED
        ),
    )
    def daily_scrape_schedule(context: dg.ScheduleEvaluationContext):
        """One run per configured subreddit for the day the tick falls on (stream subreddits'
        days are built once they are over, by stream_day_sensor)."""
        day = context.scheduled_execution_time.astimezone(ZoneInfo(tz)).date()
        for entry in app_config.subreddits:
            if entry.is_stream:
                continue
            key = partition_key(day, entry.name)
            yield dg.RunRequest(run_key=str(key), partition_key=key)

    return daily_scrape_schedule
