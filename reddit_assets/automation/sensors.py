"""Sensors: the automation that makes loads and archives follow every raw scrape."""

from __future__ import annotations

import dagster as dg


def build_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "follow_raw_scrapes",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Loads and archives every partition whose raw file changed (scraped, imported or restored).",
    )
