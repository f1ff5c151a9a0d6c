"""The fake Reddit's facade: :class:`RedditServer` (settings, data, lifecycle, the path of a request), exports."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reddit_assets_demo import routes
from reddit_assets_demo.catalog import SUBREDDIT_STATES, Catalog
from reddit_assets_demo.faults import Fault, Faults, send_faulty
from reddit_assets_demo.generator import SubredditData, generate_subreddit
from reddit_assets_demo.httpd import Handler, Request, ThreadedServer, hang_up, send
from reddit_assets_demo.live import LiveFeed
from reddit_assets_demo.oauth import Tokens
from reddit_assets_demo.ratelimit import RateLimit, RateLimiter, too_many_requests
from reddit_assets_demo.stats import ServerStats

__all__ = ["RedditServer", "RateLimit", "Fault", "SUBREDDIT_STATES"]


class RedditServer:
    """A Reddit-compatible HTTP server over generated data, good enough for unmodified PRAW 8::

        with RedditServer(["python", "rust"], day=dt.date(2024, 5, 1)) as srv:
            reddit = praw.Reddit(client_id="x", client_secret="y", user_agent="demo by u/me",
                                 oauth_url=srv.url, reddit_url=srv.url, check_for_updates=False)

    ``subreddits``: names (generated on first use with ``day``, ``seed`` and ``generator_kwargs``),
    or a mapping of name to :class:`SubredditData` (``None``: generate). ``private``, ``banned``
    and ``quarantined`` name subreddits in those states (they need no data). Names are
    case-insensitive. Unknown names get a 302 to ``/subreddits/search`` unless ``auto_create``.

    Endpoints (:mod:`reddit_assets_demo.routes`): OAuth tokens, ``/api/v1/me``, subreddit listings
    and search (pages of 100, at most 1000 items), ``/about``, comment trees with Reddit's limits
    (``max_initial_comments``, ``max_comment_depth``, ``/api/morechildren`` at most
    ``morechildren_limit`` a call) and ``/api/info``. Every API answer carries
    ``x-ratelimit-remaining/used/reset``; past a :class:`RateLimit` budget the answer is 429 with
    ``retry-after``. ``live`` feeds (:class:`LiveFeed`) are subreddits whose ``/new`` and ``/comments``
    grow with ``now``. :meth:`add_fault` injects statuses, delays, truncated JSON and dropped connections.
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
        absolute_depth: bool = False,
        now: float | Callable[[], float] | None = None,
        live: Iterable[LiveFeed] = (),
        verbose: bool = False,
    ):
        self.day = day or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
        self.seed = seed
        self.generator_kwargs = dict(generator_kwargs or {})
        self.auto_create = auto_create
        self.host = host
        self._port = port
        self.credentials = dict(credentials) if credentials is not None else None
        self.users = dict(users) if users is not None else None
        self.check_tokens = check_tokens
        self.token_ttl = token_ttl
        self.max_initial_comments = max_initial_comments
        self.max_comment_depth = max_comment_depth
        self.morechildren_limit = morechildren_limit
        self.absolute_depth = absolute_depth
        self._now = now
        self.verbose = verbose
        # Live subreddits (`/new` and `/comments` grow with the clock), by lowercased name.
        self.live = {feed.name.lower(): feed for feed in live}

        self.catalog = Catalog(self.data_for, lambda: self.auto_create)
        self.tokens = Tokens()
        self.injected = Faults()
        self.limiter = RateLimiter(rate_limit)
        self.statistics = ServerStats()
        self._stop = threading.Event()
        self._httpd: ThreadedServer | None = None
        self._thread: threading.Thread | None = None

        if isinstance(subreddits, str):
            subreddits = [s for s in subreddits.split(",") if s.strip()]
        if isinstance(subreddits, Mapping):
            for name, data in subreddits.items():
                self.catalog.set(name, data, lazy=data is None)
        else:
            for name in subreddits or ():
                self.catalog.set(name.strip(), None, lazy=True)
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
        self._httpd = ThreadedServer((self.host, self._port), Handler, self)
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
        """Generate ``name``'s data for ``day`` with this server's seed and generator settings, as it
        stands now: for today, nothing created later than this first request for it."""
        settings = {"until": self.now(), **self.generator_kwargs}
        return generate_subreddit(name, day or self.day, seed=self.seed, **settings)

    def set_subreddit(self, name: str, data: SubredditData | None = None, *, state: str | None = None) -> None:
        """Serve ``data`` (``None``: generate for the server's day) as ``name``'s current dataset."""
        self.catalog.set(name, data, state=state)

    def set_state(self, name: str, state: str) -> None:
        """``state``: one of ``public``, ``private`` (403), ``banned`` (404), ``quarantined`` (403)."""
        self.catalog.set_state(name, state)

    def subreddit_data(self, name: str) -> SubredditData:
        sub = self.catalog.get(name.lower())
        if sub is None:
            raise KeyError(name)
        return sub.data

    # -- faults, rate limit, tokens, statistics -------------------------------------------------

    def add_fault(self, path_regex: str, **settings: Any) -> Fault:
        """Fail the next ``times`` requests (``None``: all) whose ``path?query`` matches ``path_regex``
        (``re.search``): sleep ``delay`` s, then answer ``status`` (JSON ``body``, extra ``headers``,
        ``retry-after``), or the normal answer; ``malformed`` truncates the JSON body; ``drop``
        closes the connection mid-body (``True``/``"mid"``) or before answering (``"immediate"``).
        The settings are `Faults.add`'s.
        """
        return self.injected.add(path_regex, **settings)

    def clear_faults(self) -> None:
        self.injected.clear()

    @property
    def rate_limit(self) -> RateLimit:
        return self.limiter.limit

    def set_rate_limit(self, rate_limit: RateLimit | None) -> None:
        """Change the budget (``None``: the generous default) and start a fresh window."""
        self.limiter.set(rate_limit)

    def revoke_tokens(self) -> None:
        """Forget every issued access token: the next API request of each client gets a 401."""
        self.tokens.clear()

    def reset_stats(self) -> None:
        self.statistics.reset()

    def stats(self) -> dict:
        """Request counts, concurrency (with the requests in flight at its peak), 429s sent, current
        rate-limit usage."""
        out = self.statistics.snapshot()
        out["ratelimit"] = {k.removeprefix("x-ratelimit-"): v for k, v in self.limiter.headers().items()}
        return out

    # -- a request's path -----------------------------------------------------------------------

    def handle(self, h: Handler) -> None:
        """Count the request in, apply a matching fault or the rate limit, else route it; count it
        out before the answer goes out."""
        request = Request.read(h, f"{self.host}:{self.port}")
        method, target = request.method, request.target
        route = routes.route(request)
        request_id = self.statistics.begin(
            route.kind, route.endpoint_name(request.params), method, target, h.client_address[1]
        )
        status = 0
        recorded = False
        started = time.monotonic()

        def record() -> None:
            # Before the answer goes out, so a client never sees stale stats, and so the
            # client's next request (sent as soon as it has this answer) never overlaps this one.
            nonlocal recorded
            recorded = True
            self.statistics.end(request_id, status)

        try:
            fault = self.injected.take(method, target)
            if fault is not None:
                self.statistics.fault_triggered()
                if fault.delay:
                    self._stop.wait(fault.delay)
                if fault.drop == "immediate":
                    status = -1
                    record()
                    hang_up(h)
                    return
            if route.api:
                rl_headers, retry_after = self.limiter.account()
            else:
                rl_headers, retry_after = self.limiter.headers(), None
            if fault is not None and fault.status is not None:
                resp = fault.response()
                if fault.status == 429:
                    self.statistics.throttled(method, target, fault.retry_after, injected=True)
            elif retry_after is not None:
                resp = too_many_requests(retry_after)
                self.statistics.throttled(method, target, retry_after, injected=False)
            else:
                resp = routes.respond(self, route, request)
            for k, v in rl_headers.items():
                resp.headers.setdefault(k, v)
            status = resp.status
            record()
            if fault is not None and (fault.malformed or fault.drop):
                self.statistics.sent(send_faulty(h, resp, fault))
            else:
                self.statistics.sent(send(h, resp))
        finally:
            if not recorded:
                record()
            if self.verbose:
                ms = 1000 * (time.monotonic() - started)
                sys.stderr.write(f"fake-reddit: {method} {target} {status} {ms:.1f}ms\n")


if __name__ == "__main__":
    from reddit_assets_demo.cli import main

    raise SystemExit(main())
