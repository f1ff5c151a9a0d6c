"""Polling a busy fake subreddit over HTTP with real PRAW: every item kept, gaps reported where they are."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.stream.merge import DayBounds, listing_gaps, merge_day
from reddit_assets.stream.poller import COMMENTS, NEW, SystemClock, run_polls
from reddit_assets.stream.records import last_seen_ids, read_polls, write_poll
from reddit_assets_demo.live import LiveFeed
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.fixtures.reddit import BUSY_START

TARGETS = [("busy", NEW), ("busy", COMMENTS)]
DAY = dt.date(2026, 3, 1)


def _resource(server) -> RedditResource:
    return RedditResource(
        client_id="c", client_secret="s", user_agent="stream tests", oauth_url=server.url, reddit_url=server.url
    )


def _run(server, data_dir, clock, minutes, stats=None, poll_seconds=60):
    stats = stats or RequestStats()
    return run_polls(
        _resource(server).client(stats),
        TARGETS,
        previous=lambda name, listing: last_seen_ids(data_dir, name, listing, clock.now()),
        record=lambda poll: write_poll(data_dir, poll),
        poll_seconds=poll_seconds,
        run_seconds=minutes * 60,
        stats=stats,
        clock=clock,
    )


def _polls(data_dir):
    start = dt.datetime.fromtimestamp(BUSY_START, dt.UTC)
    return read_polls(data_dir, "busy", start, start + dt.timedelta(days=2))


def _seen(polls, listing):
    return {item["id"] for p in polls if p.listing == listing for item in p.items}


def test_poll_run_keeps_every_item(busy_reddit, tmp_path):
    server, feed, clock = busy_reddit
    stats = RequestStats()
    polls_made = _run(server, tmp_path, clock, minutes=30, stats=stats)
    assert polls_made == 60  # 30 polls of each listing
    polls = _polls(tmp_path)
    last = max(p.started_utc for p in polls)
    assert feed.ids_between("t1", BUSY_START, last) <= _seen(polls, COMMENTS)
    assert feed.ids_between("t3", BUSY_START, last) <= _seen(polls, NEW)
    assert all(p.met_previous for p in polls[2:])  # after the first poll of each listing, every poll overlapped
    merged = merge_day(polls, DayBounds.of(DAY, "UTC"), now=clock.now(), with_comments=True, grace_seconds=120)
    assert merged.coverage["gaps"] == []
    assert merged.coverage["complete"] is False  # the day is not over
    assert len(merged.comments) == feed.count("t1", last)
    # 600 comments a minute: 7 pages of 100 a poll (6 of new items, the 7th meets the previous poll's)
    comment_requests = [p.requests for p in polls if p.listing == COMMENTS][1:]
    assert max(comment_requests) <= 7
    assert server.stats()["throttled"] == [] and stats.rate_limited == 0
    # Every request the server answered (listings, and the first poll's token) is one the polls counted.
    by_kind = server.stats()["by_kind"]
    assert sum(p.requests for p in polls) == by_kind["listing"] + by_kind["token"]


def test_pause_longer_than_listing_is_a_gap_on_comments_only(busy_reddit, tmp_path):
    server, feed, clock = busy_reddit
    _run(server, tmp_path, clock, minutes=5)
    pause_from = clock.now()
    clock.advance(10 * 60)  # 6,000 comments: far past the 1,000 the comment listing holds; 60 submissions
    _run(server, tmp_path, clock, minutes=5)
    polls = _polls(tmp_path)
    merged = merge_day(polls, DayBounds.of(DAY, "UTC"), now=clock.now(), with_comments=True, grace_seconds=120)
    gaps = merged.coverage["gaps"]
    assert [g["listing"] for g in gaps] == [COMMENTS]
    gap_from = dt.datetime.fromisoformat(gaps[0]["from"]).timestamp()
    gap_to = dt.datetime.fromisoformat(gaps[0]["to"]).timestamp()
    assert pause_from - 60 <= gap_from < gap_to <= clock.now()
    # Everything missed lies inside the gap; everything outside it was kept.
    last = max(p.started_utc for p in polls)
    missed = feed.ids_between("t1", BUSY_START, last) - _seen(polls, COMMENTS)
    assert missed
    assert missed <= feed.ids_between("t1", gap_from, gap_to)
    assert feed.ids_between("t3", BUSY_START, last) <= _seen(polls, NEW)


_CHILD = """
import sys, time
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.stream.poller import SystemClock, run_polls
from reddit_assets.stream.records import last_seen_ids, write_poll
url, data_dir = sys.argv[1], sys.argv[2]
stats, clock = RequestStats(), SystemClock()
client = RedditResource(client_id="c", client_secret="s", user_agent="t", oauth_url=url, reddit_url=url).client(stats)
run_polls(client, [("busy", "new"), ("busy", "comments")],
          previous=lambda n, l: last_seen_ids(data_dir, n, l, clock.now()),
          record=lambda poll: write_poll(data_dir, poll),
          poll_seconds=0.5, run_seconds=600, stats=stats, clock=clock)
"""


def _record_count(data_dir) -> int:
    return sum(1 for _, _, files in os.walk(data_dir) for f in files if f.endswith(".json"))


def test_killed_run_loses_nothing_the_next_run_can_list(tmp_path):
    # Real time here: the poll run is a process, killed with SIGKILL in the middle of its polls.
    feed = LiveFeed("busy", start=time.time() - 30, submissions_per_minute=6, comments_per_minute=600)
    with RedditServer([], live=[feed]) as server:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, server.url, str(tmp_path)])
        try:
            deadline = time.monotonic() + 60
            while _record_count(tmp_path) < 6 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        assert _record_count(tmp_path) >= 6, "the child made no polls"
        time.sleep(1.5)  # ~15 comments made while nothing polls: well inside the listing's 1,000
        clock = SystemClock()
        _run(server, tmp_path, clock, minutes=2 / 60, poll_seconds=0.5)
    start = dt.datetime.fromtimestamp(feed.start, dt.UTC)
    polls = read_polls(tmp_path, "busy", start - dt.timedelta(hours=1), start + dt.timedelta(hours=2))
    first, last = polls[0].started_utc, polls[-1].started_utc
    for listing, kind in ((NEW, "t3"), (COMMENTS, "t1")):
        mine = [p for p in polls if p.listing == listing]
        assert listing_gaps(mine, feed.start, mine[-1].started_utc) == []
        assert (
            feed.ids_between(kind, feed.start, min(p.started_utc for p in mine[-1:])) - _seen(polls, listing) == set()
        )
    assert first < last
