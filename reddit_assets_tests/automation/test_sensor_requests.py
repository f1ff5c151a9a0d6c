"""What one tick of follow_raw_scrapes requests after an import of many partitions: a single
backfill covering them (run in ranges by the backfill policy, under the backfill concurrency
limits), not one run per partition flooding the run queue; the days' reports follow from the
other sensor, report_settled_days, once the loads and archives are done."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests

from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, RAW_SCRAPE, SUBMISSIONS
from reddit_assets.assets.records import report_materializations
from reddit_assets.automation.sensors import FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS, build_automation_sensors
from reddit_assets_tests.harness import configure

START = dt.date(2026, 1, 1)
NAMES = ["alpha", "beta", "gamma"]


DAYS = [START + dt.timedelta(days=d) for d in range(4)]
KEYS = {f"{day}|{n}" for day in DAYS for n in NAMES}


def _defs(monkeypatch, tmp_path) -> dg.Definitions:
    return configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",  # never called
        subreddits=[{"name": n} for n in NAMES],
        start_date=START.isoformat(),
        flags={"master_enabled": False},
    )


def _sensors() -> dict[str, dg.AutomationConditionSensorDefinition]:
    return {sensor.name: sensor for sensor in build_automation_sensors()}


def _record(instance: dg.DagsterInstance, asset_keys: list[dg.AssetKey]) -> None:
    """Every partition of KEYS materialized, as an import (or the runs that follow it) records them."""
    report_materializations(
        instance, [dg.AssetMaterialization(asset_key=a, partition=key) for a in asset_keys for key in sorted(KEYS)]
    )


def _tick_after_import(defs, instance, selection):
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0  # nothing imported yet
    _record(instance, [RAW_SCRAPE])
    return dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, cursor=first.cursor
    )


def test_a_tick_after_an_import_requests_one_backfill(monkeypatch, tmp_path):
    defs = _defs(monkeypatch, tmp_path)
    sensor = _sensors()[FOLLOW_RAW_SCRAPES]
    selection = dg.AssetSelection.assets(SUBMISSIONS, COMMENTS, R2_ARCHIVE)
    with dg.instance_for_test() as instance:
        tick = _tick_after_import(defs, instance, selection)
        for key in (SUBMISSIONS, COMMENTS, R2_ARCHIVE):
            assert {str(k) for k in tick.get_requested_partitions(key)} == KEYS

        # What the sensor turns those subsets into (the daemon's own function, with our sensor's setting).
        asset_graph = defs.resolve_asset_graph()
        requests = build_run_requests(tick._requested_subsets, asset_graph, None, sensor.emit_backfills)
        assert len(requests) == 1 and requests[0].requires_backfill_daemon()
        subset = requests[0].asset_graph_subset
        for key in (SUBMISSIONS, COMMENTS, R2_ARCHIVE):
            assert {str(k) for k in subset.get_partitions_subset(key).get_partition_keys()} == KEYS

        # Without backfills the same tick would start one run per partition.
        per_run = build_run_requests(tick._requested_subsets, asset_graph, None, False)
        assert len(per_run) >= len(KEYS)

        again = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=tick.cursor
        )
        assert again.total_requested == 0  # handled: not requested twice


def test_each_automated_asset_has_one_sensor_and_the_report_its_own(monkeypatch, tmp_path):
    asset_graph = _defs(monkeypatch, tmp_path).resolve_asset_graph()
    targets = {name: sensor.asset_selection.resolve(asset_graph) for name, sensor in _sensors().items()}
    assert targets[REPORT_SETTLED_DAYS] == {DAILY_REPORT}
    assert {SUBMISSIONS, COMMENTS, R2_ARCHIVE} <= targets[FOLLOW_RAW_SCRAPES]
    automated = {key for key in asset_graph.get_all_asset_keys() if asset_graph.get(key).automation_condition}
    assert automated <= targets[FOLLOW_RAW_SCRAPES] | targets[REPORT_SETTLED_DAYS]
    assert not targets[FOLLOW_RAW_SCRAPES] & targets[REPORT_SETTLED_DAYS]


def test_the_days_reports_follow_the_loads_from_their_own_sensor(monkeypatch, tmp_path):
    """Not in the loads' backfill (its daemon would map every day to all its partitions on each
    iteration: at a year's scale, half a core), and not evaluated on every loads tick."""
    defs = _defs(monkeypatch, tmp_path)
    sensors = _sensors()
    loads, reports = (sensors[name].asset_selection for name in (FOLLOW_RAW_SCRAPES, REPORT_SETTLED_DAYS))

    def tick(selection, previous):
        return dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=previous.cursor if previous else None
        )

    with dg.instance_for_test() as instance:
        loads_tick, report_tick = tick(loads, None), tick(reports, None)  # each sensor's cursor starts
        _record(instance, [RAW_SCRAPE])  # the import
        loads_tick, report_tick = tick(loads, loads_tick), tick(reports, report_tick)
        assert {str(k) for k in loads_tick.get_requested_partitions(SUBMISSIONS)} == KEYS
        assert report_tick.total_requested == 0  # the days' inputs just changed: the loads come first

        _record(instance, [SUBMISSIONS, COMMENTS, R2_ARCHIVE])  # what the loads' backfill records
        report_tick = tick(reports, report_tick)
        assert {str(k) for k in report_tick.get_requested_partitions(DAILY_REPORT)} == {str(day) for day in DAYS}
        requests = build_run_requests(report_tick._requested_subsets, defs.resolve_asset_graph(), None, True)
        assert len(requests) == 1 and requests[0].requires_backfill_daemon()  # one backfill, run in ranges of days
        assert tick(reports, report_tick).total_requested == 0  # handled: not requested twice
        assert tick(loads, loads_tick).total_requested == 0  # the loads are not requested again
