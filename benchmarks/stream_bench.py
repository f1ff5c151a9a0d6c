"""Polling a busy stream subreddit: real PRAW over HTTP against the demo server's live feed
(600 comments and 6 posts a minute, scattered ids), on a simulated clock so hours of polls
take as long as their requests.

- Coverage: the share of the polled time no listing has a gap in (goal 100 %), and whether
  every item the feed made in that time was kept.
- Requests: listing requests sent against the minimum for the items seen: per poll of a
  listing, ceil((new items + 1) / 100), the pages that list what is new plus the one item
  that proves the poll met the previous one (goal <= 1.10).
- Capacity: how many such subreddits one OAuth client (100 requests a minute) keeps polled.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time

from benchmarks.common import Result, Row, Sizes
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.stream.merge import DayBounds, merge_day
from reddit_assets.stream.poller import COMMENTS, NEW, run_polls
from reddit_assets.stream.records import last_seen_ids, read_polls, write_poll
from reddit_assets_demo.live import LiveFeed
from reddit_assets_demo.server import RedditServer

NAME = "stream_bench"
PER_MINUTE = {"t1": 600, "t3": 6}
CLIENT_BUDGET_PER_MINUTE = 100


class _SimClock:
    def __init__(self, start: float):
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


def run(sizes: Sizes) -> Result:
    minutes = 20 if sizes.quick else 180
    day_start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp()
    feed = LiveFeed(
        "busy", start=day_start, submissions_per_minute=PER_MINUTE["t3"], comments_per_minute=PER_MINUTE["t1"]
    )
    clock = _SimClock(day_start + 30)
    stats = RequestStats()
    with (
        tempfile.TemporaryDirectory(prefix="stream-bench-") as data_dir,
        RedditServer([], live=[feed], now=clock.now) as server,
    ):
        client = RedditResource(
            client_id="bench", client_secret="bench", user_agent="reddit_assets benchmark",
            oauth_url=server.url, reddit_url=server.url,
        ).client(stats)  # fmt: skip
        wall = time.perf_counter()
        run_polls(
            client,
            [("busy", NEW), ("busy", COMMENTS)],
            previous=lambda name, listing: last_seen_ids(data_dir, name, listing, clock.now()),
            record=lambda poll: write_poll(data_dir, poll),
            poll_seconds=60,
            run_seconds=minutes * 60,
            stats=stats,
            clock=clock,
        )
        wall = time.perf_counter() - wall
        start = dt.datetime.fromtimestamp(day_start, dt.UTC)
        polls = read_polls(data_dir, "busy", start, start + dt.timedelta(days=1))
        by_kind = server.stats()["by_kind"]
    last = polls[-1].started_utc
    merged = merge_day(polls, DayBounds.of(start.date(), "UTC"), now=last, with_comments=True, grace_seconds=120)
    polled = last - day_start
    uncovered = sum(
        dt.datetime.fromisoformat(g["to"]).timestamp() - dt.datetime.fromisoformat(g["from"]).timestamp()
        for g in merged.coverage["gaps"]
    )
    kept = {"t3": {i["id"] for i in merged.submissions}, "t1": {i["id"] for i in merged.comments}}
    missed = sum(len(feed.ids_between(kind, day_start, last) - kept[kind]) for kind in kept)

    minimum = 0
    seen: dict[str, set[str]] = {NEW: set(), COMMENTS: set()}
    for poll in polls:
        new = len(poll.ids - seen[poll.listing])
        minimum += max(1, math.ceil((new + (1 if seen[poll.listing] else 0)) / 100))
        seen[poll.listing] = poll.ids
    listing_requests = by_kind.get("listing", 0)
    per_minute = listing_requests / minutes
    coverage = 1 - uncovered / polled
    label = f"Stream: 1 sub x {PER_MINUTE['t1']} comments/min, {minutes} min polled every 60 s"
    result = Result(
        rows=[
            Row(
                label,
                "time covered, no gap",
                f"{coverage:.1%}",
                "100%",
                coverage,
                "= 1.00",
                coverage == 1 and not missed,
            ),
            Row(
                label,
                "listing requests vs minimum",
                str(listing_requests),
                str(minimum),
                listing_requests / minimum,
                "<= 1.10",
                listing_requests / minimum <= 1.10,
            ),
            Row(
                label,
                f"subreddits one client polls at {CLIENT_BUDGET_PER_MINUTE} req/min",
                f"{CLIENT_BUDGET_PER_MINUTE / per_minute:.1f}",
                "-",
                None,
                "-",
                None,
                ratio_text=f"{per_minute:.2f} req/min each",
            ),
        ],
        notes=[
            f"Stream: {len(polls)} polls ({len(polls) // 2} a listing), {listing_requests} listing requests "
            f"({per_minute:.2f} a minute; {listing_requests / len(polls):.2f} a poll), {by_kind.get('token', 0)} token; "
            f"{len(merged.submissions)} submissions and {len(merged.comments):,} comments kept, {missed} missed, "
            f"{stats.rate_limited} 429s; {wall:.1f} s of wall time for {minutes} simulated minutes"
        ],
    )
    return result
