"""A stream subreddit's day end to end: polled over HTTP with real PRAW through a whole simulated
day, then reddit/raw_scrape merges the records (no Reddit call), the tables load it, and
`reddit-assets status` shows its coverage."""

import datetime as dt
import json
import os
import subprocess

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.automation.stream_schedule import days_to_build
from reddit_assets.config import load_config
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.stream.poller import COMMENTS, NEW, run_polls
from reddit_assets.stream.records import last_seen_ids, write_poll
from reddit_assets_demo.live import LiveFeed
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.fixtures.reddit import SimClock
from reddit_assets_tests.harness import CLI, configure, run_job

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 3, 1)
DAY_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
DAY_END = DAY_START + 86400
ENTRY = {"name": "busy", "category": "stream", "comments": "all"}


def _poll(server, data_dir, clock, until, poll_seconds):
    client = RedditResource(
        client_id="c", client_secret="s", user_agent="stream day tests", oauth_url=server.url, reddit_url=server.url
    ).client(RequestStats())
    return run_polls(
        client,
        [("busy", NEW), ("busy", COMMENTS)],
        previous=lambda name, listing: last_seen_ids(data_dir, name, listing, clock.now()),
        record=lambda poll: write_poll(data_dir, poll),
        poll_seconds=poll_seconds,
        run_seconds=until - clock.now(),
        stats=RequestStats(),
        clock=clock,
    )


def _raw(tmp_path):
    return json.loads((tmp_path / "data" / "scrapes" / DAY.isoformat() / "busy.json").read_text())


def test_polled_day_is_merged_loaded_and_reported_complete(monkeypatch, tmp_path):
    # 1 post and 6 comments a minute from an hour before the day; a poll every 20 minutes
    # (120 comments: inside the listing's 1,000) from half an hour before it to past its end.
    feed = LiveFeed("busy", start=DAY_START - 3600, submissions_per_minute=1, comments_per_minute=6)
    clock = SimClock(DAY_START - 1800)
    data_dir = tmp_path / "data"
    with RedditServer([], live=[feed], now=clock.now) as server:
        _poll(server, data_dir, clock, until=DAY_END + 1500, poll_seconds=1200)
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        (tmp_path / "home").mkdir()
        defs = configure(monkeypatch, tmp_path, reddit_url=server.url, subreddits=[ENTRY])
        # The sensor's rule: the day is over, was polled, and both listings have a poll after its
        # end. The day before was polled from 23:30 on (the feed began at 23:00: nothing was missed).
        assert days_to_build(load_config(), data_dir, DAY_END + 1500) == [
            (DAY - dt.timedelta(days=1), "busy"),
            (DAY, "busy"),
        ]
        assert days_to_build(load_config(), data_dir, DAY_END - 60) == [(DAY - dt.timedelta(days=1), "busy")]
        requests_before = sum(server.stats()["by_kind"].values())
        with dg.DagsterInstance.get() as instance:
            assert run_job(defs, "daily_scrape_job", DAY, "busy", instance).success
            first = (tmp_path / "data" / "scrapes" / DAY.isoformat() / "busy.json").read_bytes()
            assert run_job(defs, "daily_scrape_job", DAY, "busy", instance).success  # merged twice
        assert sum(server.stats()["by_kind"].values()) == requests_before  # no Reddit call
    again = (tmp_path / "data" / "scrapes" / DAY.isoformat() / "busy.json").read_bytes()
    assert again == first

    raw = _raw(tmp_path)
    coverage = raw["coverage"]
    assert coverage["complete"] is True and coverage["gaps"] == []
    assert coverage["polls"] == 2 * (72 + 1)  # 72 polls a listing inside the day, plus the first after it
    assert coverage["first_poll"] == "2026-03-01T00:10:00+00:00"
    assert {s["id"] for s in raw["submissions"]} == feed.ids_between("t3", DAY_START, DAY_END - 1e-6)
    assert {c["id"] for c in raw["comments"]} == feed.ids_between("t1", DAY_START, DAY_END - 1e-6)
    assert len(raw["comments"]) == 6 * 1440 and len(raw["submissions"]) == 1 * 1440

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.connect() as db:
        rows = db.execute(sa.text("SELECT submission_id, depth, parent_id FROM reddit_comments")).all()
    assert len(rows) == 6 * 1440
    by_id = {c["id"]: c for c in raw["comments"]}
    assert all(submission for submission, _, _ in rows)  # from link_id
    replies = [depth for _, depth, parent in rows if parent.startswith("t1_") and parent[3:] in by_id]
    assert replies and all(depth is not None and depth >= 1 for depth in replies)
    assert all(depth == 0 for _, depth, parent in rows if parent.startswith("t3_"))

    shown = subprocess.run(
        [str(CLI), "status", DAY.isoformat()], env=dict(os.environ), capture_output=True, text=True, timeout=120
    )
    assert f"{6 * 1440} comments" in shown.stdout and "coverage: complete" in shown.stdout, shown.stdout
