"""Asset checks fail when the raw file, the rows or the archive are not what was recorded."""

import zipfile

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.partitions import partition_key
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, run_job

pytestmark = pytest.mark.integration

TODAY = utc_today()


def _run_checks(defs, instance):
    """Run only the asset checks for the partition.

    A job of checks alone cannot infer its partitions, so a no-op asset with the same
    partitions rides along to give the run its partition key.
    """
    repo = defs.get_repository_def()
    partitions_def = repo.assets_defs_by_key[dg.AssetKey(["reddit", "raw_scrape"])].partitions_def

    @dg.asset(partitions_def=partitions_def)
    def partition_probe():
        return None

    result = dg.materialize(
        [partition_probe, *repo.assets_defs_by_key.values(), *repo.asset_checks_defs_by_key.values()],
        selection=dg.AssetSelection.assets(partition_probe) | dg.AssetSelection.all_asset_checks(),
        partition_key=partition_key(TODAY, "checked"),
        instance=instance,
        raise_on_error=False,
    )
    return {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture
def materialized(monkeypatch, tmp_path, reddit_server):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "checked", "n_results": 6}]
    )
    with dg.instance_for_test() as instance:
        assert run_job(defs, "daily_scrape_job", TODAY, "checked", instance).success
        yield defs, instance, tmp_path / "data"


def test_all_checks_pass_on_untouched_data(materialized):
    defs, instance, _ = materialized
    checks = _run_checks(defs, instance)
    assert {passed for (asset, _), passed in checks.items() if not asset.startswith("second_pass")} == {True}
    # Today has no second pass yet (it becomes possible 36 h after the day ends): its checks say so.
    assert checks[("second_pass", "covers_raw_file")] is False


def test_edited_raw_file_fails_its_check(materialized):
    defs, instance, data = materialized
    raw = data / "scrapes" / TODAY.isoformat() / "checked.json"
    raw.write_text(raw.read_text().replace('"score":', '"score": ', 1))
    checks = _run_checks(defs, instance)
    assert checks[("raw_scrape", "raw_file_matches_counts")] is False


def test_missing_rows_fail_the_row_check(materialized):
    defs, instance, data = materialized
    engine = sa.create_engine(f"sqlite:///{data / 'reddit.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM reddit_comments WHERE id IN (SELECT id FROM reddit_comments LIMIT 1)"))
    engine.dispose()
    checks = _run_checks(defs, instance)
    assert checks[("comments", "rows_match_raw_file")] is False
    assert checks[("submissions", "rows_match_raw_file")] is True


def test_tampered_archive_fails_its_check(materialized):
    defs, instance, data = materialized
    [stored] = list((data / "r2" / "daily_scrapes").rglob("*.zip"))
    with zipfile.ZipFile(stored, "a") as zf:
        zf.writestr("extra.txt", "not in the manifest")
    checks = _run_checks(defs, instance)
    assert checks[("r2_archive", "archive_matches_manifest")] is False


def test_row_check_fails_with_the_reason_when_the_raw_file_is_gone(materialized):
    defs, instance, data = materialized
    (data / "scrapes" / TODAY.isoformat() / "checked.json").unlink()
    checks = _run_checks(defs, instance)
    assert checks[("submissions", "rows_match_raw_file")] is False
    assert checks[("comments", "rows_match_raw_file")] is False
    assert checks[("raw_scrape", "raw_file_matches_counts")] is False
