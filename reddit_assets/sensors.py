"""Sensors: the automation that makes loads and archives follow every raw scrape."""

from __future__ import annotations

import dagster as dg

# Like AutomationCondition.eager(), but for every date partition, not only the latest:
# a raw file scraped, imported or restored for any day is loaded and archived.
FOLLOW_RAW_SCRAPE = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("follows reddit/raw_scrape, any day")


def build_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "follow_raw_scrapes",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Loads and archives every partition whose raw file changed (scraped, imported or restored).",
    )
