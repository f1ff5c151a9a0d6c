"""A stream partition's raw document, built from the poll records on disk (no Reddit call)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reddit_assets.config import StreamSettings, SubredditConfig
from reddit_assets.stream.merge import DayBounds, StreamDay, iso, merge_day
from reddit_assets.stream.records import read_polls

# Polls up to this long after the day's end are read: after an outage, the first poll can
# still list items of the day before.
READ_AFTER_END = dt.timedelta(hours=24)


def merge_recorded_day(
    data_dir: str | Path, entry: SubredditConfig, day: dt.date, timezone: str, settings: StreamSettings, now: float
) -> StreamDay:
    bounds = DayBounds.of(day, timezone)
    start = dt.datetime.fromtimestamp(bounds.start, dt.UTC)
    end = dt.datetime.fromtimestamp(bounds.end, dt.UTC) + READ_AFTER_END
    polls = read_polls(data_dir, entry.name, start, end)
    return merge_day(
        polls,
        bounds,
        now=now,
        with_comments=entry.comments != "none",
        grace_seconds=2 * settings.poll_seconds,
    )


def stream_document(entry: SubredditConfig, day: dt.date, merged: StreamDay) -> dict:
    """The raw file's content: the usual fields, `scraped_at` the last poll used (so a day merged
    twice is the same file), and `coverage`."""
    return {
        "subreddit": entry.name,
        "date": day.isoformat(),
        "settings": entry.settings(),
        "scraped_at": iso(merged.last_poll_utc) if merged.last_poll_utc is not None else iso(0),
        "api_requests": merged.api_requests,
        "rate_limited": merged.rate_limited,
        "late_snapshot": False,
        "reached_day_start": None,
        "notes": [],
        "submissions": merged.submissions,
        "comments": merged.comments,
        "coverage": merged.coverage,
    }
