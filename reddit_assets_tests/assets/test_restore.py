"""Re-processing without Reddit: a lost raw file comes back from its archive; and the
rules for scraping a past date (late snapshots, `new` for one past day)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import zipfile

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.files.atomic import sha256_file
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, materialization_metadata, run_job

TODAY = utc_today()
PAST = TODAY - dt.timedelta(days=5)
RAW = [dg.AssetKey(["reddit", "raw_scrape"])]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _s3(endpoint, bucket):
    return {"endpoint": endpoint, "bucket": bucket, "key": "test-key", "secret": "test-secret-key"}


def _raw_path(tmp_path, day, name):
    return tmp_path / "data" / "scrapes" / day.isoformat() / f"{name}.json"


def _db(tmp_path):
    return f"sqlite:///{tmp_path / 'data' / 'reddit.db'}"


def _rows(db_url, day, name):
    """Every column of the partition's rows, both tables, in id order."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = {
            table: [
                tuple(r)
                for r in conn.execute(
                    sa.text(f"SELECT * FROM {table} WHERE subreddit = :s AND scrape_date = :d ORDER BY id"),
                    {"s": name, "d": day},
                )
            ]
            for table in ("reddit_submissions", "reddit_comments")
        }
    engine.dispose()
    return rows


def _delete_rows(db_url, day, name):
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for table in ("reddit_submissions", "reddit_comments"):
            conn.execute(
                sa.text(f"DELETE FROM {table} WHERE subreddit = :s AND scrape_date = :d"), {"s": name, "d": day}
            )
    engine.dispose()


def _failure_message(result) -> str:
    [failure] = [e for e in result.get_step_failure_events()]
    return failure.step_failure_data.error.message


def _scraped_with_s3(monkeypatch, tmp_path, reddit_server, instance, s3, name):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        s3=s3,
        subreddits=[{"name": name, "category": "hot", "n_results": 8, "comments": 0}],
    )
    assert run_job(defs, "daily_scrape_job", TODAY, name, instance).success
    return defs


# -- restore from the archive ---------------------------------------------------------------


@pytest.mark.integration
def test_lost_raw_file_is_restored_from_s3_archive_and_reloaded(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket
):
    name = "restoresub"
    defs = _scraped_with_s3(monkeypatch, tmp_path, reddit_server, instance, _s3(s3_endpoint, s3_bucket), name)
    raw = _raw_path(tmp_path, TODAY, name)
    sha_before, rows_before = sha256_file(raw), _rows(_db(tmp_path), TODAY, name)
    assert rows_before["reddit_submissions"] and rows_before["reddit_comments"]
    assert not list((tmp_path / "data").rglob("*.zip"))  # only the bucket holds the archive

    raw.unlink()
    _delete_rows(_db(tmp_path), TODAY, name)  # the rows can only come back from the restored file
    requests_before = reddit_server.stats()["requests"]

    result = run_job(defs, "database_only_job", TODAY, name, instance)
    assert result.success
    key = f"{TODAY}|{name}"
    for asset in ("reddit/submissions", "reddit/comments"):
        meta = materialization_metadata(instance, asset, key)
        assert meta["restored_from_archive"] is True and meta["raw_sha256"] == sha_before
    assert sha256_file(raw) == sha_before  # byte for byte the file that was archived
    assert _rows(_db(tmp_path), TODAY, name) == rows_before
    assert reddit_server.stats()["requests"] == requests_before
    logs = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(
        f"raw file restored from archive s3://{s3_bucket}/daily_scrapes/{name}/{TODAY}/{name}_{TODAY}.zip" in m
        for m in logs
    )

    # With the file back, the next run reads it and restores nothing.
    assert run_job(defs, "database_only_job", TODAY, name, instance).success
    assert materialization_metadata(instance, "reddit/submissions", key)["restored_from_archive"] is False


@pytest.mark.integration
def test_no_raw_file_and_no_archive_fails_naming_both_places(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket
):
    name = "neverscraped"
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, s3=_s3(s3_endpoint, s3_bucket), subreddits=[{"name": name}]
    )
    result = run_job(defs, "database_only_job", PAST, name, instance)
    assert not result.success
    message = _failure_message(result)  # exactly one failure: retrying cannot help
    assert f"{PAST}|{name}" in message
    assert str(_raw_path(tmp_path, PAST, name)) in message
    assert f"daily_scrapes/{name}/{PAST}/{name}_{PAST}.zip" in message and f"s3://{s3_bucket}" in message
    assert str(tmp_path / "data" / "archives") in message  # the local archive folder was looked in too
    assert _rows(_db(tmp_path), PAST, name) == {"reddit_submissions": [], "reddit_comments": []}
    assert reddit_server.stats()["requests"] == 0


def _corrupt_manifest(s3_client, bucket, key, raw_member):
    """Rewrite the stored archive with a manifest whose SHA-256 of the raw file is wrong."""
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["files"][raw_member]["sha256"] = "0" * 64
                data = json.dumps(manifest).encode()
            dst.writestr(info, data)
    s3_client.put_object(Bucket=bucket, Key=key, Body=out.getvalue())


@pytest.mark.integration
def test_corrupted_archive_fails_clearly_and_loads_nothing(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client
):
    name = "rottensub"
    defs = _scraped_with_s3(monkeypatch, tmp_path, reddit_server, instance, _s3(s3_endpoint, s3_bucket), name)
    key = f"daily_scrapes/{name}/{TODAY}/{name}_{TODAY}.zip"
    _corrupt_manifest(s3_client, s3_bucket, key, f"{name}.json")
    raw = _raw_path(tmp_path, TODAY, name)
    raw.unlink()
    _delete_rows(_db(tmp_path), TODAY, name)

    result = run_job(defs, "database_only_job", TODAY, name, instance)
    assert not result.success
    message = _failure_message(result)
    assert f"{TODAY}|{name}" in message and key in message
    assert "does not match the manifest" in message and "not restored" in message
    assert not raw.exists() and not [p for p in raw.parent.iterdir()]  # no half or unchecked file left
    assert _rows(_db(tmp_path), TODAY, name) == {"reddit_submissions": [], "reddit_comments": []}


# -- scraping a past date -------------------------------------------------------------------


def test_past_top_snapshot_is_refused_unless_allowed_late(monkeypatch, tmp_path, reddit_server, instance):
    name = "snapsub"
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        subreddits=[{"name": name, "category": "top", "n_results": 5}],
    )
    refused = run_job(defs, "daily_scrape_job", PAST, name, instance, asset_selection=RAW)
    assert not refused.success
    message = _failure_message(refused)
    assert f"r/{name} uses category 'top'" in message and f"cannot be taken for {PAST}" in message
    assert "allow_late_snapshot" in message and "database_only_job" in message
    assert not _raw_path(tmp_path, PAST, name).exists()
    assert reddit_server.stats()["requests"] == 0

    late = run_job(
        defs,
        "daily_scrape_job",
        PAST,
        name,
        instance,
        asset_selection=RAW,
        run_config={"ops": {"reddit__raw_scrape": {"config": {"allow_late_snapshot": True}}}},
    )
    assert late.success
    raw = json.loads(_raw_path(tmp_path, PAST, name).read_text())
    assert raw["late_snapshot"] is True and raw["date"] == PAST.isoformat() and raw["submission_count"] == 5
    assert materialization_metadata(instance, "reddit/raw_scrape", f"{PAST}|{name}")["late_snapshot"] is True


def _small(name, day, n):
    return generate_subreddit(name, day, n_submissions=n, comments_per_submission=(0, 3), popular_threads=0)


def _days(name, days, n):
    """One subreddit holding submissions from several days, like Reddit's `new` listing."""
    parts = [_small(name, day, n) for day in days]
    submissions = sorted((s for p in parts for s in p.submissions), key=lambda s: s["created_utc"])
    comments = {k: v for p in parts for k, v in p.comments.items()}
    return dataclasses.replace(parts[1], submissions=submissions, comments=comments)


@pytest.fixture
def past_server():
    """A Reddit whose data is generated around PAST, not today."""
    with RedditServer(
        day=PAST, generator_kwargs={"n_submissions": 20, "comments_per_submission": (0, 3), "popular_threads": 0}
    ) as server:
        yield server


def test_new_for_a_past_day_collects_only_that_day(monkeypatch, tmp_path, past_server, instance):
    days = [PAST - dt.timedelta(days=1), PAST, PAST + dt.timedelta(days=1)]
    past_server.set_subreddit("daysub", _days("daysub", days, 15))
    # More than Reddit's 1000-item listing cap on that day alone: paging stops before the day's start.
    past_server.set_subreddit(
        "floodsub",
        generate_subreddit("floodsub", PAST, n_submissions=1100, comments_per_submission=(0, 0), popular_threads=0),
    )
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=past_server.url,
        subreddits=[
            {"name": "daysub", "category": "new", "comments": "all"},
            {"name": "floodsub", "category": "new", "comments": "none"},
        ],
    )

    assert run_job(defs, "daily_scrape_job", PAST, "daysub", instance, asset_selection=RAW).success
    raw = json.loads(_raw_path(tmp_path, PAST, "daysub").read_text())
    that_day = _small("daysub", PAST, 15)
    assert sorted(s["id"] for s in raw["submissions"]) == sorted(s["id"] for s in that_day.submissions)
    assert raw["comment_count"] == sum(len(c) for c in that_day.comments.values())
    assert raw["late_snapshot"] is False and raw["reached_day_start"] is True
    assert materialization_metadata(instance, "reddit/raw_scrape", f"{PAST}|daysub")["reached_day_start"] is True

    assert run_job(defs, "daily_scrape_job", PAST, "floodsub", instance, asset_selection=RAW).success
    flood = json.loads(_raw_path(tmp_path, PAST, "floodsub").read_text())
    start = dt.datetime.combine(PAST, dt.time(), tzinfo=dt.UTC).timestamp()
    assert flood["submission_count"] == 1000 and all(
        start <= s["created_utc"] < start + 86400 for s in flood["submissions"]
    )
    assert flood["reached_day_start"] is False
    assert materialization_metadata(instance, "reddit/raw_scrape", f"{PAST}|floodsub")["reached_day_start"] is False
