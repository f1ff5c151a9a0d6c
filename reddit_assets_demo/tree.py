"""One submission's comments indexed for rendering: parents, children, subtree sizes, sort orders, JSON."""

from __future__ import annotations

import threading

from reddit_assets_demo.httpd import dumps


class CommentTree:
    """Comments by position: ``parent[i]`` (-1 for top level), ``children[i]``, ``size[i]`` (of i's subtree)."""

    def __init__(self, comments: list[dict]):
        self.comments = comments
        n = len(comments)
        self.index = {c["id"]: i for i, c in enumerate(comments)}
        self.parent = parent = [-1] * n
        self.children: list[list[int]] = [[] for _ in range(n)]
        self.roots: list[int] = []
        index = self.index
        for i, c in enumerate(comments):
            pid = c["parent_id"]
            p = index.get(pid[3:], -1) if pid.startswith("t1_") else -1
            parent[i] = p
            (self.children[p] if p >= 0 else self.roots).append(i)
        self.size = size = [1] * n
        for i in range(n - 1, -1, -1):
            if parent[i] >= 0:
                size[parent[i]] += size[i]
        self.prefix: list[bytes | None] = [None] * n
        self._orders: dict[str, tuple[list[int], list[list[int]]]] = {}
        self._lock = threading.Lock()

    def order(self, sort: str) -> tuple[list[int], list[list[int]]]:
        """Top-level comments and each comment's children in ``sort`` order (cached per sort)."""
        sort = sort if sort in ("new", "old", "controversial") else "top"
        cached = self._orders.get(sort)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._orders.get(sort)
            if cached is None:
                cs = self.comments
                key = {
                    "new": lambda i: (not cs[i]["stickied"], -cs[i]["created_utc"], i),
                    "old": lambda i: (not cs[i]["stickied"], cs[i]["created_utc"], i),
                    "controversial": lambda i: (not cs[i]["stickied"], -cs[i]["controversiality"], -cs[i]["score"], i),
                    "top": lambda i: (not cs[i]["stickied"], -cs[i]["score"], i),
                }[sort]
                cached = (sorted(self.roots, key=key), [sorted(k, key=key) if len(k) > 1 else k for k in self.children])
                self._orders[sort] = cached
        return cached

    def fragment(self, i: int, depth: int, replies: bytes | None) -> bytes:
        """Comment ``i`` as a ``t1`` thing at ``depth`` with its encoded ``replies`` Listing (None: none)."""
        pre = self.prefix[i]
        if pre is None:
            data = {k: v for k, v in self.comments[i].items() if k not in ("depth", "replies")}
            pre = self.prefix[i] = b'{"kind":"t1","data":' + dumps(data)[:-1]
        return b"".join((pre, b',"depth":', str(depth).encode(), b',"replies":', replies or b'""', b"}}"))

    def ids(self, positions: list[int]) -> list[str]:
        return [self.comments[j]["id"] for j in positions]

    def count(self, positions: list[int]) -> int:
        """Comments in the subtrees at ``positions``."""
        return sum(self.size[j] for j in positions)
