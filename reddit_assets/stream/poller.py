"""Polling stream subreddits' `/new` and `/comments` listings with PRAW. Knows nothing of files or Dagster.

A poll pages from the listing's newest item down (100 a page) until it meets an item the
previous poll of that listing saw, or reaches the listing's end. Overlap is found by id
membership, never by id order: Reddit's comment ids stopped being sequential in 2026.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import praw
import prawcore

from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.scraper import LISTING_CAP, SubredditUnavailable, _unavailable
from reddit_assets.reddit.serialize import raw_data

NEW, COMMENTS = "new", "comments"
LISTINGS = (NEW, COMMENTS)
PAGE = 100


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Poll:
    """One poll of one listing: what it saw (newest first) and how its paging ended."""

    subreddit: str
    listing: str
    started_utc: float
    finished_utc: float
    requests: int
    rate_limited: int
    met_previous: bool  # it met an item the previous poll saw, so it stopped there
    reached_end: bool  # it paged to the listing's end without meeting one
    natural_end: bool  # the listing ended before Reddit's ~1,000-item cap: nothing older exists
    items: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {item["id"] for item in self.items}


def _generator(reddit: praw.Reddit, subreddit: str, listing: str):
    sub = reddit.subreddit(subreddit)
    lister = sub.new if listing == NEW else sub.comments
    # praw's keyword types omit request_limit, which its ListingGenerator takes.
    return lister(limit=LISTING_CAP, request_limit=PAGE)  # type: ignore[call-arg]


def poll_listing(
    reddit: praw.Reddit, subreddit: str, listing: str, previous: set[str], stats: RequestStats, clock: Clock
) -> Poll:
    """Page `listing` until an id of `previous` appears or the listing ends."""
    requests, waits = stats.requests, stats.rate_limited
    started = clock.now()
    items: list[dict] = []
    met = False
    try:
        for thing in _generator(reddit, subreddit, listing):
            data = raw_data(thing)
            items.append(data)
            if data.get("id") in previous:
                met = True
                break
    except (prawcore.Redirect, prawcore.Forbidden, prawcore.NotFound) as exc:
        raise _unavailable(subreddit, exc) from None
    return Poll(
        subreddit=subreddit,
        listing=listing,
        started_utc=started,
        finished_utc=clock.now(),
        requests=stats.requests - requests,
        rate_limited=stats.rate_limited - waits,
        met_previous=met,
        reached_end=not met,
        natural_end=not met and len(items) < LISTING_CAP,
        items=items,
    )


def run_polls(
    reddit: praw.Reddit,
    targets: Iterable[tuple[str, str]],
    *,
    previous: Callable[[str, str], set[str]],
    record: Callable[[Poll], object],
    poll_seconds: float,
    run_seconds: float,
    stats: RequestStats,
    clock: Clock,
    warn: Callable[[str], None] = lambda message: None,
) -> int:
    """Poll every (subreddit, listing) every `poll_seconds` for `run_seconds`; the number of polls.

    `previous(subreddit, listing)`: the ids the last recorded poll saw (a new run starts from
    the records, so a pause between runs is recovered from the listing). `record(poll)` keeps
    each poll as soon as it is done, so a crash loses at most the poll in flight.
    """
    targets = list(targets)
    seen = {target: previous(*target) for target in targets}
    unavailable: set[str] = set()
    start = clock.now()
    polls = 0
    tick = 0
    while True:
        for subreddit, listing in targets:
            if subreddit in unavailable:
                continue
            try:
                poll = poll_listing(reddit, subreddit, listing, seen[(subreddit, listing)], stats, clock)
            except SubredditUnavailable as exc:
                unavailable.add(subreddit)
                warn(f"{exc}; not polled again in this run")
                continue
            record(poll)
            seen[(subreddit, listing)] = poll.ids
            polls += 1
        tick += 1
        next_at = start + tick * poll_seconds
        if next_at >= start + run_seconds:
            return polls
        clock.sleep(max(0.0, next_at - clock.now()))
