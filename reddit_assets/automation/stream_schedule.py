"""stream_poll_schedule: starts the next stream_poll_job run as soon as the last one ended.

It looks every minute and requests a run only when none is queued or running, so runs
follow each other without overlapping; the pause between two runs (at most a minute and a
run's start-up) is recovered by the next run's first poll, which pages back until it meets
what the last recorded poll saw.
"""

from __future__ import annotations

import dagster as dg

from reddit_assets.assets.stream import STREAM_POLL_JOB
from reddit_assets.config import AppConfig

_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def build_stream_schedule(app_config: AppConfig) -> dg.ScheduleDefinition:
    running = app_config.flags.master_enabled and bool(app_config.stream_entries)

    @dg.schedule(
        name="stream_poll_schedule",
        job_name=STREAM_POLL_JOB,
        cron_schedule="* * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
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
