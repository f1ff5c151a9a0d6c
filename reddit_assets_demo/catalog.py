"""The subreddits served: their datasets and states, finding submissions, and who may see what."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from reddit_assets.config import is_valid_subreddit_name
from reddit_assets_demo.generator import SubredditData
from reddit_assets_demo.httpd import HTTPError
from reddit_assets_demo.things import thing
from reddit_assets_demo.tree import CommentTree

SUBREDDIT_STATES = ("public", "private", "banned", "quarantined")


class Subreddit:
    """One subreddit's dataset, with its encoded things and comment trees built on first use."""

    def __init__(self, data: SubredditData):
        self.data = data
        self.by_id = {s["id"]: s for s in data.submissions}
        self.t3: dict[str, bytes] = {}
        self.trees: dict[str, CommentTree] = {}
        self.search_text: dict[str, str] = {}
        self.comment_owner: dict[str, str] | None = None
        self.lock = threading.Lock()

    def t3_fragment(self, s: dict) -> bytes:
        frag = self.t3.get(s["id"])
        if frag is None:
            frag = self.t3[s["id"]] = thing("t3", s)
        return frag

    def t5_fragment(self) -> bytes:
        return thing("t5", self.data.about)

    def tree(self, submission_id: str) -> CommentTree:
        tree = self.trees.get(submission_id)
        if tree is None:
            with self.lock:
                tree = self.trees.get(submission_id)
                if tree is None:
                    tree = self.trees[submission_id] = CommentTree(self.data.comments.get(submission_id, []))
        return tree

    def text(self, s: dict) -> str:
        """A submission's title and self text, lowercased, for search."""
        text = self.search_text.get(s["id"])
        if text is None:
            text = self.search_text[s["id"]] = (s["title"] + "\n" + s["selftext"]).lower()
        return text

    def owner_of_comment(self, comment_id: str) -> str | None:
        if self.comment_owner is None:
            with self.lock:
                if self.comment_owner is None:
                    self.comment_owner = {c["id"]: sid for sid, cs in self.data.comments.items() for c in cs}
        return self.comment_owner.get(comment_id)


class Catalog:
    """Subreddits by lowercased name. A name may have no data yet (generated on first use, with
    ``generate``), or only a state; unknown valid names are generated while ``may_create()``."""

    def __init__(self, generate: Callable[[str], SubredditData], may_create: Callable[[], bool]):
        self._generate = generate
        self._may_create = may_create
        self._lock = threading.RLock()
        self._subs: dict[str, Subreddit | None] = {}
        self._lazy_names: dict[str, str] = {}
        self._states: dict[str, str] = {}
        self._owner: dict[str, str] = {}  # submission id -> subreddit key
        self._cache: dict[tuple, Any] = {}

    def set(self, name: str, data: SubredditData | None, *, state: str | None = None, lazy: bool = False) -> None:
        """Serve ``data`` as ``name``'s dataset (``None``: generate now, or on first use if ``lazy``)."""
        key = name.lower()
        with self._lock:
            old = self._subs.get(key)
            if old is not None:
                for sid in old.by_id:
                    self._owner.pop(sid, None)
            if data is None and not lazy:
                data = self._generate(name)
            if data is None:
                self._subs[key] = None
                self._lazy_names[key] = name
            else:
                sub = Subreddit(data)
                self._subs[key] = sub
                for sid in sub.by_id:
                    self._owner[sid] = key
            self._cache.clear()
            if state is not None:
                self.set_state(name, state)

    def set_state(self, name: str, state: str) -> None:
        if state not in SUBREDDIT_STATES:
            raise ValueError(f"state must be one of {SUBREDDIT_STATES}")
        with self._lock:
            self._states[name.lower()] = state
            self._cache.clear()

    def state_of(self, name: str) -> str | None:
        key = name.lower()
        if key in self._states:
            return self._states[key]
        return "public" if key in self._subs else None

    def get(self, key: str) -> Subreddit | None:
        """The subreddit ``key`` (lowercase), its data generated if it has none yet; None if unknown."""
        sub = self._subs.get(key)
        if sub is not None:
            return sub
        if key in self._subs or (self._may_create() and is_valid_subreddit_name(key) and key not in self._states):
            with self._lock:
                sub = self._subs.get(key)
                if sub is None:
                    name = self._lazy_names.get(key, key)
                    self.set(name, self._generate(name))
                    sub = self._subs[key]
        return sub

    def load_all(self) -> None:
        for key in [k for k, v in self._subs.items() if v is None]:
            self.get(key)

    def loaded(self) -> list[tuple[str, Subreddit]]:
        """(key, subreddit) of every subreddit with data, in the order they were added."""
        return [(k, s) for k, s in list(self._subs.items()) if s is not None]

    def public(self) -> list[Subreddit]:
        """Every public subreddit (all generated first), by name: r/all, and search beyond one subreddit."""
        self.load_all()
        return [s for k, s in sorted(self._subs.items()) if s is not None and self._states.get(k, "public") == "public"]

    def check_access(self, key: str) -> None:
        state = self._states.get(key)
        if state == "private":
            raise HTTPError(403, {"reason": "private", "message": "Forbidden", "error": 403})
        if state == "quarantined":
            raise HTTPError(
                403,
                {
                    "reason": "quarantined",
                    "quarantine_message": "This community is quarantined.",
                    "message": "Forbidden",
                    "error": 403,
                },
            )
        if state == "banned":
            raise HTTPError(404, {"reason": "banned", "message": "Not Found", "error": 404})

    def resolve(self, name: str, base: str) -> list[Subreddit]:
        """The subreddits behind ``name`` (``a+b``, ``all``, ``popular`` too), access checked; an unknown
        name redirects to the subreddit search, as Reddit does."""
        keys = [k for k in name.lower().split("+") if k]
        if keys in (["all"], ["popular"]):
            return self.public()
        subs = []
        for key in keys:
            self.check_access(key)
            sub = self.get(key)
            if sub is None:
                raise HTTPError(302, {}, {"location": f"{base}/subreddits/search.json?q={quote(key)}"})
            subs.append(sub)
        if not subs:
            raise HTTPError(404)
        return subs

    def find_submission(self, submission_id: str) -> tuple[Subreddit, dict]:
        key = self._owner.get(submission_id)
        if key is None:
            self.load_all()
            key = self._owner.get(submission_id)
        if key is None:
            raise HTTPError(404)
        self.check_access(key)
        sub = self._subs.get(key)
        if sub is None or submission_id not in sub.by_id:
            raise HTTPError(404)
        return sub, sub.by_id[submission_id]

    def memo(self, key: tuple, build: Callable[[], Any]) -> Any:
        """``build()``'s result, kept until the data or a state changes (sorted listings)."""
        value = self._cache.get(key)
        if value is None:
            value = build()
            with self._lock:
                self._cache[key] = value
        return value
