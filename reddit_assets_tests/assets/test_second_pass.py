"""reddit/second_pass end to end: a past day scraped with real PRAW over HTTP, then fetched
again through /api/info, loaded into SQLite or PostgreSQL, archived locally or to moto's S3."""

import datetime as dt
import json
import math
import subprocess
import sys

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.config import load_config
from reddit_assets.files.archive_zip import read_manifest, verify_archive
from reddit_assets.partitions import partition_key
from reddit_assets.report.branches import SECOND_PASSED
from reddit_assets.report.gather import DONE, gather
from reddit_assets.report.text import describe
from reddit_assets_demo.aftermath import is_missing, later_state
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.fixtures.dagster_dev import REPO_ROOT
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import cli_environment, configure, materialization_metadata, run_job

PAST = utc_today() - dt.timedelta(days=3)  # ended more than 36 hours ago
SECOND = ["reddit/second_pass", "reddit/second_pass_table", "reddit/second_pass_archive"]
GENERATOR = {"n_submissions": 40, "comments_per_submission": (0, 40)}


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def past_server():
    """Generated data for a day three days ago, for r/pastsub and r/lockedaway (which tests make private)."""
    with RedditServer(["pastsub", "lockedaway"], day=PAST, generator_kwargs=GENERATOR) as server:
        yield server


def _materialize(defs, keys, date, name, instance):
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        partition_key=partition_key(date, name),
        instance=instance,
        asset_selection=[dg.AssetKey.from_user_string(k) for k in keys],
        raise_on_error=False,
    )


def _scrape(defs, instance, name="pastsub"):
    assert run_job(defs, "daily_scrape_job", PAST, name, instance).success


def _files(tmp_path, name="pastsub"):
    folder = tmp_path / "data" / "scrapes" / PAST.isoformat()
    return json.loads((folder / f"{name}.json").read_text()), json.loads(
        (folder / f"{name}.second_pass.json").read_text()
    )


def _rows(url, table="reddit_second_pass"):
    order = "kind, id" if table == "reddit_second_pass" else "id"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))]
    engine.dispose()
    return rows


def _expected(server, raw):
    """What the demo server's /api/info shows for each scraped item: {fullname: later state or None}."""
    data = server.subreddit_data("pastsub")
    originals = {"t3_" + s["id"]: (s, "t3") for s in data.submissions}
    originals |= {"t1_" + c["id"]: (c, "t1") for cs in data.comments.values() for c in cs}
    asked = ["t3_" + s["id"] for s in raw["submissions"]] + ["t1_" + c["id"] for c in raw["comments"]]
    return {
        name: None if is_missing(name[3:], server.seed) else later_state(*originals[name], server.seed)
        for name in asked
    }


@pytest.mark.integration  # the past day's own Reddit-compatible server
def test_second_pass_accounts_for_every_item_and_shows_both_states_in_sqlite(
    monkeypatch, tmp_path, past_server, instance
):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=past_server.url, subreddits=[{"name": "pastsub", "category": "new"}]
    )
    _scrape(defs, instance)
    before = past_server.stats()["by_kind"]
    result = _materialize(defs, SECOND, PAST, "pastsub", instance)
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        ("reddit/second_pass", "covers_raw_file"): True,
        ("reddit/second_pass_table", "rows_match_second_pass_file"): True,
    }

    raw, second = _files(tmp_path)
    expected = _expected(past_server, raw)
    n = len(expected)
    after = past_server.stats()["by_kind"]
    sent = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    assert {k: v for k, v in sent.items() if v} == {"token": 1, "info": math.ceil(n / 100)}

    # Every item accounted for: returned with its later state, or listed missing.
    missing = sorted(name for name, state in expected.items() if state is None)
    assert missing and sorted(second["missing"]) == missing
    returned = {"t3_" + s["id"]: s for s in second["submissions"]} | {"t1_" + c["id"]: c for c in second["comments"]}
    assert set(returned) == {name for name, state in expected.items() if state is not None}
    for name, item in returned.items():
        for field in ("score", "removed_by_category", "edited", "locked"):
            assert item.get(field) == expected[name].get(field), (name, field)
        author = expected[name]["author"]
        assert item["author"] == (None if author == "[deleted]" else author)  # PRAW reads "[deleted]" as no author
    assert second["fetched_at"] and second["first_scrape"]["scraped_at"] == raw["scraped_at"]

    rows = _rows(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    assert len(rows) == n and sum(not r["returned"] for r in rows) == len(missing)
    by_state = {key: {r["id"] for r in rows if r[key]} for key in ("removed", "deleted", "edited")}
    assert all(by_state.values()), by_state  # the demo's later state has each kind of change
    removed_by = {r["removed_by"] for r in rows if r["removed"] and r["kind"] == "submission"}
    assert removed_by and removed_by <= {"moderator", "automod_filtered", "reddit", "anti_evil_ops"}
    meta = materialization_metadata(instance, "reddit/second_pass", f"{PAST}|pastsub")
    assert meta["items_asked"] == n and meta["items_missing"] == len(missing)
    assert meta["removed"] == len(by_state["removed"]) and meta["deleted"] == len(by_state["deleted"])
    assert meta["api_requests"] == 1 + math.ceil(n / 100) and meta["rate_limited"] == 0

    # The report (and `status`) shows it: what became of the items, beside the day's branches.
    (day,) = gather(instance, load_config(), [PAST])
    (row,) = day.rows
    assert row.cells["second pass"].state == DONE and row.state == "complete"
    assert describe(SECOND_PASSED, row) == (
        f"{n - len(missing)} items fetched again ({len(missing)} gone), {meta['removed']} removed, "
        f"{meta['deleted']} deleted, {meta['edited_since_scrape']} edited since the scrape; {n} rows, "
        f"archived daily_scrapes/pastsub/{PAST}/pastsub_{PAST}_second_pass.zip"
    )

    # Both states side by side.
    view = {
        r["id"]: r for r in _rows(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}", "reddit_submissions_then_and_now")
    }
    assert len(view) == len(raw["submissions"])
    for s in raw["submissions"]:
        later = expected["t3_" + s["id"]]
        row = view[s["id"]]
        assert row["first_score"] == s["score"]
        assert row["second_score"] == (later["score"] if later else None)
        assert row["returned"] == (1 if later else 0)

    # The archive sits next to the day's, with a manifest that matches.
    folder = tmp_path / "data" / "r2" / "daily_scrapes" / "pastsub" / PAST.isoformat()
    assert sorted(p.name for p in folder.iterdir()) == [f"pastsub_{PAST}.zip", f"pastsub_{PAST}_second_pass.zip"]
    zip_path = folder / f"pastsub_{PAST}_second_pass.zip"
    assert verify_archive(zip_path) == []
    manifest = read_manifest(zip_path)
    assert manifest["raw_file"] == "pastsub.second_pass.json"
    assert manifest["counts"] == {
        "submissions": len(raw["submissions"]),
        "comments": len(raw["comments"]),
    }

    # Reloading the table calls nobody and leaves the same rows; a second pass again asks only info.
    before_rows, day_zip = rows, (folder / f"pastsub_{PAST}.zip").read_bytes()
    requests = past_server.stats()["requests"]
    assert _materialize(defs, ["reddit/second_pass_table"], PAST, "pastsub", instance).success
    assert past_server.stats()["requests"] == requests
    assert _rows(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}") == before_rows
    assert _materialize(defs, SECOND, PAST, "pastsub", instance).success
    assert past_server.stats()["requests"] - requests == 1 + math.ceil(n / 100)
    again = _rows(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    assert [{k: v for k, v in r.items() if k != "fetched_at"} for r in again] == [
        {k: v for k, v in r.items() if k != "fetched_at"} for r in before_rows
    ]
    assert (folder / f"pastsub_{PAST}.zip").read_bytes() == day_zip  # the day's archive is never rewritten


@pytest.mark.integration  # the past day's own Reddit-compatible server
def test_second_pass_in_postgres_and_s3_restores_its_file_from_the_archive(
    monkeypatch, tmp_path, past_server, instance, postgres_url, s3_endpoint, s3_bucket, s3_client
):
    s3 = {"endpoint": s3_endpoint, "bucket": s3_bucket, "key": "test-key", "secret": "test-secret-key"}
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=past_server.url,
        database_url=postgres_url,
        s3=s3,
        subreddits=[{"name": "pastsub", "category": "new"}],
    )
    _scrape(defs, instance)
    assert _materialize(defs, SECOND, PAST, "pastsub", instance).success
    raw, second = _files(tmp_path)
    expected = _expected(past_server, raw)

    rows = _rows(postgres_url)
    assert {r["id"]: r["returned"] for r in rows} == {name[3:]: state is not None for name, state in expected.items()}
    view = _rows(postgres_url, "reddit_comments_then_and_now")
    assert len(view) == len(raw["comments"])
    firsts = {c["id"]: c for c in raw["comments"]}
    for row in view:
        later = expected["t1_" + row["id"]]
        assert row["first_text"] == firsts[row["id"]]["body"]
        assert row["second_text"] == (later["body"] if later else None)
        assert row["edited_after_scrape"] == bool(row["edited_utc"] and row["edited_utc"] > row["scraped_at"])
    assert any(r["edited"] for r in view) and any(r["second_text"] == "[removed]" for r in view)

    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    prefix = f"daily_scrapes/pastsub/{PAST}/pastsub_{PAST}"
    assert keys == [f"{prefix}.zip", f"{prefix}_second_pass.zip"]
    local = tmp_path / "data" / "archives" / "daily_scrapes" / "pastsub" / PAST.isoformat()
    assert not (local / f"pastsub_{PAST}_second_pass.zip").exists()  # removed after the verified upload

    # The second-pass file gone: the table reloads from the archive, without calling Reddit.
    path = tmp_path / "data" / "scrapes" / PAST.isoformat() / "pastsub.second_pass.json"
    path.unlink()
    requests = past_server.stats()["requests"]
    assert _materialize(defs, ["reddit/second_pass_table"], PAST, "pastsub", instance).success
    assert past_server.stats()["requests"] == requests
    assert json.loads(path.read_text()) == second
    assert materialization_metadata(instance, "reddit/second_pass_table", f"{PAST}|pastsub")["restored_from_archive"]
    assert _rows(postgres_url) == rows


@pytest.mark.integration  # the past day's own Reddit-compatible server
def test_second_pass_of_a_private_subreddit_fails_once_naming_it(monkeypatch, tmp_path, past_server, instance):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=past_server.url, subreddits=[{"name": "lockedaway", "category": "new"}]
    )
    _scrape(defs, instance, "lockedaway")
    past_server.set_state("lockedaway", "private")
    result = _materialize(defs, ["reddit/second_pass"], PAST, "lockedaway", instance)
    assert not result.success
    failures = result.get_step_failure_events()
    assert len(failures) == 1  # no retries: retrying cannot help
    message = failures[0].step_failure_data.error.message
    assert "r/lockedaway" in message and "private" in message
    assert not (tmp_path / "data" / "scrapes" / PAST.isoformat() / "lockedaway.second_pass.json").exists()


@pytest.mark.integration  # the past day's own Reddit-compatible server
def test_second_pass_waits_out_a_429(monkeypatch, tmp_path, past_server, instance):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=past_server.url, subreddits=[{"name": "pastsub", "category": "new"}]
    )
    _scrape(defs, instance)
    past_server.add_fault(r"/api/info", status=429, retry_after=1, times=1)
    result = _materialize(defs, ["reddit/second_pass"], PAST, "pastsub", instance)
    assert result.success
    meta = materialization_metadata(instance, "reddit/second_pass", f"{PAST}|pastsub")
    assert meta["rate_limited"] == 1 and meta["items_asked"] == meta["items_returned"] + meta["items_missing"]
    assert past_server.stats()["by_status"]["429"] == 1


def test_second_pass_is_refused_until_the_day_is_old_enough(monkeypatch, tmp_path, instance):
    today = utc_today()
    defs = configure(
        monkeypatch, tmp_path, reddit_url="http://127.0.0.1:9", subreddits=[{"name": "pastsub", "category": "new"}]
    )
    result = _materialize(defs, ["reddit/second_pass"], today, "pastsub", instance)
    assert not result.success
    failures = result.get_step_failure_events()
    assert len(failures) == 1
    possible = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=36)
    message = failures[0].step_failure_data.error.message
    assert f"{today}|pastsub becomes possible at {possible.isoformat()}" in message


@pytest.mark.integration
def test_dagster_asset_materialize_runs_the_second_pass(tmp_path, past_server):
    config = {"start_date": "2026-01-01", "subreddits": [{"name": "pastsub", "category": "new"}]}
    env = cli_environment(tmp_path, config, past_server.url)

    def materialize(select: str) -> None:
        command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "reddit_assets.definitions"]
        command += ["--select", select, "--partition", f"{PAST}|pastsub"]
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    materialize("reddit/raw_scrape")
    before = past_server.stats()["by_kind"]
    materialize("reddit/second_pass")
    materialize("reddit/second_pass_table,reddit/second_pass_archive")
    after = past_server.stats()["by_kind"]

    folder = tmp_path / "data" / "scrapes" / PAST.isoformat()
    raw = json.loads((folder / "pastsub.json").read_text())
    second = json.loads((folder / "pastsub.second_pass.json").read_text())
    asked = raw["submission_count"] + raw["comment_count"]
    assert second["submission_count"] + second["comment_count"] + second["missing_count"] == asked
    sent = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    assert {k: v for k, v in sent.items() if v} == {"token": 1, "info": math.ceil(asked / 100)}
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reddit_second_pass")).scalar() == asked
    engine.dispose()
    zip_name = f"pastsub_{PAST}_second_pass.zip"
    assert (tmp_path / "data" / "r2" / "daily_scrapes" / "pastsub" / PAST.isoformat() / zip_name).exists()


@pytest.mark.integration
def test_a_range_run_is_one_client_and_keeps_the_partitions_it_finished(monkeypatch, tmp_path, past_server, instance):
    subreddits = [{"name": "pastsub", "category": "new"}, {"name": "lockedaway", "category": "new"}]
    defs = configure(monkeypatch, tmp_path, reddit_url=past_server.url, subreddits=subreddits)
    for name in ("pastsub", "lockedaway"):
        _scrape(defs, instance, name)
    keys = [f"{PAST}|pastsub", f"{PAST}|lockedaway"]

    def run_range():
        return defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey.from_user_string("reddit/second_pass")],
            tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[1]},
            raise_on_error=False,
        )

    before = past_server.stats()["by_kind"]
    result = run_range()
    assert result.success
    asked = {key: materialization_metadata(instance, "reddit/second_pass", key)["items_asked"] for key in keys}
    after = past_server.stats()["by_kind"]
    assert after["token"] - before.get("token", 0) == 1  # one client for the whole range
    assert after["info"] - before.get("info", 0) == sum(math.ceil(n / 100) for n in asked.values())
    evaluations = {(e.partition, e.passed) for e in result.get_asset_check_evaluations()}
    assert evaluations == {(keys[0], True), (keys[1], True)}

    past_server.set_state("lockedaway", "private")
    result = run_range()
    assert not result.success and "r/lockedaway" in result.get_step_failure_events()[0].step_failure_data.error.message
    records = instance.fetch_materializations(dg.AssetKey(["reddit", "second_pass"]), limit=10).records
    assert sorted(r.partition_key for r in records) == sorted([keys[0], keys[0], keys[1]])  # pastsub done twice


def test_a_batch_with_early_days_is_refused_naming_each_and_when():
    from reddit_assets.assets.second_pass import refuse_early
    from reddit_assets.config import SecondPass

    now = dt.datetime(2026, 11, 29, 13, tzinfo=dt.UTC)
    partitions = [(f"2026-11-{d}|pastsub", dt.date(2026, 11, d), "pastsub") for d in (26, 27, 28, 29)]
    with pytest.raises(dg.Failure) as refused:
        refuse_early(partitions, SecondPass(), "UTC", now)
    assert refused.value.allow_retries is False
    message = str(refused.value)
    assert "2026-11-28|pastsub becomes possible at 2026-11-30T12:00:00+00:00" in message
    assert "2026-11-29|pastsub becomes possible at 2026-12-01T12:00:00+00:00" in message
    assert "2026-11-27|pastsub" not in message and "2026-11-26" not in message
    refuse_early(partitions[:2], SecondPass(), "UTC", now)  # both old enough: no refusal
