"""`reddit-assets import` looks materializations up in batches and records them all at once:
more files than one batch must each be recorded exactly once, duplicates must report what
their first file got, a rerun records nothing new, and another reader of the instance sees
none of an import's files or all of them (so the automation sensor starts one backfill)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import dagster as dg
import pytest
import yaml

from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.assets.records import BATCH_SIZE
from reddit_assets.config import AppConfig, load_config
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.migrate.importer import PROCESS_MIN_FILES, import_directory
from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.fixtures.postgres import production_storage_overrides

START = dt.date(2025, 1, 1)
NAMES = ("alpha", "beta", "gamma")


DAYS = BATCH_SIZE // len(NAMES) + 5  # more files than one lookup batch
TOTAL = DAYS * len(NAMES)


def _sources(tmp_path: Path) -> tuple[Path, AppConfig]:
    """(a folder of TOTAL raw files, one per day and subreddit; the config naming them)."""
    old = tmp_path / "old"
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        for name in NAMES:
            document = generated_raw_document(
                name, day, n_submissions=1, comments_per_submission=(0, 1), popular_threads=0
            )
            write_raw_file(old / "a" / day.isoformat() / f"{name}.json", document)
    config_path = tmp_path / "subreddits.yaml"
    config_path.write_text(
        yaml.safe_dump({"start_date": START.isoformat(), "subreddits": [{"name": n} for n in NAMES]})
    )
    return old, load_config(config_path)


def test_more_files_than_a_batch_are_each_recorded_once(tmp_path):
    old, config = _sources(tmp_path)
    data = tmp_path / "data"
    # A copy that sorts after everything else: its first file is in the last lookup batch.
    last = (START + dt.timedelta(days=DAYS - 1)).isoformat()
    copy = old / "zz" / "copy.json"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((old / "a" / last / "beta.json").read_bytes())
    assert TOTAL > BATCH_SIZE

    with dg.instance_for_test() as instance:
        report = import_directory(old, config=config, data_dir=data, instance=instance, today=dt.date(2026, 1, 1))
        firsts = [o for o in report.outcomes if o.source != copy]
        assert len(firsts) == TOTAL and report.exit_code == 0
        assert {o.status for o in firsts} == {IMPORTED}
        assert {o.recorded for o in firsts} == {"recorded"}
        duplicate = next(o for o in report.outcomes if o.source == copy)
        assert duplicate.status == PRESENT and duplicate.recorded == "recorded"

        records = instance.fetch_materializations(RAW_SCRAPE, limit=2 * TOTAL).records
        assert len(records) == TOTAL  # one per partition, none for the copy
        by_partition = {r.partition_key: r.asset_materialization.metadata for r in records}
        for outcome in firsts:
            metadata = by_partition[outcome.partition]
            assert metadata["sha256"].value == sha256_file(outcome.raw_path) == outcome.sha256
            assert metadata["path"].value == str(outcome.raw_path)
            assert metadata["submissions"].value == outcome.submissions
            assert metadata["imported_from"].value == str(outcome.source.resolve())

        again = import_directory(old, config=config, data_dir=data, instance=instance, today=dt.date(2026, 1, 1))
        assert {o.status for o in again.outcomes} == {PRESENT}
        assert {o.recorded for o in again.outcomes} == {"already recorded"}
        assert len(instance.fetch_materializations(RAW_SCRAPE, limit=2 * TOTAL).records) == TOTAL


def _recorded(instance: dg.DagsterInstance) -> int:
    return len(instance.fetch_materializations(RAW_SCRAPE, limit=TOTAL + 1).records)


def test_files_staged_in_worker_processes_get_the_outcomes_of_their_content(tmp_path):
    """A big import is staged in worker processes: bad, future, conflicting and unconfigured
    files among many good ones are reported as a small import (staged on threads) reports them."""
    old, config = _sources(tmp_path)
    assert TOTAL >= PROCESS_MIN_FILES
    odd = old / "zz"
    odd.mkdir()
    (odd / "truncated.json").write_text('{"format": "reddit_assets/raw-scrape@1", "subreddit": "alpha"')
    future = dt.date(2026, 1, 2)
    write_raw_file(odd / "future.json", generated_raw_document("alpha", future, n_submissions=1))
    write_raw_file(odd / "conflict.json", generated_raw_document("gamma", START, n_submissions=2))
    write_raw_file(odd / "unconfigured.json", generated_raw_document("delta", START, n_submissions=1))
    data = tmp_path / "data"

    with dg.instance_for_test() as instance:
        report = import_directory(old, config=config, data_dir=data, instance=instance, today=dt.date(2026, 1, 1))
    by_name = {o.source.name: o for o in report.outcomes if o.source.parent == odd}
    assert by_name["truncated.json"].status == BAD
    assert by_name["truncated.json"].reason.startswith("truncated: the JSON stops inside an unfinished value")
    assert (by_name["future.json"].status, by_name["future.json"].reason) == (
        BAD,
        "date 2026-01-02 is in the future (today is 2026-01-01)",
    )
    conflict = by_name["conflict.json"]
    assert conflict.status == CONFLICT and f"gives partition {START}|gamma different content" in conflict.reason
    unconfigured = by_name["unconfigured.json"]
    assert unconfigured.status == IMPORTED and unconfigured.recorded is None
    assert report.unconfigured == {"delta": [odd / "unconfigured.json"]}
    good = [o for o in report.outcomes if o.source.parent != odd]
    assert len(good) == TOTAL and {o.status for o in good} == {IMPORTED}
    assert all(sha256_file(o.raw_path) == o.sha256 for o in good)
    assert not list(data.glob(".import-staging-*"))  # the staging folder is gone


@pytest.mark.integration
@pytest.mark.postgres
def test_another_reader_sees_none_of_an_import_or_all_of_it(tmp_path, postgres_database):
    """What the automation sensor reads while an import runs, on the production storage: a
    tick in the middle of it must not start a backfill for part of the files."""
    old, config = _sources(tmp_path)
    with dg.instance_for_test(overrides=production_storage_overrides(postgres_database)) as instance:
        reader = dg.DagsterInstance.from_ref(instance.get_ref())
        seen: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(_recorded(reader))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            report = import_directory(
                old, config=config, data_dir=tmp_path / "data", instance=instance, today=dt.date(2026, 1, 1)
            )
        finally:
            done.set()
            watcher.join()
        seen.append(_recorded(reader))
        reader.dispose()

    assert report.exit_code == 0 and report.count(IMPORTED) == TOTAL
    assert seen[0] == 0 and seen[-1] == TOTAL
    assert set(seen) == {0, TOTAL}, f"a reader saw part of the import: {sorted(set(seen))}"
