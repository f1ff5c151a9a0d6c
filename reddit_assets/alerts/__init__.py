"""Alerts: run failures and stale subreddits, posted to a webhook; the check and sensors that do it."""

from typing import NamedTuple

import dagster as dg

from reddit_assets.alerts.failure import build_pending_alerts_sensor, build_run_failure_alert
from reddit_assets.alerts.freshness import build_freshness_check, build_freshness_sensor
from reddit_assets.config import AppConfig


class Alerts(NamedTuple):
    checks: list[dg.AssetChecksDefinition]
    sensors: list[dg.SensorDefinition]


def build_alerts(app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition) -> Alerts:
    return Alerts(
        checks=[build_freshness_check(app_config, partitions_def)],
        sensors=[
            build_run_failure_alert(),
            build_pending_alerts_sensor(),
            build_freshness_sensor(app_config, partitions_def),
        ],
    )
