"""reddit/daily_report: per day, what every configured subreddit has scraped, loaded and archived."""

import datetime as dt

import dagster as dg

from reddit_assets.assets.declarations import OWNERS
from reddit_assets.assets.partition_results import (
    attach_partition_metadata,
    mark_unfinished_partitions,
    materialize_finished_partitions,
)
from reddit_assets.config import AppConfig
from reddit_assets.partitions import DATE_DIM
from reddit_assets.report.branches import BRANCHES
from reddit_assets.report.gather import DayReport, gather
from reddit_assets.report.picture import markdown_image, render_html, render_svg, status_line
from reddit_assets.report.store import report_path, write_html
from reddit_assets.report.text import render_markdown, summary_line
from reddit_assets.report.today import today_for
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource

DAILY_REPORT = dg.AssetKey(["reddit", "daily_report"])
GRID_DAYS = 30
REPORT_DAYS_PER_RUN = 100

# A day is reported again whenever any of its partitions changed, once nothing of it is
# running or about to be requested. Missing partitions do not hold it back: a snapshot
# category's past days stay missing for good, and the report says so.
# "About to be requested" is read on the partitions' own inputs: `will_be_requested` is empty
# for a dep of another partitioning (it only sees what can run in the report's own run), so
# the report joined the loads' backfill, whose daemon then mapped its 365 days to 36,500
# partitions on every iteration of a year's backfill. Now it follows in a later tick.
SETTLED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.any_deps_updated())
    & ~dg.AutomationCondition.in_progress()
).with_label("the day's partitions changed and have settled")


def grid_dates(date: dt.date, start: dt.date, days: int = GRID_DAYS) -> list[dt.date]:
    """The picture's days: `date` and the days before it, at most `days`, none before `start`."""
    return [d for d in (date - dt.timedelta(days=n) for n in range(days - 1, -1, -1)) if d >= start]


def build_daily_report(app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition) -> dg.AssetsDefinition:
    by_date = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=DATE_DIM)
    # The branches a day's completeness depends on; the second pass shows in the report made after it.
    deps = [
        dg.AssetDep(asset_key, partition_mapping=by_date)
        for branch in BRANCHES
        if branch.counted
        for asset_key in branch.assets
    ]

    @dg.asset(
        key=DAILY_REPORT,
        deps=deps,
        partitions_def=partitions_def.get_partitions_def_for_dimension(DATE_DIM),
        group_name="report",
        kinds={"html", "svg"},
        owners=OWNERS,
        automation_condition=SETTLED,
        # A backfill of many days (after a year's import, every day settles at once) runs in
        # ranges that read the instance once for all their days, not a run per day (a day's
        # 30-day picture of 100 subreddits reads 3,000 partitions: 12 s, for each of 365 runs).
        # At most REPORT_DAYS_PER_RUN days, so a run's memory stays bounded.
        backfill_policy=dg.BackfillPolicy.multi_run(REPORT_DAYS_PER_RUN),
    )
    def daily_report(
        context: dg.AssetExecutionContext,
        raw_files: RawFilesResource,
        database: DatabaseResource,
    ):
        """Per configured subreddit for one day: scraped (submissions, comments, API requests,
        429 waits, late snapshot, reached_day_start), loaded (rows per table, compared with the
        database), archived (object key, uploaded or kept locally, bytes), the checks' status,
        and for a partition without data why: not run yet, failed (with the run), or cannot be
        scraped any more. Metadata: the day's totals (one point per day in the plots), the table,
        and a subreddit x day picture of the last 30 days; the same as an HTML page in
        `<data_dir>/reports/`."""
        dates = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
        store = database.store()
        windows = {date: grid_dates(date, app_config.start_date) for date in dates}
        days = {day for window in windows.values() for day in window}
        counts = store.counts_by_partition(days)
        gathered = gather(
            context.instance,
            app_config,
            days,
            today=today_for(app_config),
            row_counts=lambda date, name: counts.get((date, name), (0, 0)),
        )
        by_date = {day.date: day for day in gathered}
        done: dict[str, dict] = {}
        try:
            for date in dates:
                done[date.isoformat()] = _report(raw_files, [by_date[d] for d in windows[date]], context.log)
        except Exception:
            yield from materialize_finished_partitions(context, DAILY_REPORT, done)
            unfinished = [key for key in context.partition_keys if key not in done]
            mark_unfinished_partitions(context, (DAILY_REPORT,), unfinished)
            raise
        attach_partition_metadata(context, DAILY_REPORT, done)
        yield dg.MaterializeResult(asset_key=DAILY_REPORT)

    return daily_report


def _report(raw_files: RawFilesResource, days: list[DayReport], log: dg.DagsterLogManager) -> dict:
    """Write the last day's HTML page and return its materialization's metadata; `days` are
    the picture's days, the reported day last."""
    day = days[-1]
    page = write_html(report_path(raw_files.data_dir, day.date), render_html(days, [day]))
    log.info(summary_line(day))
    return {
        **day.totals(),
        "subreddits": len(day.rows),
        "complete": day.complete,
        # Dagster's UI shows Markdown under 1000 characters inline, longer behind "[Show Markdown]".
        "status": dg.MetadataValue.md(status_line(day)),
        "picture": dg.MetadataValue.md(
            markdown_image(render_svg(days, titles=False), f"subreddit x day status, {days[0].date} to {day.date}")
        ),
        "report": dg.MetadataValue.md(render_markdown(day)),
        "html": dg.MetadataValue.path(str(page)),
    }
