"""Batched instance records: materializations written in batches must read back exactly like
ones written one by one with instance.report_runless_asset_event, on the local SQLite
instance and on a dagster-postgres instance."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg
import pytest
import yaml

from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.assets.records import (
    BATCH_SIZE,
    latest_materialization_metadata,
    latest_materialization_metadata_by_partition,
    report_materializations,
)


def _key(i: int) -> str:
    return f"2026-01-{i % 28 + 1:02d}|sub{i:04d}"


def _materialization(i: int, sha: str) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=RAW_SCRAPE,
        partition=_key(i),
        metadata={"sha256": sha, "bytes": i, "path": dg.MetadataValue.path(f"/data/{i}.json")},
    )


@contextlib.contextmanager
def _instance(kind: str, tmp_path: Path, request):
    if kind == "sqlite":
        with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
            yield instance
        return
    url = request.getfixturevalue("postgres_url_psycopg2")
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": {"postgres": {"postgres_url": url}}}))
    request.getfixturevalue("monkeypatch").setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_batched_materializations_read_like_single_ones(kind, tmp_path, request):
    n = BATCH_SIZE + 37  # more than one batch
    with _instance(kind, tmp_path, request) as instance:
        assert "postgres" in type(instance.event_log_storage).__module__ or kind == "sqlite"
        instance.report_runless_asset_event(_materialization(0, "single"))  # one the usual way first
        report_materializations(instance, [_materialization(i, f"first{i}") for i in range(n)])
        # A second batch re-records every third partition: the latest must win.
        report_materializations(instance, [_materialization(i, f"second{i}") for i in range(0, n, 3)])

        expected = {_key(i): f"second{i}" if i % 3 == 0 else f"first{i}" for i in range(n)}
        found = latest_materialization_metadata_by_partition(instance, RAW_SCRAPE, [*expected, "2026-02-01|absent"])
        assert {key: meta["sha256"] for key, meta in found.items()} == expected
        for i in (0, 1, n - 1):  # the one-partition lookup agrees
            assert latest_materialization_metadata(instance, RAW_SCRAPE, _key(i))["sha256"] == expected[_key(i)]
        assert found[_key(5)]["bytes"] == 5 and found[_key(5)]["path"] == "/data/5.json"

        assert set(instance.get_materialized_partitions(RAW_SCRAPE)) == set(expected)
        latest = instance.get_latest_materialization_event(RAW_SCRAPE)
        assert latest.asset_materialization.partition == _key(max(range(0, n, 3)))
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW_SCRAPE, asset_partitions=[_key(3)]), limit=10
        ).records
        assert [r.asset_materialization.metadata["sha256"].value for r in records] == ["second3", "first3"]
        assert all(r.run_id == "" for r in records)  # runless, as report_runless_asset_event records them
        # Storage ids grow in write order, so cursors (the automation sensor's) see every event once.
        all_records = instance.fetch_materializations(RAW_SCRAPE, limit=10 * n, ascending=True).records
        assert len(all_records) == 1 + n + len(range(0, n, 3))
        assert [r.storage_id for r in all_records] == sorted({r.storage_id for r in all_records})


def test_lookup_pages_through_many_materializations_per_partition(tmp_path, request):
    with _instance("sqlite", tmp_path, request) as instance:
        for round_ in range(4):  # 4 per partition: more than one page of 2 x partitions
            report_materializations(instance, [_materialization(i, f"r{round_}-{i}") for i in range(6)])
        report_materializations(instance, [_materialization(9, "only")])
        found = latest_materialization_metadata_by_partition(instance, RAW_SCRAPE, [_key(i) for i in (*range(6), 9)])
    assert {key: meta["sha256"] for key, meta in found.items()} == {
        **{_key(i): f"r3-{i}" for i in range(6)},
        _key(9): "only",
    }


def test_nothing_to_write_or_look_up(tmp_path, request):
    with _instance("sqlite", tmp_path, request) as instance:
        report_materializations(instance, [])
        assert latest_materialization_metadata_by_partition(instance, RAW_SCRAPE, []) == {}
        assert instance.get_latest_materialization_event(RAW_SCRAPE) is None
