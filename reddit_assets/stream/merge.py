"""A stream subreddit's day from its polls: the items created that day, and how completely polls covered it.

Pure: no files, no Reddit. A poll reads a contiguous stretch of its listing from the newest
item down, so it covers the time from the oldest item it saw (or from the beginning, when
the listing ended by itself) to its start. What no poll covers inside the day is a gap: a
poll that reached Reddit's ~1,000-item end without meeting an item the previous poll saw
leaves one, and so do polls missing for longer than the listing holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reddit_assets.stream.poller import COMMENTS, NEW, Poll


@dataclass(frozen=True)
class DayBounds:
    start: float
    end: float

    @classmethod
    def of(cls, day: dt.date, timezone: str) -> DayBounds:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(timezone)
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        return cls(start.timestamp(), end.timestamp())


@dataclass
class StreamDay:
    submissions: list[dict]
    comments: list[dict]
    coverage: dict
    api_requests: int
    rate_limited: int
    last_poll_utc: float | None


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def _covered(poll: Poll) -> tuple[float, float]:
    # Up to the newest item seen when it is newer than the poll's start: an item made while the
    # first page was on its way was listed, so the time before it was covered too.
    created = [float(i["created_utc"]) for i in poll.items]
    high = max([poll.started_utc, *created])
    if poll.natural_end:
        return float("-inf"), high
    return min(created, default=poll.started_utc), high


def listing_gaps(polls: list[Poll], start: float, until: float) -> list[tuple[float, float]]:
    """The stretches of [start, until] that no poll of one listing covers."""
    gaps = []
    reached = start  # everything before this is covered
    for low, high in sorted(_covered(p) for p in polls):
        if low > reached:
            gaps.append((reached, min(low, until)))
        reached = max(reached, high)
        if reached >= until:
            break
    if reached < until:
        gaps.append((reached, until))
    return [(a, b) for a, b in gaps if b > a]


def _newest_versions(polls: list[Poll], bounds: DayBounds) -> list[dict]:
    """The day's items, each as the latest poll saw it, ordered by creation then id."""
    latest: dict[str, tuple[float, dict]] = {}
    for poll in polls:
        for item in poll.items:
            created = float(item["created_utc"])
            if not bounds.start <= created < bounds.end:
                continue
            known = latest.get(item["id"])
            if known is None or poll.started_utc >= known[0]:
                latest[item["id"]] = (poll.started_utc, item)
    return sorted((item for _, item in latest.values()), key=lambda i: (float(i["created_utc"]), i["id"]))


def merge_day(
    polls: list[Poll], bounds: DayBounds, *, now: float, with_comments: bool, grace_seconds: float
) -> StreamDay:
    """The day's items and coverage from every poll that may have seen them.

    While the day is not over, the time since a listing's last poll is not a gap until it is
    longer than `grace_seconds` (the next poll is still due); once it is over, any stretch of
    the day no poll covered is.
    """
    day_over = now >= bounds.end
    listings = (NEW, COMMENTS) if with_comments else (NEW,)
    # Polls that say something about the day: started in it, or the first after its end.
    by_listing = {}
    for listing in listings:
        mine = [p for p in polls if p.listing == listing and p.started_utc >= bounds.start]
        after = [p for p in mine if p.started_utc >= bounds.end][:1]
        by_listing[listing] = [p for p in mine if p.started_utc < bounds.end] + after
    gaps: list[dict[str, str]] = []
    for listing, mine in by_listing.items():
        until = bounds.end if day_over else min(now, bounds.end)
        found = listing_gaps(mine, bounds.start, until)
        last = max((p.started_utc for p in mine), default=None)
        if not day_over and found and last is not None and found[-1][0] >= last and until - last <= grace_seconds:
            found.pop()  # the next poll is due, not missed
        gaps.extend({"listing": listing, "from": iso(a), "to": iso(b)} for a, b in found)
    used = sorted((p for mine in by_listing.values() for p in mine), key=lambda p: (p.started_utc, p.listing))
    coverage = {
        "complete": day_over and not gaps and bool(used),
        "polls": len(used),
        "first_poll": iso(used[0].started_utc) if used else None,
        "last_poll": iso(used[-1].started_utc) if used else None,
        "gaps": gaps,
    }
    return StreamDay(
        submissions=_newest_versions(polls_of(polls, NEW), bounds),
        comments=_newest_versions(polls_of(polls, COMMENTS), bounds) if with_comments else [],
        coverage=coverage,
        api_requests=sum(p.requests for p in used),
        rate_limited=sum(p.rate_limited for p in used),
        last_poll_utc=used[-1].started_utc if used else None,
    )


def polls_of(polls: list[Poll], listing: str) -> list[Poll]:
    return [p for p in polls if p.listing == listing]


def uncovered_seconds(coverage: dict) -> float:
    """Seconds of the day some listing's polls did not cover (overlapping gaps of two listings counted once)."""
    spans = sorted(
        (dt.datetime.fromisoformat(g["from"]).timestamp(), dt.datetime.fromisoformat(g["to"]).timestamp())
        for g in coverage.get("gaps") or ()
    )
    total, reached = 0.0, float("-inf")
    for low, high in spans:
        low = max(low, reached)
        if high > low:
            total += high - low
        reached = max(reached, high)
    return total
