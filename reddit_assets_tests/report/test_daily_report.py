"""reddit/daily_report and `reddit-assets status` over a real instance: today's partitions
scraped with real PRAW against the Reddit-compatible server, one failing, past days that
cannot be scraped any more, and one day not run yet."""

import datetime as dt
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster import AssetPartitionStatus

from reddit_assets import resources
from reddit_assets.assets.daily_report import DAILY_REPORT, REPORT_DAYS_PER_RUN
from reddit_assets.config import load_config
from reddit_assets.report.branches import BRANCHES
from reddit_assets.report.gather import CHECK_KEYS_PER_QUERY, _check_statuses, gather
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import CLI, configure, run_job

pytestmark = pytest.mark.integration

TODAY = utc_today()
YESTERDAY = TODAY - dt.timedelta(days=1)
SUBREDDITS = [
    {"name": "CreditCardsIndia", "category": "t", "n_results": 10, "comments": 2},
    {"name": "python", "category": "new", "n_results": 8, "comments": "none"},
    {"name": "gonesub", "category": "hot", "n_results": 5},
]


@pytest.fixture
def scraped(monkeypatch, tmp_path, reddit_server):
    """Today: CreditCardsIndia complete, python not run yet, gonesub failed (banned)."""
    home = tmp_path / "home"
    home.mkdir()
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        subreddits=SUBREDDITS,
        start_date=str(YESTERDAY),
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert run_job(defs, "daily_scrape_job", TODAY, "CreditCardsIndia", instance).success
        failed = run_job(defs, "daily_scrape_job", TODAY, "gonesub", instance)
        assert not failed.success
        yield defs, instance, failed.run_id


def _materialize_report(defs, instance, date):
    return dg.materialize(
        [defs.get_assets_def(DAILY_REPORT)],
        partition_key=str(date),
        instance=instance,
        resources=resources.build_resources(),
    )


def test_report_gives_every_subreddit_its_numbers_or_why_not(scraped):
    defs, instance, failed_run = scraped
    config = load_config()
    yesterday, today = gather(instance, config, [YESTERDAY, TODAY], today=TODAY)
    rows = {row.subreddit: row for row in today.rows}

    done = rows["CreditCardsIndia"]
    assert done.state == "complete"
    assert done.value("submissions") == 10 and done.value("api_requests") > 0
    assert done.value("submission_rows") == 10 and done.value("uploaded") is True
    assert done.value("object_key") == f"daily_scrapes/CreditCardsIndia/{TODAY}/CreditCardsIndia_{TODAY}.zip"
    assert set(done.checks.values()) == {"succeeded"}, done.checks

    assert rows["python"].state == "not run yet"
    assert rows["python"].cells["scraped"].reason == "not run yet"
    gone = rows["gonesub"]
    assert gone.state == "failed" and gone.cells["scraped"].run_id == failed_run
    assert gone.cells["scraped"].reason == f"failed in run {failed_run}"
    assert gone.cells["loaded"].reason == f"not run: the raw scrape failed in run {failed_run}"

    past = {row.subreddit: row for row in yesterday.rows}
    assert past["CreditCardsIndia"].state == "cannot be scraped any more"
    assert "'top' is a snapshot of Reddit now" in past["CreditCardsIndia"].cells["scraped"].reason
    assert past["gonesub"].state == "cannot be scraped any more"
    assert past["python"].state == "not run yet"  # `new` can still page back to a past day
    assert not today.complete and today.count("complete") == 1


def test_report_asset_records_the_days_totals_table_and_picture(scraped, tmp_path):
    defs, instance, _ = scraped
    assert _materialize_report(defs, instance, TODAY).success
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_REPORT, asset_partitions=[str(TODAY)]),
        limit=1,
    ).records[0]
    metadata = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    raw = (
        instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(["reddit", "raw_scrape"]),
                asset_partitions=[f"{TODAY}|CreditCardsIndia"],
            ),
            limit=1,
        )
        .records[0]
        .asset_materialization.metadata
    )
    assert metadata["submissions"] == 10 and metadata["comments"] == raw["comments"].value
    assert metadata["api_requests"] == raw["api_requests"].value
    assert metadata["submission_rows"] == 10 and metadata["comment_rows"] == raw["comments"].value
    assert metadata["partitions_complete"] == 1 and metadata["partitions_failed"] == 1
    assert metadata["partitions_not_run"] == 1 and metadata["complete"] is False
    assert "| CreditCardsIndia | top | complete | 10 submissions," in metadata["report"]
    assert (
        metadata["picture"].startswith("![subreddit x day status")
        and "data:image/svg+xml;base64," in metadata["picture"]
    )
    page = tmp_path / "data" / "reports" / f"daily_report_{TODAY}.html"
    assert metadata["html"] == str(page) and "<svg" in page.read_text()


def test_check_results_of_many_partitions_are_read_whole_and_picked_out(scraped):
    """More keys than one query takes (a year's reports) give what the same keys give asked one by one."""
    _, instance, _ = scraped
    keys = [f"{day}|{s['name']}" for day in (YESTERDAY, TODAY) for s in SUBREDDITS]
    few = _check_statuses(instance, BRANCHES, keys)
    assert "succeeded" in few.values() and "planned" in few.values()  # CreditCardsIndia done, gonesub failed
    absent = [f"{TODAY}|absent{i}" for i in range(CHECK_KEYS_PER_QUERY)]
    assert _check_statuses(instance, BRANCHES, keys + absent) == few
    one = f"{TODAY}|CreditCardsIndia"  # read whole, then only the keys asked for
    assert _check_statuses(instance, BRANCHES, [one] + absent) == {k: v for k, v in few.items() if k[1] == one}


def _report_metadata(instance, date) -> tuple[str, dict]:
    """(run id, metadata values) of the day's latest report."""
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_REPORT, asset_partitions=[str(date)]), limit=1
    ).records[0]
    return record.run_id, {k: v.value for k, v in record.asset_materialization.metadata.items()}


def _materialize_days(defs, instance, first, last):
    """One run over first..last, as a backfill makes it under the asset's policy."""
    return dg.materialize(
        [defs.get_assets_def(DAILY_REPORT)],
        instance=instance,
        resources=resources.build_resources(),
        tags={"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)},
        raise_on_error=False,
    )


def test_one_run_reports_many_days_each_with_its_own_metadata(scraped, tmp_path):
    defs, instance, _ = scraped
    assert defs.get_assets_def(DAILY_REPORT).backfill_policy == dg.BackfillPolicy.multi_run(REPORT_DAYS_PER_RUN)
    assert _materialize_report(defs, instance, TODAY).success
    _, alone = _report_metadata(instance, TODAY)

    result = _materialize_days(defs, instance, YESTERDAY, TODAY)
    assert result.success
    run_today, today = _report_metadata(instance, TODAY)
    run_yesterday, yesterday = _report_metadata(instance, YESTERDAY)
    assert run_today == run_yesterday == result.run_id
    assert today == alone  # the same report as a run of that day alone
    assert (today["partitions_complete"], today["partitions_failed"], today["partitions_not_run"]) == (1, 1, 1)
    assert yesterday["partitions_complete"] == 0 and yesterday["subreddits"] == 3
    assert yesterday["html"] == str(tmp_path / "data" / "reports" / f"daily_report_{YESTERDAY}.html")
    assert "<svg" in Path(yesterday["html"]).read_text()


def test_a_day_whose_page_cannot_be_written_fails_alone(scraped, tmp_path):
    defs, instance, _ = scraped
    (tmp_path / "data" / "reports" / f"daily_report_{TODAY}.html").mkdir(parents=True)  # not a file: writing fails

    result = _materialize_days(defs, instance, YESTERDAY, TODAY)
    assert not result.success
    run_id, yesterday = _report_metadata(instance, YESTERDAY)
    assert run_id == result.run_id and yesterday["subreddits"] == 3
    assert not instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=DAILY_REPORT, asset_partitions=[str(TODAY)]), limit=1
    ).records
    partitions_def = defs.get_assets_def(DAILY_REPORT).partitions_def
    statuses = instance.get_status_by_partition(DAILY_REPORT, [str(YESTERDAY), str(TODAY)], partitions_def)
    assert statuses == {str(YESTERDAY): AssetPartitionStatus.MATERIALIZED, str(TODAY): AssetPartitionStatus.FAILED}


def _status(*args):
    return subprocess.run(
        [str(CLI), "status", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_exits_zero_only_when_every_subreddit_is_scraped_loaded_and_archived(scraped, monkeypatch, tmp_path):
    defs, instance, _ = scraped
    incomplete = _status(str(TODAY))
    assert incomplete.returncode == 1, incomplete.stderr
    assert f"{TODAY}: INCOMPLETE, 1 of 3 subreddit(s) scraped, loaded and archived" in incomplete.stdout

    # The same day, complete: only the subreddit that was scraped stays in the config.
    config = tmp_path / "subreddits.yaml"
    config.write_text(f'start_date: "{YESTERDAY}"\nsubreddits:\n  - {{name: CreditCardsIndia, category: t}}\n')
    complete = _status(str(TODAY), "--html", str(tmp_path / "status.html"))
    assert complete.returncode == 0, complete.stdout + complete.stderr
    assert f"{TODAY}: complete, 1 of 1 subreddit(s) scraped, loaded and archived" in complete.stdout
    assert "<svg" in (tmp_path / "status.html").read_text()
    # Two days: yesterday's top partition cannot be scraped any more, so the two days are not complete.
    both = _status("--days", "2")
    assert both.returncode == 1 and f"{YESTERDAY}: INCOMPLETE, 0 of 1" in both.stdout


def test_readme_path_materialize_then_status_exits_zero(monkeypatch, tmp_path, reddit_server):
    """The README's command line: `reddit-assets materialize <today> CreditCardsIndia`, then `reddit-assets status`."""
    configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=SUBREDDITS[:1], start_date=str(YESTERDAY))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    done = subprocess.run(
        [str(CLI), "materialize", str(TODAY), "CreditCardsIndia"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(f"{TODAY}|CreditCardsIndia: run ")
    assert done.stdout.rstrip().endswith(
        "succeeded; materialized reddit/comments, reddit/r2_archive, reddit/raw_scrape, reddit/submissions"
    )
    status = _status()
    assert status.returncode == 0, status.stdout + status.stderr
    assert "CreditCardsIndia (top): complete\n  scraped:   10 submissions," in status.stdout
    assert "checks:    4 succeeded" in status.stdout
