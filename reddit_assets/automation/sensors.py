"""Sensors: the automation that makes loads and archives follow every raw scrape."""

from __future__ import annotations

import dagster as dg


def build_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "follow_raw_scrapes",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        # Dagster's default, kept on purpose: a tick that requests several partitions (an import
        # of a year is 36,500) starts ONE backfill, which runs them in ranges under the backfill
        # policy and the `dagster/backfill` run limits, instead of a run per partition.
        emit_backfills=True,
        description="Loads and archives every partition whose raw file changed (scraped, imported or restored).",
    )
