"""`reddit-assets import` records materializations in batches: more files than one batch must
each be recorded exactly once, duplicates must report what their first file got, and a rerun
records nothing new."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import yaml

from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.assets.records import BATCH_SIZE
from reddit_assets.config import load_config
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.migrate.importer import IMPORTED, PRESENT, import_directory
from reddit_assets_demo.raw_documents import generated_raw_document

START = dt.date(2025, 1, 1)
NAMES = ("alpha", "beta", "gamma")


def test_more_files_than_a_batch_are_each_recorded_once(tmp_path):
    days = BATCH_SIZE // len(NAMES) + 5
    old, data = tmp_path / "old", tmp_path / "data"
    for i in range(days):
        day = START + dt.timedelta(days=i)
        for name in NAMES:
            document = generated_raw_document(
                name, day, n_submissions=1, comments_per_submission=(0, 1), popular_threads=0
            )
            write_raw_file(old / "a" / day.isoformat() / f"{name}.json", document)
    # Copies that sort after everything else: their first file is in the last (unflushed) batch.
    last = (START + dt.timedelta(days=days - 1)).isoformat()
    copy = old / "zz" / "copy.json"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((old / "a" / last / "beta.json").read_bytes())
    config_path = tmp_path / "subreddits.yaml"
    config_path.write_text(
        yaml.safe_dump({"start_date": START.isoformat(), "subreddits": [{"name": n} for n in NAMES]})
    )
    config = load_config(config_path)
    total = days * len(NAMES)
    assert total > BATCH_SIZE

    with dg.instance_for_test() as instance:
        report = import_directory(old, config=config, data_dir=data, instance=instance, today=dt.date(2026, 1, 1))
        firsts = [o for o in report.outcomes if o.source != copy]
        assert len(firsts) == total and report.exit_code == 0
        assert {o.status for o in firsts} == {IMPORTED}
        assert {o.recorded for o in firsts} == {"recorded"}
        duplicate = next(o for o in report.outcomes if o.source == copy)
        assert duplicate.status == PRESENT and duplicate.recorded == "recorded"

        records = instance.fetch_materializations(RAW_SCRAPE, limit=2 * total).records
        assert len(records) == total  # one per partition, none for the copy
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
        assert len(instance.fetch_materializations(RAW_SCRAPE, limit=2 * total).records) == total
