"""Wires the config file, assets, jobs and schedule into `defs`. No logic of its own."""

from __future__ import annotations

import warnings

import dagster as dg

from reddit_assets import resources
from reddit_assets.alerts import build_alerts
from reddit_assets.assets.archive import build_r2_archive
from reddit_assets.assets.checks import build_checks
from reddit_assets.assets.daily_report import build_daily_report
from reddit_assets.assets.database import build_database_tables
from reddit_assets.assets.scrape import build_raw_scrape
from reddit_assets.assets.second_pass import build_second_pass, build_second_pass_archive, build_second_pass_table
from reddit_assets.assets.second_pass_checks import build_second_pass_checks
from reddit_assets.assets.stream import build_stream_poll_job
from reddit_assets.automation.executors import build_executor
from reddit_assets.automation.jobs import build_jobs
from reddit_assets.automation.report_redraw_sensor import build_report_redraw_sensor
from reddit_assets.automation.schedule import build_daily_schedule
from reddit_assets.automation.second_pass_sensor import build_second_pass_sensor
from reddit_assets.automation.sensors import build_automation_sensors
from reddit_assets.automation.stream_schedule import build_stream_day_sensor, build_stream_schedule
from reddit_assets.config import load_config
from reddit_assets.partitions import build_partitions

# We use backfill policies and partitioned asset checks on purpose; their beta/preview
# notices would otherwise repeat in every run's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
# daily_scrape_job mixes one-partition scrapes with batched loads; one partition per run is what we want.
warnings.filterwarnings(
    "ignore", message="Asset job daily_scrape_job materializes assets with varying BackfillPolicies"
)


def build_definitions() -> dg.Definitions:
    app_config = load_config()
    partitions_def = build_partitions(app_config)
    jobs = build_jobs(app_config.flags)
    alerts = build_alerts(app_config, partitions_def)
    return dg.Definitions(
        assets=[
            build_raw_scrape(app_config, partitions_def),
            build_database_tables(partitions_def, resources.database_kind()),
            build_r2_archive(partitions_def, app_config.flags, resources.archive_store_kind()),
            build_second_pass(app_config, partitions_def),
            build_second_pass_table(partitions_def, resources.database_kind()),
            build_second_pass_archive(partitions_def, app_config.flags, resources.archive_store_kind()),
            build_daily_report(app_config, partitions_def),
        ],
        asset_checks=[*build_checks(partitions_def), *build_second_pass_checks(partitions_def), *alerts.checks],
        jobs=[*jobs, build_stream_poll_job(app_config)],
        schedules=[build_daily_schedule(app_config), build_stream_schedule(app_config)],
        sensors=[
            *build_automation_sensors(),
            build_second_pass_sensor(app_config),
            build_stream_day_sensor(app_config),
            build_report_redraw_sensor(),
            *alerts.sensors,
        ],
        resources=resources.build_resources(),
        executor=build_executor(),
    )


defs = build_definitions()
