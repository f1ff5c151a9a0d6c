"""Scraping one subreddit's listing and comment trees with PRAW.

Knows nothing of files, tables or Dagster: it returns the raw document's content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import praw
import prawcore

from reddit_assets.config import SubredditConfig
from reddit_assets.partitions import utc_day_bounds
from reddit_assets.reddit.serialize import raw_data

# Reddit serves at most about 1000 items of any listing.
LISTING_CAP = 1000


class SubredditUnavailable(RuntimeError):
    """The subreddit is private, banned, quarantined or does not exist."""


@dataclass
class ScrapeResult:
    submissions: list[dict]
    comments: list[dict]
    # For `new` on a past day: False when Reddit's listing cap ended paging before the day's start.
    reached_day_start: bool | None = None
    notes: list[str] = field(default_factory=list)
    # Submissions whose comment tree Reddit refused (403/404): kept without their comments.
    unavailable_threads: list[str] = field(default_factory=list)


def _listing(subreddit: praw.models.Subreddit, entry: SubredditConfig, limit: int | None):
    if entry.category == "hot":
        return subreddit.hot(limit=limit)
    if entry.category == "new":
        return subreddit.new(limit=limit)
    if entry.category == "rising":
        return subreddit.rising(limit=limit)
    if entry.category == "top":
        return subreddit.top(time_filter=entry.time_filter, limit=limit)
    if entry.category == "controversial":
        return subreddit.controversial(time_filter=entry.time_filter, limit=limit)
    if entry.category == "search":
        if entry.query is None:  # the config refuses a search entry without one
            raise ValueError("category 'search' needs a query")
        return subreddit.search(entry.query, time_filter=entry.time_filter, limit=limit)
    raise ValueError(f"unknown category {entry.category!r}")


def _unavailable(name: str, exc: Exception) -> SubredditUnavailable:
    reason = ""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            reason = str(response.json().get("reason") or "")
        except ValueError:
            reason = ""
    if isinstance(exc, prawcore.Redirect):
        return SubredditUnavailable(f"r/{name} does not exist (Reddit redirected to its subreddit search)")
    if isinstance(exc, prawcore.Forbidden):
        what = reason or "private or quarantined"
        return SubredditUnavailable(f"r/{name} is not accessible: {what} (HTTP 403)")
    what = "banned" if reason == "banned" else "banned or does not exist"
    return SubredditUnavailable(f"r/{name} is {what} (HTTP 404)")


def _collect_submissions(reddit: praw.Reddit, entry: SubredditConfig, past_day: dt.date | None, result: ScrapeResult):
    subreddit = reddit.subreddit(entry.name)
    if past_day is None:
        return list(_listing(subreddit, entry, entry.n_results))
    # A past day of `new`: page back until the listing passes the day's start.
    start, end = utc_day_bounds(past_day)
    found, seen = [], 0
    result.reached_day_start = False
    for submission in subreddit.new(limit=LISTING_CAP):
        seen += 1
        created = float(submission.created_utc)
        if created < start:
            result.reached_day_start = True
            break
        if created < end:
            found.append(submission)
    if seen < LISTING_CAP:
        result.reached_day_start = True  # the listing ended by itself: nothing older exists
    if not result.reached_day_start:
        result.notes.append(
            f"Reddit's listing cap stopped paging after {seen} submissions, before {past_day} began: "
            "the day's earliest submissions are missing"
        )
    return found


def _copy_comments(forest, out: list[dict]) -> None:
    """Append each comment's raw data, emptying the PRAW comment as soon as it is copied.

    PRAW's objects for a thread take about 4x its raw JSON; emptied one by one, the copies
    replace them instead of piling on top until the whole thread is copied.
    """
    for comment in forest.list():
        out.append(raw_data(comment))
        vars(comment).clear()


def _release_comments(submission) -> None:
    """Drop PRAW's comment forest once copied, so a long listing does not hold every tree."""
    vars(submission).pop("comments", None)
    submission._comments_by_id = {}


def scrape_subreddit(reddit: praw.Reddit, entry: SubredditConfig, *, past_day: dt.date | None = None) -> ScrapeResult:
    """Fetch the entry's listing and, as its `comments` setting says, every comment tree.

    `past_day` (category `new` only) collects the submissions created that UTC day.
    """
    result = ScrapeResult(submissions=[], comments=[])
    try:
        submissions = _collect_submissions(reddit, entry, past_day, result)
    except (prawcore.Redirect, prawcore.Forbidden, prawcore.NotFound) as exc:
        raise _unavailable(entry.name, exc) from None
    for submission in submissions:
        if entry.comments != "none":
            try:
                forest = submission.comments  # fetches /comments/<id>, refreshing the submission's data
                forest.replace_more(limit=entry.comment_expansions)
                _copy_comments(forest, result.comments)
            except (prawcore.Forbidden, prawcore.NotFound) as exc:
                # One removed or hidden thread: keep its listing data and say so, not fail the day.
                result.unavailable_threads.append(submission.id)
                result.notes.append(f"comments of submission {submission.id} unavailable: {exc}")
        result.submissions.append(raw_data(submission))
        _release_comments(submission)
    return result
