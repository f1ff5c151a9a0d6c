"""The sensor that redraws the later days' pictures once a past day's report changed.

A day's report draws its last 30 days. When a past day changes (an import, a restore, a
load that failed and ran again, a backfill), the report's automation condition reports
that day again, but the reports of the 29 days after it still picture it as it was, the
newest one (the page a user opens) included. This sensor follows every report made by
anything but itself and reports again each later day whose report was drawn before that
change: one run per range of consecutive days. Its own runs carry REDRAW_TAG, so a redraw
does not set off another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from reddit_assets.assets.daily_report import DAILY_REPORT, GRID_DAYS, REPORT_DAYS_PER_RUN
from reddit_assets.dagster_private import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

SENSOR_NAME = "redraw_later_pictures"
REDRAW_TAG = "reddit_assets/redraw"
# Report materializations read per tick; the rest wait for the next tick (a year is 365).
# A day reported again after a cut batch looks drawn before it: at worst one redraw too many.
RECORDS_PER_TICK = 2_000


@dataclass(frozen=True)
class Drawn:
    """One report materialization: its day, event-log position and run."""

    day: dt.date
    storage_id: int
    run_id: str
    redraw: bool


def days_to_redraw(new: Iterable[Drawn], reported: set[dt.date], window: int = GRID_DAYS) -> list[dt.date]:
    """Reported days whose picture shows a day reported anew (not by a redraw) and was drawn
    before it. `new` are the report materializations since the last tick, oldest first: a day
    with none of them was drawn before all of them; one drawn in the same run is up to date."""
    new = list(new)
    latest: dict[dt.date, Drawn] = {}
    for drawn in new:
        latest[drawn.day] = drawn
    stale: set[dt.date] = set()
    for changed in new:
        if changed.redraw:
            continue
        for n in range(1, window):
            day = changed.day + dt.timedelta(days=n)
            last = latest.get(day)
            if day in reported and (
                last is None or (last.storage_id < changed.storage_id and last.run_id != changed.run_id)
            ):
                stale.add(day)
    return sorted(stale)


def day_ranges(days: list[dt.date], most: int = REPORT_DAYS_PER_RUN) -> list[tuple[dt.date, dt.date]]:
    """Sorted `days` as ranges of consecutive days, each at most `most` days long."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1) and (day - ranges[-1][0]).days < most:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _new_reports(instance: dg.DagsterInstance, after: int) -> list[Drawn]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_REPORT, after_storage_id=after), limit=RECORDS_PER_TICK, ascending=True
    ).records
    tags: Mapping[str, Mapping[str, str]] = {
        run_id: (run.tags if (run := instance.get_run_by_id(run_id)) else {}) for run_id in {r.run_id for r in records}
    }
    return [
        Drawn(dt.date.fromisoformat(r.partition_key), r.storage_id, r.run_id, REDRAW_TAG in tags[r.run_id])
        for r in records
        if r.partition_key
    ]


def build_report_redraw_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        target=[DAILY_REPORT],
        minimum_interval_seconds=120,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Reports again the days whose {GRID_DAYS}-day picture shows a day that was reported anew "
            "since they were drawn (an import, a restore or a backfill of a past day), one run per range of days."
        ),
    )
    def redraw_later_pictures(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        new = _new_reports(context.instance, int(context.cursor or 0))
        if not new:
            return dg.SensorResult(skip_reason=dg.SkipReason("no day was reported since the last tick"))
        reported = {dt.date.fromisoformat(key) for key in context.instance.get_materialized_partitions(DAILY_REPORT)}
        requests = [
            dg.RunRequest(
                asset_selection=[DAILY_REPORT],
                tags={
                    REDRAW_TAG: "true",
                    ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
                    ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
                },
            )
            for first, last in day_ranges(days_to_redraw(new, reported))
        ]
        return dg.SensorResult(
            run_requests=requests,
            cursor=str(new[-1].storage_id),
            skip_reason=None if requests else dg.SkipReason("every later picture is up to date"),
        )

    return redraw_later_pictures
