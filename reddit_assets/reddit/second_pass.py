"""The second pass: every scraped item's current state, fetched again through `/api/info`.

PRAW's `Reddit.info` asks for 100 fullnames per request, the most Reddit accepts, so a
partition of n items takes ceil(n / 100) requests. Knows nothing of files or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import praw
import prawcore

from reddit_assets.reddit.scraper import SubredditUnavailable, _unavailable
from reddit_assets.reddit.serialize import raw_data

SUBMISSION_PREFIX = "t3_"
COMMENT_PREFIX = "t1_"


@dataclass
class SecondPassResult:
    submissions: list[dict]
    comments: list[dict]
    missing: list[str]  # fullnames Reddit no longer returns, in the order they were asked


def fullnames(submission_ids: Iterable[str], comment_ids: Iterable[str]) -> list[str]:
    """`t3_<id>` for each submission, then `t1_<id>` for each comment."""
    return [SUBMISSION_PREFIX + i for i in submission_ids] + [COMMENT_PREFIX + i for i in comment_ids]


def _check_subreddit(reddit: praw.Reddit, name: str) -> None:
    """Raise SubredditUnavailable when the subreddit is private, banned or gone."""
    try:
        reddit.subreddit(name)._fetch()
    except (prawcore.Redirect, prawcore.Forbidden, prawcore.NotFound) as exc:
        raise _unavailable(name, exc) from None


def fetch_current_state(reddit: praw.Reddit, subreddit: str, asked: list[str]) -> SecondPassResult:
    """Every field Reddit returns now for each asked fullname; the ones it no longer returns as `missing`.

    Reddit's info endpoint leaves out what the caller may not see instead of failing, so
    when nothing at all comes back the subreddit is asked about once (one more request) to
    tell a private or banned subreddit, which fails as the scrape does, from gone items.
    """
    wanted = set(asked)
    found: dict[str, dict] = {}
    for thing in reddit.info(fullnames=list(asked)):
        data = raw_data(thing)
        name = data.get("name") or thing.fullname
        if name in wanted:  # anything else (a subreddit, a stray item) is not ours to keep
            found[name] = data
    if asked and not found:
        _check_subreddit(reddit, subreddit)
    result = SecondPassResult(submissions=[], comments=[], missing=[])
    for name in asked:
        item = found.get(name)
        if item is None:
            result.missing.append(name)
        elif name.startswith(SUBMISSION_PREFIX):
            result.submissions.append(item)
        else:
            result.comments.append(item)
    return result


__all__ = ["SecondPassResult", "SubredditUnavailable", "fetch_current_state", "fullnames"]
