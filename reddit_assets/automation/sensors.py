"""Sensors: the automation that makes loads and archives follow every raw scrape, and the
daily reports follow them."""

from __future__ import annotations

import dagster as dg

from reddit_assets.assets.daily_report import DAILY_REPORT

FOLLOW_RAW_SCRAPES = "follow_raw_scrapes"
REPORT_SETTLED_DAYS = "report_settled_days"
# Dagster's default. Shorter costs the daemon CPU at a year's scale (ticks of 0.8 s, up to 15 s
# while a year is loaded) for a latency nobody archiving daily notices.
FOLLOW_RAW_SCRAPES_INTERVAL_S = 30


def build_automation_sensors() -> list[dg.AutomationConditionSensorDefinition]:
    """Two sensors, so that the report's conditions are not evaluated on every loads tick.

    At a year's scale (36,500 partitions) each evaluation of the report maps its 365 days to
    every partition of its deps; inside the loads' sensor that made each 30 s tick cost up to
    29 s while a year was processed. A report can wait a few minutes; the loads should not.
    """
    return [
        dg.AutomationConditionSensorDefinition(
            FOLLOW_RAW_SCRAPES,
            target=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_REPORT),
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=FOLLOW_RAW_SCRAPES_INTERVAL_S,
            # Dagster's default, kept on purpose: a tick that requests several partitions (an import
            # of a year is 36,500) starts ONE backfill, which runs them in ranges under the backfill
            # policy and the `dagster/backfill` run limits, instead of a run per partition.
            emit_backfills=True,
            description="Loads and archives every partition whose raw file changed (scraped, imported or restored).",
        ),
        dg.AutomationConditionSensorDefinition(
            REPORT_SETTLED_DAYS,
            target=dg.AssetSelection.assets(DAILY_REPORT),
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=120,
            emit_backfills=True,
            description="Reports a day again once its partitions changed and nothing of them is running.",
        ),
    ]
