"""A live subreddit: submissions and comments created continuously, at fixed rates, from a start time on.

Item `i` of a kind is created at `start + i * 60 / per_minute`; everything about it is a pure
function of (name, seed, kind, i), so nothing is stored and a feed can run for days at hundreds of
comments a minute. Ids are a bijection of `i` that scatters them, like Reddit's comment ids since
2026: their order says nothing about creation order.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from reddit_assets_demo.generator import author_fullname, subreddit_id, to_base36

_ID_BITS = 40
_ID_MASK = (1 << _ID_BITS) - 1
_MULT = 0x9E3779B97F & _ID_MASK | 1  # odd, so multiplication is invertible modulo 2**40
_MULT_INV = pow(_MULT, -1, 1 << _ID_BITS)
_OFFSET = 36**7  # every id has 8 base36 digits or more, as Reddit's do now
# Comments come in threads of this many consecutive ones on one submission, each replying to the one before.
_THREAD = 4
_RECENT_SUBMISSIONS = 20


def _salt(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=5).digest(), "big")


@dataclass(frozen=True)
class LiveFeed:
    """One live subreddit's items; `now` is the server's clock (epoch seconds)."""

    name: str
    start: float
    submissions_per_minute: float = 5.0
    comments_per_minute: float = 500.0
    seed: int = 0

    # -- ids ------------------------------------------------------------------------------------

    def _id(self, kind: str, index: int) -> str:
        scrambled = ((index * _MULT) ^ _salt(self.name.lower(), self.seed, kind)) & _ID_MASK
        return to_base36(scrambled + _OFFSET)

    def index_of(self, kind: str, item_id: str) -> int | None:
        """The index behind an id of this feed, or None."""
        try:
            value = int(item_id, 36) - _OFFSET
        except ValueError:
            return None
        if not 0 <= value <= _ID_MASK:
            return None
        return ((value ^ _salt(self.name.lower(), self.seed, kind)) * _MULT_INV) & _ID_MASK

    # -- time -----------------------------------------------------------------------------------

    def _rate(self, kind: str) -> float:
        return self.submissions_per_minute if kind == "t3" else self.comments_per_minute

    def created(self, kind: str, index: int) -> float:
        return self.start + index * 60.0 / self._rate(kind)

    def count(self, kind: str, now: float) -> int:
        """How many items of `kind` exist at `now`."""
        rate = self._rate(kind)
        if rate <= 0 or now < self.start:
            return 0
        return math.floor((now - self.start) * rate / 60.0 + 1e-9) + 1

    # -- items ----------------------------------------------------------------------------------

    def submission(self, index: int) -> dict:
        item_id = self._id("t3", index)
        author = f"streamer{_salt(self.name, 'a', index) % 500}"
        return {
            "id": item_id,
            "name": "t3_" + item_id,
            "title": f"Live post {index} in r/{self.name}",
            "selftext": "",
            "author": author,
            "author_fullname": author_fullname(author),
            "subreddit": self.name,
            "subreddit_id": "t5_" + subreddit_id(self.name),
            "subreddit_name_prefixed": "r/" + self.name,
            "created_utc": self.created("t3", index),
            "score": 1,
            "ups": 1,
            "upvote_ratio": 1.0,
            "num_comments": 0,
            "permalink": f"/r/{self.name}/comments/{item_id}/live_post_{index}/",
            "url": f"https://www.reddit.com/r/{self.name}/comments/{item_id}/live_post_{index}/",
            "is_self": True,
            "over_18": False,
            "stickied": False,
            "edited": False,
            "removed_by_category": None,
        }

    def _submission_of(self, comment_index: int) -> int:
        """The submission a comment is on: one of the newest when its thread begins."""
        first = comment_index - comment_index % _THREAD
        existing = self.count("t3", self.created("t1", first))
        if existing <= 0:
            return 0
        return max(0, existing - 1 - (first // _THREAD) % min(existing, _RECENT_SUBMISSIONS))

    def comment(self, index: int) -> dict:
        item_id = self._id("t1", index)
        on = self._submission_of(index)
        link_id = "t3_" + self._id("t3", on)
        parent = "t1_" + self._id("t1", index - 1) if index % _THREAD else link_id
        author = f"streamer{_salt(self.name, 'c', index) % 500}"
        return {
            "id": item_id,
            "name": "t1_" + item_id,
            "body": f"live comment {index}",
            "author": author,
            "author_fullname": author_fullname(author),
            "link_id": link_id,
            "parent_id": parent,
            "subreddit": self.name,
            "subreddit_id": "t5_" + subreddit_id(self.name),
            "created_utc": self.created("t1", index),
            "score": 1,
            "ups": 1,
            "permalink": f"/r/{self.name}/comments/{link_id[3:]}/live/{item_id}/",
            "edited": False,
            "stickied": False,
            "replies": "",
        }

    def item(self, kind: str, index: int) -> dict:
        return self.submission(index) if kind == "t3" else self.comment(index)

    def newest(self, kind: str, now: float, cap: int) -> range:
        """Indexes of the listing at `now`, newest first, at most `cap`."""
        n = self.count(kind, now)
        return range(n - 1, max(-1, n - 1 - cap), -1)

    def ids_between(self, kind: str, start: float, end: float) -> set[str]:
        """Ids of the items of `kind` created in [start, end]."""
        first = max(0, math.ceil((start - self.start) * self._rate(kind) / 60.0 - 1e-9))
        last = self.count(kind, end)
        return {self._id(kind, i) for i in range(first, last)}
