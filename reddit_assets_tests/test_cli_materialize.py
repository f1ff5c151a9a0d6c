"""The documented command line: `dagster asset materialize` of one partition against a
Reddit-compatible endpoint, PostgreSQL and an S3 endpoint."""

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from reddit_assets_tests.fixtures.dagster_dev import REPO_ROOT
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import cli_environment

pytestmark = pytest.mark.integration

SELECT = "reddit/raw_scrape,reddit/submissions,reddit/comments,reddit/r2_archive"


def test_dagster_asset_materialize_loads_everything_and_uploads_one_archive(
    tmp_path, reddit_server, postgres_url, s3_endpoint, s3_bucket, s3_client
):
    today = utc_today()
    config = {
        "start_date": "2026-01-01",
        "subreddits": [{"name": "CreditCardsIndia", "category": "t", "n_results": 25, "comments": "all"}],
    }
    env = cli_environment(
        tmp_path,
        config,
        reddit_server.url,
        DATABASE_URL=postgres_url,
        R2_ENDPOINT_URL=s3_endpoint,
        R2_BUCKET=s3_bucket,
        R2_ACCESS_KEY_ID="cli-key",
        R2_SECRET_ACCESS_KEY="cli-secret-key",
    )
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "reddit_assets.definitions",
        "--select",
        SELECT,
        "--partition",
        f"{today}|CreditCardsIndia",
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    raw = json.loads((tmp_path / "data" / "scrapes" / today.isoformat() / "CreditCardsIndia.json").read_text())
    listed = {s["id"] for s in raw["submissions"]}
    data = reddit_server.subreddit_data("CreditCardsIndia")
    expected_comments = sum(len(data.comments.get(i, [])) for i in listed)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        ids = {r[0] for r in conn.execute(sa.text("SELECT id FROM reddit_submissions"))}
        comments = conn.execute(sa.text("SELECT count(*) FROM reddit_comments")).scalar()
    engine.dispose()
    assert len(listed) == 25 and ids == listed
    assert comments == expected_comments
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    assert keys == [f"daily_scrapes/CreditCardsIndia/{today}/CreditCardsIndia_{today}.zip"]

    bad = subprocess.run(
        [*command[:-1], "not-a-key"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode != 0 and "not-a-key" in bad.stderr
