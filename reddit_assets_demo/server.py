"""A Reddit-compatible HTTP server over generated data, good enough for unmodified PRAW 8.

In-process::

    with RedditServer(["python", "rust"], day=dt.date(2024, 5, 1)) as srv:
        reddit = praw.Reddit(client_id="x", client_secret="y", user_agent="demo by u/me",
                             oauth_url=srv.url, reddit_url=srv.url, check_for_updates=False)

Command line (serves until Ctrl-C or SIGTERM)::

    python -m reddit_assets_demo.server --port 8080 --subreddits a,b,c

Endpoints: ``POST /api/v1/access_token``, ``/api/v1/revoke_token``, ``GET /api/v1/me``,
``GET /r/{sub}[/hot|new|top|controversial|rising|search|comments]``, ``GET /r/{sub}/about``,
``GET [/r/{sub}]/comments/{id}[/{slug}[/{comment_id}]]``, ``GET|POST /api/morechildren``,
``GET /api/info``; ``/_control/...`` (stats, faults, rate limit, subreddit states) is a JSON API
for tests driving a server in another process (see :class:`ServerControl`).

Like Reddit: listings page 100 at a time and stop at 1000 items; a submission's comment tree is
sent with at most ``max_initial_comments`` comments and ``max_comment_depth`` levels, the rest as
``more`` objects ("load more comments", resolved by ``/api/morechildren`` at most
``morechildren_limit`` comments per call) and "continue this thread" objects (``count`` 0,
``id`` ``"_"``, resolved by ``/comments/{id}/_/{comment_id}``, whose depths restart at 0 at the
focal comment, as Reddit's do; ``absolute_depth=True`` keeps true depths). With ``collapse_more``
(default) the hidden comments are offered as ``more`` objects packed to at most
``morechildren_limit`` comments each (Reddit instead puts one under each parent), so PRAW's
``replace_more(limit=None)`` needs about one request per ``morechildren_limit`` hidden comments
plus one per continued thread.

Every API answer carries ``x-ratelimit-remaining/used/reset``; past a :class:`RateLimit` budget
the answer is 429 with ``retry-after``. Faults (:meth:`RedditServer.add_fault`) inject statuses,
delays, truncated JSON and dropped connections.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import itertools
import json
import math
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from reddit_assets_demo.aftermath import is_missing, later_state
from reddit_assets_demo.generator import SubredditData, author_fullname, generate_subreddit

__all__ = ["RedditServer", "RateLimit", "Fault", "ServerControl", "SUBREDDIT_STATES", "main"]

SUBREDDIT_STATES = ("public", "private", "banned", "quarantined")
LISTING_CAP = 1000
_NAME_RE = re.compile(r"^[A-Za-z0-9_]{2,21}$")
_TIME_FILTERS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400, "year": 366 * 86400}
_HOT_EPOCH = 1134028003
_REASONS = {200: "OK", 204: "No Content", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_KINDS = ("listing", "comments", "morechildren", "token", "about", "info", "me", "other")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "on", "yes"}


@dataclass(frozen=True)
class RateLimit:
    """A budget of ``requests_per_window`` per fixed window of ``window_seconds``.

    The window starts at the first counted request after the previous one ended. Past the
    budget the server answers 429 with ``retry-after``. Keep the default budget large: PRAW
    paces itself from the headers, assuming a 600 s window (its ``window_size`` setting).
    """

    requests_per_window: int = 1_000_000
    window_seconds: float = 600.0


@dataclass
class Fault:
    """An injected failure for requests whose ``METHOD path?query`` matches ``pattern``."""

    pattern: str
    status: int | None = None
    times: int | None = 1  # None: forever
    retry_after: float | None = None
    delay: float | None = None
    malformed: bool = False
    drop: bool | str = False  # True/"mid": close mid-body; "immediate": close before answering
    method: str | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    id: int = 0
    hits: int = 0
    _regex: re.Pattern | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if not k.startswith("_")}


class _HTTPError(Exception):
    def __init__(self, status: int, payload: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.payload = payload if payload is not None else {"message": _REASONS.get(status, "Error"), "error": status}
        self.headers = headers or {}


@dataclass
class _Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Data indexes


def _hot_key(s: dict) -> float:
    score = s["score"]
    order = math.log10(max(abs(score), 1))
    sign = 1 if score > 0 else -1 if score < 0 else 0
    return sign * order + (s["created_utc"] - _HOT_EPOCH) / 45000


def _controversy_key(s: dict) -> float:
    ratio = s["upvote_ratio"]
    return (1 - abs(2 * ratio - 1)) * math.log(abs(s["score"]) + s["num_comments"] + 2)


class _Tree:
    """One submission's comments, indexed for rendering."""

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
        sort = sort if sort in ("new", "old", "controversial") else "top"
        cached = self._orders.get(sort)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._orders.get(sort)
            if cached is None:
                cs = self.comments
                if sort == "new":
                    key = lambda i: (not cs[i]["stickied"], -cs[i]["created_utc"], i)  # noqa: E731
                elif sort == "old":
                    key = lambda i: (not cs[i]["stickied"], cs[i]["created_utc"], i)  # noqa: E731
                elif sort == "controversial":
                    key = lambda i: (not cs[i]["stickied"], -cs[i]["controversiality"], -cs[i]["score"], i)  # noqa: E731
                else:
                    key = lambda i: (not cs[i]["stickied"], -cs[i]["score"], i)  # noqa: E731
                cached = (sorted(self.roots, key=key), [sorted(k, key=key) if len(k) > 1 else k for k in self.children])
                self._orders[sort] = cached
        return cached

    def fragment(self, i: int, depth: int, replies: bytes | None) -> bytes:
        pre = self.prefix[i]
        if pre is None:
            data = {k: v for k, v in self.comments[i].items() if k not in ("depth", "replies")}
            pre = self.prefix[i] = b'{"kind":"t1","data":' + _dumps(data)[:-1]
        return b"".join((pre, b',"depth":', str(depth).encode(), b',"replies":', replies or b'""', b"}}"))


class _Sub:
    """Runtime state of one subreddit's dataset."""

    def __init__(self, data: SubredditData):
        self.data = data
        self.by_id = {s["id"]: s for s in data.submissions}
        self.t3: dict[str, bytes] = {}
        self.trees: dict[str, _Tree] = {}
        self.search_text: dict[str, str] = {}
        self.comment_owner: dict[str, str] | None = None
        self.lock = threading.Lock()

    def t3_fragment(self, s: dict) -> bytes:
        frag = self.t3.get(s["id"])
        if frag is None:
            frag = self.t3[s["id"]] = b'{"kind":"t3","data":' + _dumps(s) + b"}"
        return frag

    def tree(self, submission_id: str) -> _Tree:
        tree = self.trees.get(submission_id)
        if tree is None:
            with self.lock:
                tree = self.trees.get(submission_id)
                if tree is None:
                    tree = self.trees[submission_id] = _Tree(self.data.comments.get(submission_id, []))
        return tree

    def text(self, s: dict) -> str:
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


def _listing(children: list[bytes], after: str | None = None, before: str | None = None, dist: int | None = -1) -> bytes:
    dist_b = b"null" if dist is None else str(len(children) if dist == -1 else dist).encode()
    return b"".join((
        b'{"kind":"Listing","data":{"after":', _dumps(after), b',"dist":', dist_b,
        b',"modhash":null,"geo_filter":"","children":[', b",".join(children), b'],"before":', _dumps(before), b"}}",
    ))


def _more(children: list[str], count: int, parent_id: str, depth: int) -> bytes:
    return _dumps({"kind": "more", "data": {
        "count": count, "name": "t1_" + children[0], "id": children[0], "parent_id": parent_id,
        "depth": depth, "children": children,
    }})


def _chunks(tree: _Tree, frontier: list[int], limit: int) -> list[list[int]]:
    """Pack consecutive hidden subtrees into groups of at most ``limit`` comments (a bigger
    subtree gets a group of its own): one ``more`` object each, one morechildren call each."""
    groups: list[list[int]] = []
    current: list[int] = []
    count = 0
    size = tree.size
    for j in frontier:
        if current and count + size[j] > limit:
            groups.append(current)
            current, count = [], 0
        current.append(j)
        count += size[j]
    if current:
        groups.append(current)
    return groups


def _continue(parent_id: str, depth: int) -> bytes:
    return _dumps({"kind": "more", "data": {
        "count": 0, "name": "t1__", "id": "_", "parent_id": parent_id, "depth": depth, "children": [],
    }})


class _Render:
    """Renders part of a comment tree the way Reddit's comment builder does."""

    def __init__(self, tree: _Tree, sort: str, budget: int, depth_limit: int, collapse: int, top_depth: int = 0,
                 depth_offset: int = 0):
        self.tree = tree
        self.children = tree.order(sort)[1]
        self.budget = budget
        self.depth_limit = max(1, depth_limit)
        self.collapse = collapse
        # `rel` counts levels from the topmost rendered comment (absolute depth `top_depth`);
        # the rendered depth is rel + depth_offset (0: Reddit's relative depths, top_depth: absolute).
        self.top_depth = top_depth
        self.depth_offset = depth_offset
        self.emitted = 0
        self.frontier: list[int] = []

    def level(self, items: list[int], parent_fullname: str, rel: int) -> list[bytes]:
        if not items:
            return []
        tree = self.tree
        shown_depth = rel + self.depth_offset
        if rel >= self.depth_limit:
            return [_continue(parent_fullname, shown_depth)]
        out = []
        for k, i in enumerate(items):
            if self.emitted >= self.budget:
                rest = items[k:]
                if self.collapse:
                    self.frontier.extend(rest)
                else:
                    ids = [tree.comments[j]["id"] for j in rest]
                    out.append(_more(ids, sum(tree.size[j] for j in rest), parent_fullname, shown_depth))
                break
            self.emitted += 1
            kids = self.children[i]
            replies = None
            if kids:
                replies = _listing(self.level(kids, tree.comments[i]["name"], rel + 1), dist=None)
            out.append(tree.fragment(i, shown_depth, replies))
        return out

    def frontier_mores(self) -> list[bytes]:
        """With ``collapse`` (the morechildren limit), the hidden comments as packed ``more`` objects."""
        tree = self.tree
        out = []
        for group in _chunks(tree, self.frontier, self.collapse) if self.frontier else ():
            c = tree.comments[group[0]]
            depth = c["depth"] - self.top_depth + self.depth_offset
            out.append(_more([tree.comments[j]["id"] for j in group], sum(tree.size[j] for j in group),
                             c["parent_id"], depth))
        return out


# ---------------------------------------------------------------------------------------------
# The HTTP layer


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address, handler, app: RedditServer):
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        self.app._count_connection()
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-reddit/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections

    def setup(self):
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().setup()

    def log_message(self, format, *args):  # noqa: A002
        if self.server.app.verbose:
            sys.stderr.write("fake-reddit: " + (format % args) + "\n")

    def _dispatch(self):
        try:
            self.server.app._handle(self)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


# ---------------------------------------------------------------------------------------------
# The server


class RedditServer:
    """A fake Reddit over generated data.

    ``subreddits``: names (generated on first use with ``day``, ``seed`` and ``generator_kwargs``),
    or a mapping of name to :class:`SubredditData` (``None``: generate). ``private``, ``banned``
    and ``quarantined`` name subreddits in those states (they need no data). Names are
    case-insensitive. Unknown names get a 302 to ``/subreddits/search`` unless ``auto_create``.
    """

    def __init__(
        self,
        subreddits: Mapping[str, SubredditData | None] | Iterable[str] | str | None = None,
        *,
        day: dt.date | None = None,
        seed: int = 0,
        generator_kwargs: Mapping[str, Any] | None = None,
        private: Iterable[str] = (),
        banned: Iterable[str] = (),
        quarantined: Iterable[str] = (),
        auto_create: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: RateLimit | None = None,
        credentials: Mapping[str, str] | None = None,
        users: Mapping[str, str] | None = None,
        check_tokens: bool = True,
        token_ttl: int = 86400,
        max_initial_comments: int = 200,
        max_comment_depth: int = 10,
        morechildren_limit: int = 100,
        collapse_more: bool = True,
        absolute_depth: bool = False,
        now: float | Callable[[], float] | None = None,
        verbose: bool = False,
    ):
        self.day = day or (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1))
        self.seed = seed
        self.generator_kwargs = dict(generator_kwargs or {})
        self.auto_create = auto_create
        self.host = host
        self._port = port
        self.rate_limit = rate_limit or RateLimit()
        self.credentials = dict(credentials) if credentials is not None else None
        self.users = dict(users) if users is not None else None
        self.check_tokens = check_tokens
        self.token_ttl = token_ttl
        self.max_initial_comments = max_initial_comments
        self.max_comment_depth = max_comment_depth
        self.morechildren_limit = morechildren_limit
        self.collapse_more = collapse_more
        self.absolute_depth = absolute_depth
        self._now = now
        self.verbose = verbose

        self._lock = threading.RLock()
        self._subs: dict[str, _Sub | None] = {}
        self._lazy_names: dict[str, str] = {}
        self._states: dict[str, str] = {}
        self._owner: dict[str, str] = {}  # submission id -> subreddit key
        self._listing_cache: dict[tuple, list[dict]] = {}
        self._tokens: dict[str, tuple[float, str, str | None]] = {}
        self._faults: list[Fault] = []
        self._fault_seq = 0
        self._rl_lock = threading.Lock()
        self._rl_window_end = 0.0
        self._rl_used = 0
        self._stats_lock = threading.Lock()
        self._request_ids = itertools.count()
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset_stats()

        if isinstance(subreddits, str):
            subreddits = [s for s in subreddits.split(",") if s.strip()]
        if isinstance(subreddits, Mapping):
            for name, data in subreddits.items():
                self.set_subreddit(name, data, _lazy=data is None)
        else:
            for name in subreddits or ():
                self.set_subreddit(name.strip(), None, _lazy=True)
        for names, state in ((private, "private"), (banned, "banned"), (quarantined, "quarantined")):
            for name in names:
                self.set_state(name, state)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RedditServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer((self.host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-reddit", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._port = httpd.server_address[1]

    def __enter__(self) -> RedditServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_until_signal(self) -> None:
        """Serve until SIGINT or SIGTERM (main thread only)."""
        done = threading.Event()
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
        self.start()
        try:
            while not done.wait(0.5):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- data -----------------------------------------------------------------------------------

    def now(self) -> float:
        if self._now is None:
            return time.time()
        return self._now() if callable(self._now) else float(self._now)

    def data_for(self, name: str, day: dt.date | None = None) -> SubredditData:
        """Generate ``name``'s data for ``day`` with this server's seed and generator settings."""
        return generate_subreddit(name, day or self.day, seed=self.seed, **self.generator_kwargs)

    def set_subreddit(self, name: str, data: SubredditData | None = None, *, state: str | None = None,
                      _lazy: bool = False) -> None:
        """Serve ``data`` (``None``: generate for the server's day) as ``name``'s current dataset."""
        key = name.lower()
        with self._lock:
            old = self._subs.get(key)
            if old is not None:
                for sid in old.by_id:
                    self._owner.pop(sid, None)
            if data is None and not _lazy:
                data = self.data_for(name)
            if data is None:
                self._subs[key] = None
                self._lazy_names[key] = name
            else:
                sub = _Sub(data)
                self._subs[key] = sub
                for sid in sub.by_id:
                    self._owner[sid] = key
            self._listing_cache.clear()
            if state is not None:
                self.set_state(name, state)

    def remove_subreddit(self, name: str) -> None:
        key = name.lower()
        with self._lock:
            old = self._subs.pop(key, None)
            if old is not None:
                for sid in old.by_id:
                    self._owner.pop(sid, None)
            self._states.pop(key, None)
            self._listing_cache.clear()

    def set_state(self, name: str, state: str) -> None:
        """``state``: one of ``public``, ``private`` (403), ``banned`` (404), ``quarantined`` (403)."""
        if state not in SUBREDDIT_STATES:
            raise ValueError(f"state must be one of {SUBREDDIT_STATES}")
        with self._lock:
            self._states[name.lower()] = state
            self._listing_cache.clear()

    def state_of(self, name: str) -> str | None:
        key = name.lower()
        if key in self._states:
            return self._states[key]
        return "public" if key in self._subs else None

    def subreddit_data(self, name: str) -> SubredditData:
        sub = self._sub(name.lower())
        if sub is None:
            raise KeyError(name)
        return sub.data

    def _sub(self, key: str) -> _Sub | None:
        sub = self._subs.get(key)
        if sub is not None:
            return sub
        if key in self._subs or (self.auto_create and _NAME_RE.match(key) and key not in self._states):
            with self._lock:
                sub = self._subs.get(key)
                if sub is None:
                    name = self._lazy_names.get(key, key)
                    self.set_subreddit(name, self.data_for(name))
                    sub = self._subs[key]
        return sub

    def _ensure_all(self) -> None:
        for key in [k for k, v in self._subs.items() if v is None]:
            self._sub(key)

    def _check_access(self, key: str) -> None:
        state = self._states.get(key)
        if state == "private":
            raise _HTTPError(403, {"reason": "private", "message": "Forbidden", "error": 403})
        if state == "quarantined":
            raise _HTTPError(403, {"reason": "quarantined", "quarantine_message": "This community is quarantined.",
                                   "message": "Forbidden", "error": 403})
        if state == "banned":
            raise _HTTPError(404, {"reason": "banned", "message": "Not Found", "error": 404})

    def _resolve(self, name: str, base: str) -> list[_Sub]:
        """The subreddits behind ``name`` (``a+b``, ``all``, ``popular`` too), access checked."""
        keys = [k for k in name.lower().split("+") if k]
        if keys in (["all"], ["popular"]):
            self._ensure_all()
            return [s for k, s in sorted(self._subs.items()) if s is not None and self._states.get(k, "public") == "public"]
        subs = []
        for key in keys:
            self._check_access(key)
            sub = self._sub(key)
            if sub is None:
                raise _HTTPError(302, {}, {"location": f"{base}/subreddits/search.json?q={quote(key)}"})
            subs.append(sub)
        if not subs:
            raise _HTTPError(404)
        return subs

    def _find_submission(self, submission_id: str) -> tuple[_Sub, dict]:
        key = self._owner.get(submission_id)
        if key is None:
            self._ensure_all()
            key = self._owner.get(submission_id)
        if key is None:
            raise _HTTPError(404)
        self._check_access(key)
        sub = self._subs.get(key)
        if sub is None or submission_id not in sub.by_id:
            raise _HTTPError(404)
        return sub, sub.by_id[submission_id]

    # -- faults, rate limit, stats --------------------------------------------------------------

    def add_fault(self, path_regex: str, *, status: int | None = None, times: int | None = 1,
                  retry_after: float | None = None, delay: float | None = None, malformed: bool = False,
                  drop: bool | str = False, method: str | None = None, body: Any = None,
                  headers: Mapping[str, str] | None = None) -> Fault:
        """Fail the next ``times`` requests (``None``: all) whose ``path?query`` matches ``path_regex``
        (``re.search``): sleep ``delay`` s, then answer ``status`` (JSON ``body``, extra ``headers``,
        ``retry-after``), or the normal answer; ``malformed`` truncates the JSON body; ``drop``
        closes the connection mid-body (``True``/``"mid"``) or before answering (``"immediate"``).
        """
        if drop not in (False, True, "mid", "immediate"):
            raise ValueError("drop must be False, True, 'mid' or 'immediate'")
        with self._lock:
            self._fault_seq += 1
            fault = Fault(pattern=path_regex, status=status, times=times, retry_after=retry_after, delay=delay,
                          malformed=malformed, drop=drop, method=method.upper() if method else None, body=body,
                          headers=dict(headers) if headers else None, id=self._fault_seq,
                          _regex=re.compile(path_regex))
            self._faults.append(fault)
        return fault

    def remove_fault(self, fault: Fault | int) -> None:
        fid = fault.id if isinstance(fault, Fault) else fault
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fid]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def faults(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method and fault.method != method:
                    continue
                if fault._regex.search(target):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def set_rate_limit(self, rate_limit: RateLimit | None) -> None:
        """Change the budget (``None``: the generous default) and start a fresh window."""
        with self._rl_lock:
            self.rate_limit = rate_limit or RateLimit()
            self._rl_used = 0
            self._rl_window_end = 0.0

    def _account(self) -> tuple[dict[str, str], float | None]:
        """Count one request against the budget: its headers, and retry-after when over budget."""
        limit = self.rate_limit
        with self._rl_lock:
            now = time.monotonic()
            if now >= self._rl_window_end:
                self._rl_window_end = now + limit.window_seconds
                self._rl_used = 0
            # Whole seconds left, rounded down: rounding up would make PRAW's pacing sleep.
            left = self._rl_window_end - now
            reset = max(0, int(left))
            over = self._rl_used >= limit.requests_per_window
            if not over:
                self._rl_used += 1
            used = self._rl_used
        headers = {
            "x-ratelimit-remaining": f"{float(max(0, limit.requests_per_window - used)):.1f}",
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
        }
        return headers, (max(1, math.ceil(left)) if over else None)

    def _rl_headers(self) -> dict[str, str]:
        limit = self.rate_limit
        with self._rl_lock:
            now = time.monotonic()
            used = self._rl_used if now < self._rl_window_end else 0
            reset = max(0, int(self._rl_window_end - now)) if now < self._rl_window_end else int(limit.window_seconds)
        return {"x-ratelimit-remaining": f"{float(max(0, limit.requests_per_window - used)):.1f}",
                "x-ratelimit-used": str(used), "x-ratelimit-reset": str(reset)}

    def revoke_tokens(self) -> None:
        """Forget every issued access token: the next API request of each client gets a 401."""
        with self._lock:
            self._tokens.clear()

    def _count_connection(self) -> None:
        with self._stats_lock:
            self._connections += 1

    def reset_stats(self) -> None:
        with self._stats_lock:
            in_flight = getattr(self, "_in_flight", 0)
            self._in_flight = in_flight
            self._max_in_flight = in_flight
            self._open: dict[int, tuple] = getattr(self, "_open", {})
            self._peak_requests: list[tuple] = sorted(self._open.values())
            self._total = 0
            self._by_kind: Counter = Counter({k: 0 for k in _KINDS})
            self._by_endpoint: Counter = Counter()
            self._by_status: Counter = Counter()
            self._throttled: list[dict] = []
            self._faults_triggered = 0
            self._comments_served = 0
            self._submissions_served = 0
            self._bytes_sent = 0
            self._connections = 0
            self._log: deque = deque(maxlen=100_000)

    def stats(self) -> dict:
        """Request counts (``/_control`` excluded), concurrency (with the requests in flight at
        its peak), 429s sent, current rate-limit usage."""
        with self._stats_lock:
            out = {
                "requests": self._total,
                "by_kind": dict(self._by_kind),
                "by_endpoint": dict(self._by_endpoint),
                "by_status": {str(k): v for k, v in self._by_status.items()},
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "peak_requests": list(self._peak_requests),
                "throttled": list(self._throttled),
                "faults_triggered": self._faults_triggered,
                "comments_served": self._comments_served,
                "submissions_served": self._submissions_served,
                "bytes_sent": self._bytes_sent,
                "connections_opened": self._connections,
            }
        out["ratelimit"] = {k.removeprefix("x-ratelimit-"): v for k, v in self._rl_headers().items()}
        return out

    def request_log(self) -> list[tuple[str, str, int]]:
        """The last 100,000 requests as ``(method, path?query, status)``."""
        with self._stats_lock:
            return list(self._log)

    # -- request handling -----------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        method = h.command.upper()
        split = urlsplit(h.path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(h.headers.get("content-length") or 0)
        raw_body = h.rfile.read(length) if length > 0 else b""
        base = f"http://{h.headers.get('host') or f'{self.host}:{self.port}'}"

        if path.startswith("/_control"):
            resp = self._control(method, path, query, raw_body)
            self._send(h, resp)
            return

        parts = [p for p in path.split("/") if p]
        if parts and parts[-1].endswith(".json"):
            parts[-1] = parts[-1][:-5]
        kind, endpoint = self._classify(method, parts)
        target = h.path
        with self._stats_lock:
            self._total += 1
            self._by_kind[kind] += 1
            self._by_endpoint[endpoint] += 1
            self._in_flight += 1
            request_id = next(self._request_ids)
            self._open[request_id] = (round(time.time(), 3), method, target, h.client_address[1])
            if self._in_flight > self._max_in_flight:
                self._max_in_flight = self._in_flight
                self._peak_requests = sorted(self._open.values())
        status = 0
        recorded = False
        started = time.monotonic()

        def record() -> None:
            # Before the answer goes out, so a client never sees stale stats, and so the
            # client's next request (sent as soon as it has this answer) never overlaps this one.
            nonlocal recorded
            recorded = True
            with self._stats_lock:
                self._by_status[status] += 1
                self._log.append((method, target, status))
                self._in_flight -= 1
                self._open.pop(request_id, None)

        try:
            fault = self._take_fault(method, target)
            if fault is not None:
                with self._stats_lock:
                    self._faults_triggered += 1
                if fault.delay:
                    self._stop.wait(fault.delay)
                if fault.drop == "immediate":
                    status = -1
                    record()
                    h.close_connection = True
                    try:
                        h.request.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
            if kind == "token":
                rl_headers, retry_after = self._rl_headers(), None
            else:
                rl_headers, retry_after = self._account()
            if fault is not None and fault.status is not None:
                resp = self._fault_response(fault)
                if fault.status == 429:
                    self._record_429(method, target, fault.retry_after, injected=True)
            elif retry_after is not None:
                resp = _Response(429, _dumps({"message": "Too Many Requests", "error": 429}),
                                 {"retry-after": str(retry_after)})
                self._record_429(method, target, retry_after, injected=False)
            else:
                resp = self._dispatch(method, parts, kind, query, raw_body, h, base)
            for k, v in rl_headers.items():
                resp.headers.setdefault(k, v)
            status = resp.status
            record()
            if fault is not None and (fault.malformed or fault.drop):
                self._send_faulty(h, resp, fault)
            else:
                self._send(h, resp)
        finally:
            if not recorded:
                record()
            if self.verbose:
                sys.stderr.write(f"fake-reddit: {method} {target} {status} {1000 * (time.monotonic() - started):.1f}ms\n")

    def _record_429(self, method: str, target: str, retry_after: Any, *, injected: bool) -> None:
        with self._stats_lock:
            self._throttled.append({"time": time.time(), "method": method, "path": target,
                                    "retry_after": retry_after, "injected": injected})

    @staticmethod
    def _fault_response(fault: Fault) -> _Response:
        body = fault.body
        if body is None:
            body = {"message": _REASONS.get(fault.status, "Error"), "error": fault.status}
        data = body.encode() if isinstance(body, str) else _dumps(body)
        headers = dict(fault.headers or {})
        if fault.retry_after is not None:
            ra = fault.retry_after
            headers["retry-after"] = str(int(ra) if float(ra).is_integer() else ra)
        return _Response(fault.status, data, headers)

    @staticmethod
    def _classify(method: str, parts: list[str]) -> tuple[str, str]:
        if parts[:2] == ["api", "v1"] and len(parts) >= 3:
            if parts[2] in ("access_token", "revoke_token"):
                return "token", parts[2]
            if parts[2] == "me":
                return "me", "me"
        if parts[:2] == ["api", "morechildren"]:
            return "morechildren", "morechildren"
        if parts[:2] == ["api", "info"]:
            return "info", "info"
        rest = parts[2:] if parts[:1] == ["r"] and len(parts) >= 2 else None
        if parts[:1] == ["comments"] or (rest and rest[0] == "comments" and len(rest) >= 2):
            tail = parts[1:] if parts[:1] == ["comments"] else rest[1:]
            return "comments", "comments_focus" if len(tail) >= 3 else "comments"
        if rest is not None:
            if not rest:
                return "listing", "hot"
            if rest[0] == "about" and len(rest) == 1:
                return "about", "about"
            if rest[0] in ("hot", "new", "top", "controversial", "rising", "search", "comments", "best") and len(rest) == 1:
                return "listing", "sub_comments" if rest[0] == "comments" else rest[0]
        return "other", "other"

    def _check_token(self, h: _Handler) -> None:
        if not self.check_tokens:
            return
        auth = h.headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[0] < time.monotonic():
            raise _HTTPError(401, {"message": "Unauthorized", "error": 401},
                             {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})

    def _dispatch(self, method, parts, kind, query, raw_body, h, base) -> _Response:
        try:
            if kind == "token":
                return self._token(parts[2], h, raw_body)
            self._check_token(h)
            form = dict(query)
            if raw_body and method in ("POST", "PUT", "PATCH"):
                form.update({k: v[-1] for k, v in parse_qs(raw_body.decode("utf-8", "replace"), keep_blank_values=True).items()})
            if kind == "me":
                return self._me(h)
            if kind == "morechildren":
                return self._json(self._morechildren(form))
            if kind == "info":
                return self._info(form)
            if method != "GET":
                raise _HTTPError(405) if kind != "other" else _HTTPError(404)
            if kind == "comments":
                return self._comments(parts, form)
            if kind == "about":
                sub = self._resolve(parts[1], base)[0]
                about = dict(sub.data.about)
                return _Response(200, b'{"kind":"t5","data":' + _dumps(about) + b"}")
            if kind == "listing":
                rest = parts[2:]
                return self._listing_response(parts[1], rest[0] if rest else "hot", form, base)
            if parts[:2] == ["subreddits", "search"]:
                return _Response(200, _listing([]))
            raise _HTTPError(404)
        except _HTTPError as err:
            body = _dumps(err.payload) if err.payload != {} else b""
            return _Response(err.status, body, dict(err.headers))
        except Exception:  # a bug: answer 500 (prawcore retries it) and say why
            traceback.print_exc()
            return _Response(500, _dumps({"message": "Internal Server Error", "error": 500}))

    @staticmethod
    def _json(data: bytes) -> _Response:
        return _Response(200, data)

    # -- endpoints ------------------------------------------------------------------------------

    def _token(self, which: str, h: _Handler, raw_body: bytes) -> _Response:
        form = {k: v[-1] for k, v in parse_qs(raw_body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, secret = None, None
        auth = h.headers.get("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except ValueError:
                client_id = None
        unauthorized = _Response(401, _dumps({"message": "Unauthorized", "error": 401}))
        if client_id is None:
            return unauthorized
        if self.credentials is not None and self.credentials.get(client_id) != secret:
            return unauthorized
        if which == "revoke_token":
            with self._lock:
                self._tokens.pop(form.get("token", ""), None)
            return _Response(200, b"", {})
        grant = form.get("grant_type", "")
        username = None
        if grant == "password":
            username = form.get("username", "")
            if self.users is not None and self.users.get(username) != form.get("password"):
                return _Response(200, _dumps({"error": "invalid_grant"}))
        elif grant not in ("client_credentials", "refresh_token", "https://oauth.reddit.com/grants/installed_client"):
            return _Response(200, _dumps({"error": "unsupported_grant_type"}))
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e[0] > now}
            self._tokens[token] = (now + self.token_ttl, client_id, username)
        return _Response(200, _dumps({"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl,
                                      "scope": "*"}))

    def _me(self, h: _Handler) -> _Response:
        auth = (h.headers.get("authorization") or "").partition(" ")[2].strip()
        entry = self._tokens.get(auth)
        username = entry[2] if entry else None
        if not username:
            raise _HTTPError(403, {"message": "Forbidden", "error": 403})
        return _Response(200, _dumps({"name": username, "id": author_fullname(username)[3:], "created_utc": 1262304000.0,
                                      "link_karma": 1, "comment_karma": 1, "is_suspended": False}))

    def _sorted(self, subs: list[_Sub], sort: str, t: str) -> list[dict]:
        key = (tuple(id(s) for s in subs), sort)
        items = self._listing_cache.get(key)
        if items is None:
            if len(subs) == 1:
                items = list(subs[0].data.submissions)
            else:
                items = [s for sub in subs for s in sub.data.submissions]
            if sort == "new":
                items.sort(key=lambda s: (s["created_utc"], s["id"]), reverse=True)
            elif sort == "top":
                items.sort(key=lambda s: (-s["score"], -s["created_utc"]))
            elif sort == "controversial":
                items.sort(key=lambda s: (-_controversy_key(s), -s["created_utc"]))
            elif sort == "rising":
                ref = max((s["created_utc"] for s in items), default=0.0)
                items.sort(key=lambda s: -s["score"] / ((ref - s["created_utc"]) / 3600 + 2) ** 1.5)
            elif sort == "comments":
                items.sort(key=lambda s: (-s["num_comments"], -s["created_utc"]))
            else:  # hot, best
                items.sort(key=lambda s: (not s["stickied"], -_hot_key(s)))
            with self._lock:
                self._listing_cache[key] = items
        if t in _TIME_FILTERS and sort in ("top", "controversial"):
            cutoff = self.now() - _TIME_FILTERS[t]
            items = [s for s in items if s["created_utc"] >= cutoff]
        return items

    def _listing_response(self, name: str, sort: str, form: dict, base: str) -> _Response:
        subs = self._resolve(name, base)
        t = form.get("t", "all")
        if sort == "comments":
            return self._comment_listing(subs, form)
        if sort == "search":
            q = (form.get("q") or "").strip().lower()
            if not _truthy(form.get("restrict_sr")):
                self._ensure_all()
                subs = [s for k, s in sorted(self._subs.items()) if s is not None and self._states.get(k, "public") == "public"]
            if not q:
                return _Response(200, _listing([]))
            search_sort = form.get("sort", "relevance")
            order = {"hot": "hot", "top": "top", "new": "new", "comments": "comments"}.get(search_sort, "top")
            texts = {}
            for sub in subs:
                for s in sub.data.submissions:
                    texts[s["id"]] = sub.text(s)
            items = [s for s in self._sorted(subs, order, "all") if q in texts[s["id"]]]
            if search_sort == "relevance":
                items.sort(key=lambda s: -(3 * s["title"].lower().count(q) + texts[s["id"]].count(q)))
            if t in _TIME_FILTERS:
                cutoff = self.now() - _TIME_FILTERS[t]
                items = [s for s in items if s["created_utc"] >= cutoff]
        else:
            items = self._sorted(subs, sort, t)
        page, after, before = self._page(items[:LISTING_CAP], form)
        if len(subs) == 1:
            frags = [subs[0].t3_fragment(s) for s in page]
        else:
            by_name = {sub.data.about["display_name"].lower(): sub for sub in subs}
            frags = [by_name.get(s["subreddit"].lower(), subs[0]).t3_fragment(s) for s in page]
        with self._stats_lock:
            self._submissions_served += len(frags)
        return _Response(200, _listing(frags, after, before))

    @staticmethod
    def _page(items: list[dict], form: dict) -> tuple[list[dict], str | None, str | None]:
        try:
            limit = int(form.get("limit") or 25)
        except ValueError:
            limit = 25
        limit = max(1, min(100, limit))
        after_name, before_name = form.get("after"), form.get("before")
        if after_name:
            pos = next((i for i, s in enumerate(items) if s["name"] == after_name), None)
            if pos is None:
                return [], None, None
            start, end = pos + 1, pos + 1 + limit
        elif before_name:
            pos = next((i for i, s in enumerate(items) if s["name"] == before_name), None)
            if pos is None:
                return [], None, None
            start, end = max(0, pos - limit), pos
        else:
            start, end = 0, limit
        page = items[start:end]
        after = page[-1]["name"] if page and end < len(items) else None
        before = page[0]["name"] if page and start > 0 else None
        return page, after, before

    def _comment_listing(self, subs: list[_Sub], form: dict) -> _Response:
        key = (tuple(id(s) for s in subs), "__comments__")
        items = self._listing_cache.get(key)
        if items is None:
            rows = []
            for sub in subs:
                for sid, comments in sub.data.comments.items():
                    s = sub.by_id[sid]
                    for c in comments:
                        rows.append((c, s))
            rows.sort(key=lambda r: (r[0]["created_utc"], r[0]["id"]), reverse=True)
            items = []
            for c, s in rows[:LISTING_CAP]:
                d = dict(c)
                d.update(link_title=s["title"], link_author=s["author"], link_permalink="https://www.reddit.com" + s["permalink"],
                         link_url=s["url"], num_comments=s["num_comments"], over_18=s["over_18"], replies="")
                items.append(d)
            with self._lock:
                self._listing_cache[key] = items
        page, after, before = self._page(items, form)
        with self._stats_lock:
            self._comments_served += len(page)
        return _Response(200, _listing([_dumps({"kind": "t1", "data": d}) for d in page], after, before))

    def _int(self, form: dict, name: str, default: int) -> int:
        try:
            return int(form.get(name) or default)
        except ValueError:
            return default

    def _comments(self, parts: list[str], form: dict) -> _Response:
        tail = parts[1:] if parts[0] == "comments" else parts[3:]
        submission_id = tail[0].lower()
        focus_id = tail[2].lower() if len(tail) >= 3 else None
        sub, s = self._find_submission(submission_id)
        if parts[0] == "r" and parts[1].lower() != s["subreddit"].lower():
            raise _HTTPError(404)
        tree = sub.tree(submission_id)
        sort = form.get("sort") or "confidence"
        budget = min(self._int(form, "limit", self.max_initial_comments), self.max_initial_comments)
        depth_limit = self.max_comment_depth
        if form.get("depth"):
            depth_limit = max(1, min(depth_limit, self._int(form, "depth", depth_limit)))
        roots, children = tree.order(sort)
        collapse = max(1, self.morechildren_limit) if self.collapse_more else 0
        if focus_id is None:
            render = _Render(tree, sort, max(0, budget), depth_limit, collapse)
            frags = render.level(roots, s["name"], 0)
            frags.extend(render.frontier_mores())
        else:
            if focus_id not in tree.index:
                raise _HTTPError(404)
            focal = tree.index[focus_id]
            chain = [focal]
            for _ in range(min(8, max(0, self._int(form, "context", 0)))):
                if tree.parent[chain[-1]] < 0:
                    break
                chain.append(tree.parent[chain[-1]])
            top_abs = tree.comments[chain[-1]]["depth"]
            offset = top_abs if self.absolute_depth else 0
            focal_rel = len(chain) - 1
            render = _Render(tree, sort, max(1, budget), depth_limit, collapse, top_abs, offset)
            render.emitted = 1
            kids = render.level(children[focal], tree.comments[focal]["name"], focal_rel + 1)
            kids.extend(render.frontier_mores())
            frag = tree.fragment(focal, focal_rel + offset, _listing(kids, dist=None) if kids else None)
            for rel, anc in enumerate(chain[1:], start=1):
                frag = tree.fragment(anc, focal_rel - rel + offset, _listing([frag], dist=None))
            frags = [frag]
        with self._stats_lock:
            self._comments_served += render.emitted
            self._submissions_served += 1
        body = b"".join((b"[", _listing([sub.t3_fragment(s)], dist=1), b",", _listing(frags, dist=None), b"]"))
        return _Response(200, body)

    def _morechildren(self, form: dict) -> bytes:
        link_id = form.get("link_id") or ""
        if not link_id.startswith("t3_"):
            raise _HTTPError(400, {"json": {"errors": [["BAD_REQUEST", "link_id is required", "link_id"]]}})
        sub, s = self._find_submission(link_id[3:])
        tree = sub.tree(s["id"])
        _, children = tree.order(form.get("sort") or "confidence")
        wanted = [tree.index[c.strip().lower()] for c in (form.get("children") or "").split(",")
                  if c.strip().lower() in tree.index]
        limit = max(1, self.morechildren_limit)
        emitted: list[int] = []
        frontier: list[int] = []
        if _truthy(form.get("limit_children")):
            emitted = wanted[:limit]
            frontier = wanted[limit:] + [k for i in emitted for k in children[i]]
        else:
            stack = wanted[::-1]
            while stack and len(emitted) < limit:
                i = stack.pop()
                emitted.append(i)
                kids = children[i]
                if kids:
                    stack.extend(reversed(kids))
            frontier = stack[::-1]
        things = [tree.fragment(i, tree.comments[i]["depth"], None) for i in emitted]
        if frontier:
            groups: list[list[int]] = []
            if self.collapse_more:
                groups = _chunks(tree, frontier, limit)
            else:
                for i in frontier:
                    if groups and tree.parent[groups[-1][0]] == tree.parent[i]:
                        groups[-1].append(i)
                    else:
                        groups.append([i])
            for group in groups:
                c = tree.comments[group[0]]
                things.append(_more([tree.comments[j]["id"] for j in group], sum(tree.size[j] for j in group),
                                    c["parent_id"], c["depth"]))
        with self._stats_lock:
            self._comments_served += len(emitted)
        return b'{"json":{"errors":[],"data":{"things":[' + b",".join(things) + b"]}}}"

    def _info(self, form: dict) -> _Response:
        frags = []
        names = [n.strip() for n in (form.get("id") or "").split(",") if n.strip()]
        if names:
            self._ensure_all()
        for fullname in names[:100]:
            kind, _, thing_id = fullname.partition("_")
            if kind in ("t1", "t3") and is_missing(thing_id, self.seed):
                continue  # gone for good: Reddit's info leaves it out
            try:
                if kind == "t3":
                    # Info shows items as they are later (aftermath.py), not as listings first showed them.
                    sub, s = self._find_submission(thing_id)
                    frags.append(b'{"kind":"t3","data":' + _dumps(later_state(s, "t3", self.seed)) + b"}")
                elif kind == "t1":
                    for key, sub in list(self._subs.items()):
                        if sub is None or self._states.get(key, "public") != "public":
                            continue
                        sid = sub.owner_of_comment(thing_id)
                        if sid is not None:
                            tree = sub.tree(sid)
                            data = later_state(tree.comments[tree.index[thing_id]], "t1", self.seed) | {"replies": ""}
                            frags.append(b'{"kind":"t1","data":' + _dumps(data) + b"}")
                            break
                elif kind == "t5":
                    for sub in self._subs.values():
                        if sub is not None and sub.data.about["id"] == thing_id:
                            frags.append(b'{"kind":"t5","data":' + _dumps(sub.data.about) + b"}")
            except _HTTPError:
                continue
        for name in (form.get("sr_name") or "").split(","):
            sub = self._sub(name.strip().lower()) if name.strip() else None
            if sub is not None:
                frags.append(b'{"kind":"t5","data":' + _dumps(sub.data.about) + b"}")
        return _Response(200, _listing(frags))

    # -- control API ----------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict, raw_body: bytes) -> _Response:
        parts = [p for p in path.split("/") if p][1:]
        try:
            body = json.loads(raw_body) if raw_body.strip() else {}
        except ValueError:
            return _Response(400, _dumps({"error": "invalid JSON body"}))
        try:
            if parts == ["health"]:
                return _Response(200, _dumps({"ok": True, "url": self.url}))
            if parts[:1] == ["stats"]:
                if method == "DELETE" or parts[1:] == ["reset"]:
                    self.reset_stats()
                    return _Response(200, _dumps({"ok": True}))
                return _Response(200, _dumps(self.stats()))
            if parts[:1] == ["faults"]:
                if method == "DELETE":
                    if len(parts) > 1:
                        self.remove_fault(int(parts[1]))
                    else:
                        self.clear_faults()
                    return _Response(200, _dumps({"ok": True}))
                if method == "POST":
                    items = body if isinstance(body, list) else [body]
                    ids = []
                    for item in items:
                        item = dict(item)
                        pattern = item.pop("path", None) or item.pop("path_regex", None) or item.pop("pattern")
                        ids.append(self.add_fault(pattern, **item).id)
                    return _Response(200, _dumps({"ok": True, "ids": ids, "id": ids[0] if ids else None}))
                return _Response(200, _dumps(self.faults()))
            if parts[:1] == ["ratelimit"]:
                if method in ("POST", "PUT"):
                    self.set_rate_limit(RateLimit(**body) if body else None)
                elif method == "DELETE":
                    self.set_rate_limit(self.rate_limit)
                return _Response(200, _dumps(dataclasses.asdict(self.rate_limit)))
            if parts[:1] == ["subreddits"] and len(parts) == 2:
                if method in ("POST", "PUT"):
                    if body.get("regenerate") or "day" in body or "seed" in body:
                        day = dt.date.fromisoformat(body["day"]) if body.get("day") else self.day
                        data = generate_subreddit(parts[1], day, seed=body.get("seed", self.seed), **self.generator_kwargs)
                        self.set_subreddit(parts[1], data)
                    if body.get("state"):
                        self.set_state(parts[1], body["state"])
                elif method == "DELETE":
                    self.remove_subreddit(parts[1])
                return _Response(200, _dumps({"name": parts[1], "state": self.state_of(parts[1])}))
        except (TypeError, ValueError, KeyError, re.error) as exc:
            return _Response(400, _dumps({"error": str(exc)}))
        return _Response(404, _dumps({"error": "unknown control endpoint"}))

    # -- sending --------------------------------------------------------------------------------

    @staticmethod
    def _head(h: _Handler, resp: _Response, length: int) -> bytes:
        lines = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}",
                 "Server: fake-reddit/1.0", f"Content-Length: {length}"]
        headers = resp.headers
        if resp.body and not any(k.lower() == "content-type" for k in headers):
            lines.append("Content-Type: application/json; charset=UTF-8")
        for k, v in headers.items():
            lines.append(f"{k}: {v}")
        if h.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, h: _Handler, resp: _Response) -> None:
        h.wfile.write(self._head(h, resp, len(resp.body)) + resp.body)
        with self._stats_lock:
            self._bytes_sent += len(resp.body)

    def _send_faulty(self, h: _Handler, resp: _Response, fault: Fault) -> None:
        body = resp.body
        if fault.malformed:
            body = body[: len(body) // 2] if len(body) > 20 else b'{"kind": "Listing", "data": {"chil'
            if not fault.drop:
                self._send(h, _Response(resp.status, body, resp.headers))
                return
        h.close_connection = True
        h.wfile.write(self._head(h, resp, len(body)) + body[: len(body) // 2])
        try:
            h.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Controlling a server in another process


class ServerControl:
    """Client of a running server's ``/_control`` API (for a server in another process)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}/_control/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def health(self) -> dict:
        return self._call("GET", "health")

    def stats(self) -> dict:
        return self._call("GET", "stats")

    def reset_stats(self) -> None:
        self._call("DELETE", "stats")

    def add_fault(self, path_regex: str, **kwargs: Any) -> int:
        return self._call("POST", "faults", {"path": path_regex, **kwargs})["id"]

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_rate_limit(self, requests_per_window: int | None = None, window_seconds: float = 600.0) -> dict:
        body = {} if requests_per_window is None else {"requests_per_window": requests_per_window,
                                                        "window_seconds": window_seconds}
        return self._call("PUT", "ratelimit", body)

    def set_state(self, name: str, state: str) -> dict:
        return self._call("PUT", f"subreddits/{name}", {"state": state})

    def regenerate(self, name: str, day: dt.date | None = None, seed: int | None = None) -> dict:
        body: dict[str, Any] = {"regenerate": True}
        if day is not None:
            body["day"] = day.isoformat()
        if seed is not None:
            body["seed"] = seed
        return self._call("PUT", f"subreddits/{name}", body)


# ---------------------------------------------------------------------------------------------
# Command line


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reddit_assets_demo.server",
                                     description="Serve generated Reddit data through a Reddit-compatible API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    parser.add_argument("--subreddits", default="python,AskReddit,worldnews", help="comma-separated names")
    parser.add_argument("--private", default="", help="comma-separated names answering 403 private")
    parser.add_argument("--banned", default="", help="comma-separated names answering 404 banned")
    parser.add_argument("--quarantined", default="", help="comma-separated names answering 403 quarantined")
    parser.add_argument("--auto-create", action="store_true", help="generate any valid unknown name on demand")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: yesterday UTC)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--submissions", type=int, default=60, help="submissions per subreddit")
    parser.add_argument("--comments", default="0,120", help="min,max comments of an ordinary submission")
    parser.add_argument("--max-depth", type=int, default=12)
    parser.add_argument("--big-thread", type=int, default=0, help="comments of one huge thread per subreddit")
    parser.add_argument("--rate-limit", default=None, help="N/W: N requests per W seconds, e.g. 600/600")
    parser.add_argument("--credentials", default=None, help="client_id:secret[,client_id:secret...] (default: any)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    lo, hi = (int(x) for x in args.comments.split(","))
    rate_limit = None
    if args.rate_limit:
        n, _, w = args.rate_limit.partition("/")
        rate_limit = RateLimit(int(n), float(w or 600))
    credentials = None
    if args.credentials:
        credentials = dict(pair.split(":", 1) for pair in _names(args.credentials))
    server = RedditServer(
        _names(args.subreddits), day=args.day, seed=args.seed, host=args.host, port=args.port,
        generator_kwargs={"n_submissions": args.submissions, "comments_per_submission": (lo, hi),
                          "max_depth": args.max_depth, "big_thread_comments": args.big_thread},
        private=_names(args.private), banned=_names(args.banned), quarantined=_names(args.quarantined),
        auto_create=args.auto_create, rate_limit=rate_limit, credentials=credentials, verbose=args.verbose,
    )
    server.start()
    print(f"fake Reddit serving {', '.join(_names(args.subreddits))} for {server.day} at {server.url} "
          "(Ctrl-C to stop)", flush=True)
    server.serve_until_signal()
    print("fake Reddit stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
