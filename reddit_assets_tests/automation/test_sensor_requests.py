"""What one tick of follow_raw_scrapes requests after an import of many partitions: a single
backfill covering them (run in ranges by the backfill policy, under the backfill concurrency
limits), not one run per partition flooding the run queue; the days' reports follow in a
later tick, once the loads and archives are done."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests

from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, RAW_SCRAPE, SUBMISSIONS
from reddit_assets.assets.records import report_materializations
from reddit_assets.automation.sensors import build_automation_sensor
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
    sensor = build_automation_sensor()
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


def test_the_days_reports_follow_the_loads_in_a_later_tick(monkeypatch, tmp_path):
    """Not in the loads' backfill: its daemon would map every day to all its partitions on each
    iteration (at a year's scale, half a core)."""
    defs = _defs(monkeypatch, tmp_path)
    selection = dg.AssetSelection.assets(SUBMISSIONS, COMMENTS, R2_ARCHIVE, DAILY_REPORT)
    with dg.instance_for_test() as instance:
        tick = _tick_after_import(defs, instance, selection)
        assert {str(k) for k in tick.get_requested_partitions(SUBMISSIONS)} == KEYS
        assert not tick.get_requested_partitions(DAILY_REPORT)

        _record(instance, [SUBMISSIONS, COMMENTS, R2_ARCHIVE])  # what the backfill's runs record
        after = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=tick.cursor
        )
        assert {str(k) for k in after.get_requested_partitions(DAILY_REPORT)} == {str(day) for day in DAYS}
        assert after.total_requested == len(DAYS)  # the loads and archives are not requested again
        requests = build_run_requests(after._requested_subsets, defs.resolve_asset_graph(), None, True)
        assert len(requests) == 1 and requests[0].requires_backfill_daemon()  # one backfill, run in ranges of days
