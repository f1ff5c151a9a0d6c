"""What one tick of follow_raw_scrapes requests after an import of many partitions: a single
backfill covering them (run in ranges by the backfill policy, under the backfill concurrency
limits), not one run per partition flooding the run queue."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests

from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, RAW_SCRAPE, SUBMISSIONS
from reddit_assets.assets.records import report_materializations
from reddit_assets.automation.sensors import build_automation_sensor
from reddit_assets_tests.harness import configure

START = dt.date(2026, 1, 1)
NAMES = ["alpha", "beta", "gamma"]


def test_a_tick_after_an_import_requests_one_backfill(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",  # never called
        subreddits=[{"name": n} for n in NAMES],
        start_date=START.isoformat(),
        flags={"master_enabled": False},
    )
    sensor = build_automation_sensor()
    selection = dg.AssetSelection.assets(SUBMISSIONS, COMMENTS, R2_ARCHIVE)
    keys = {f"{START + dt.timedelta(days=d)}|{n}" for d in range(4) for n in NAMES}
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
        assert first.total_requested == 0  # nothing imported yet
        report_materializations(
            instance, [dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=key) for key in sorted(keys)]
        )
        tick = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=first.cursor
        )
        for key in (SUBMISSIONS, COMMENTS, R2_ARCHIVE):
            assert {str(k) for k in tick.get_requested_partitions(key)} == keys

        # What the sensor turns those subsets into (the daemon's own function, with our sensor's setting).
        asset_graph = defs.resolve_asset_graph()
        requests = build_run_requests(tick._requested_subsets, asset_graph, None, sensor.emit_backfills)
        assert len(requests) == 1 and requests[0].requires_backfill_daemon()
        subset = requests[0].asset_graph_subset
        for key in (SUBMISSIONS, COMMENTS, R2_ARCHIVE):
            assert {str(k) for k in subset.get_partitions_subset(key).get_partition_keys()} == keys

        # Without backfills the same tick would start one run per partition.
        per_run = build_run_requests(tick._requested_subsets, asset_graph, None, False)
        assert len(per_run) >= len(keys)

        again = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=tick.cursor
        )
        assert again.total_requested == 0  # handled: not requested twice
