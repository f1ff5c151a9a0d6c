"""The asset graph end to end: real PRAW over HTTP, real SQLite/PostgreSQL, a real S3 server.

The tests that need only the in-process Reddit server and SQLite are in the fast tier; the
ones with PostgreSQL or an S3 endpoint are `integration`."""

import json

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, materialization_metadata, run_job

TODAY = utc_today()


def _key(name):
    return f"{TODAY.isoformat()}|{name}"


def _table_counts(url, name):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE subreddit = :s AND scrape_date = :d"),
                {"s": name, "d": TODAY},
            ).scalar()
            for table in ("reddit_submissions", "reddit_comments")
        )
    engine.dispose()
    return counts


def _raw(tmp_path, name):
    return json.loads((tmp_path / "data" / "scrapes" / TODAY.isoformat() / f"{name}.json").read_text())


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_daily_job_on_embedded_defaults(monkeypatch, tmp_path, reddit_server, instance):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        subreddits=[{"name": "CreditCardsIndia", "category": "t", "n_results": 25}],
    )
    result = run_job(defs, "daily_scrape_job", TODAY, "CreditCardsIndia", instance)
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        ("reddit/raw_scrape", "raw_file_matches_counts"): True,
        ("reddit/submissions", "rows_match_raw_file"): True,
        ("reddit/comments", "rows_match_raw_file"): True,
        ("reddit/r2_archive", "archive_matches_manifest"): True,
    }

    raw = _raw(tmp_path, "CreditCardsIndia")
    data = reddit_server.subreddit_data("CreditCardsIndia")
    assert raw["submission_count"] == 25
    expected_comments = sum(len(data.comments.get(s["id"], [])) for s in raw["submissions"])
    assert raw["comment_count"] == expected_comments > 0
    assert raw["api_requests"] >= 1 + 25  # token + listing + one per submission at least
    assert raw["settings"]["category"] == "top" and raw["scraped_at"]
    # every field Reddit sent is kept, not a chosen subset
    sent = {s["id"]: s for s in data.submissions}
    first = raw["submissions"][0]
    assert set(sent[first["id"]]) <= set(first)

    db_url = f"sqlite:///{tmp_path / 'data' / 'reddit.db'}"
    assert _table_counts(db_url, "CreditCardsIndia") == (25, expected_comments)

    meta = materialization_metadata(instance, "reddit/raw_scrape", _key("CreditCardsIndia"))
    assert (meta["submissions"], meta["comments"]) == (25, expected_comments)
    assert meta["api_requests"] == raw["api_requests"] and len(meta["sha256"]) == 64 and meta["bytes"] > 0
    assert materialization_metadata(instance, "reddit/comments", _key("CreditCardsIndia"))["rows"] == expected_comments
    archive = materialization_metadata(instance, "reddit/r2_archive", _key("CreditCardsIndia"))
    assert archive["object_key"] == f"daily_scrapes/CreditCardsIndia/{TODAY}/CreditCardsIndia_{TODAY}.zip"
    assert archive["uploaded"] is True
    stored = tmp_path / "data" / "r2" / archive["object_key"]
    assert stored.exists() and stored.stat().st_size == archive["bytes"]
    assert not (tmp_path / "data" / "archives" / archive["object_key"]).exists()  # deleted after verified upload


@pytest.mark.parametrize(
    "category,extra",
    [
        ("h", {}),
        ("n", {}),
        ("t", {"time_filter": "all"}),
        ("c", {"time_filter": "week"}),
        ("r", {}),
        ("s", {"query": "the"}),
    ],
)
def test_every_category_scrapes(monkeypatch, tmp_path, reddit_server, instance, category, extra):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        subreddits=[{"name": "catsub", "category": category, "n_results": 7, "comments": "none", **extra}],
    )
    result = defs.resolve_job_def("daily_scrape_job").execute_in_process(
        partition_key=_key("catsub"),
        instance=instance,
        raise_on_error=False,
        asset_selection=[dg.AssetKey(["reddit", "raw_scrape"])],
    )
    assert result.success
    raw = _raw(tmp_path, "catsub")
    assert 0 < raw["submission_count"] <= 7
    assert raw["comment_count"] == 0  # comments: none fetches no trees
    assert reddit_server.stats()["by_kind"].get("comments", 0) == 0


def test_comment_expansion_limit_reads_fewer_comments(monkeypatch, tmp_path, reddit_server, instance):
    subs = [
        {"name": "deepsub", "category": "top", "n_results": 30, "time_filter": "all", "comments": 0},
        {"name": "deepsub2", "category": "top", "n_results": 30, "time_filter": "all", "comments": "all"},
    ]
    reddit_server.set_subreddit("deepsub2", reddit_server.subreddit_data("deepsub"))
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=subs)
    for name in ("deepsub", "deepsub2"):
        assert run_job(
            defs, "daily_scrape_job", TODAY, name, instance, asset_selection=[dg.AssetKey(["reddit", "raw_scrape"])]
        ).success
    limited, full = _raw(tmp_path, "deepsub"), _raw(tmp_path, "deepsub2")
    assert limited["submission_count"] == full["submission_count"] == 30
    total = sum(len(c) for c in reddit_server.subreddit_data("deepsub").comments.values())
    assert full["comment_count"] == total
    assert limited["comment_count"] < total


@pytest.mark.parametrize(
    "name,message", [("secretclub", "private"), ("gonesub", "banned"), ("nosuchsub", "does not exist")]
)
def test_unavailable_subreddit_fails_clearly_and_leaves_no_file(
    monkeypatch, tmp_path, reddit_server, instance, name, message
):
    reddit_server.auto_create = False
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": name}])
    result = run_job(defs, "daily_scrape_job", TODAY, name, instance)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert message in failure.message and f"r/{name}" in failure.message
    assert not (tmp_path / "data" / "scrapes").exists() or not list((tmp_path / "data" / "scrapes").rglob("*"))
    assert len(result.get_step_failure_events()) == 1  # no retries: retrying cannot help


@pytest.mark.integration
def test_postgres_and_s3_one_archive_and_rerun_is_idempotent(
    monkeypatch, tmp_path, reddit_server, instance, postgres_url, s3_endpoint, s3_bucket, s3_client
):
    s3 = {"endpoint": s3_endpoint, "bucket": s3_bucket, "key": "test-key", "secret": "test-secret-key"}
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        database_url=postgres_url,
        s3=s3,
        subreddits=[{"name": "dataengineering", "category": "hot", "n_results": 20, "comments": "all"}],
    )
    assert run_job(defs, "daily_scrape_job", TODAY, "dataengineering", instance).success
    raw = _raw(tmp_path, "dataengineering")
    data = reddit_server.subreddit_data("dataengineering")
    expected = (20, sum(len(data.comments.get(s["id"], [])) for s in raw["submissions"]))
    assert _table_counts(postgres_url, "dataengineering") == expected

    def objects():
        listed = s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
        return [(o["Key"], o["Size"]) for o in listed]

    assert len(objects()) == 1
    requests_before = reddit_server.stats()["requests"]
    for job in ("database_only_job", "upload_only_job"):
        assert run_job(defs, job, TODAY, "dataengineering", instance).success
    assert reddit_server.stats()["requests"] == requests_before  # reprocessing never calls Reddit
    assert _table_counts(postgres_url, "dataengineering") == expected
    assert len(objects()) == 1


@pytest.mark.integration
def test_archive_failure_does_not_stop_database_branch(
    monkeypatch, tmp_path, reddit_server, instance, dead_s3_endpoint
):
    s3 = {"endpoint": dead_s3_endpoint, "bucket": "nowhere", "key": "k", "secret": "s"}
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, s3=s3, subreddits=[{"name": "branchy", "n_results": 5}]
    )
    result = run_job(defs, "daily_scrape_job", TODAY, "branchy", instance)
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {"reddit__r2_archive"}
    assert _table_counts(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}", "branchy")[0] == 5
    local_zip = (
        tmp_path / "data" / "archives" / "daily_scrapes" / "branchy" / TODAY.isoformat() / f"branchy_{TODAY}.zip"
    )
    assert local_zip.exists()  # kept: it was never verified in the store


def test_database_failure_does_not_stop_archive_branch(monkeypatch, tmp_path, reddit_server, instance):
    dead_db = "postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2"
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        database_url=dead_db,
        subreddits=[{"name": "branchy", "n_results": 5}],
    )
    result = run_job(defs, "daily_scrape_job", TODAY, "branchy", instance)
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {"database_tables"}
    assert materialization_metadata(instance, "reddit/r2_archive", _key("branchy"))["uploaded"] is True
