"""PRAW objects back to the plain JSON data Reddit sent for them."""

from __future__ import annotations

from typing import Any

from praw.models import Redditor, Subreddit
from praw.models.base import PRAWBase

# Attributes PRAW adds to a Submission that Reddit never sent.
_PRAW_ONLY = frozenset({"comments", "comment_limit", "comment_sort", "replies"})


def plain(value: Any) -> Any:
    """A PRAW value as Reddit's JSON had it: authors and subreddits back to names."""
    if isinstance(value, Redditor):
        return value.name
    if isinstance(value, Subreddit):
        return value.display_name
    if isinstance(value, PRAWBase):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def raw_data(thing: PRAWBase) -> dict:
    """Every field Reddit returned for a submission or comment (its `data` object)."""
    return {
        key: plain(value) for key, value in vars(thing).items() if not key.startswith("_") and key not in _PRAW_ONLY
    }
