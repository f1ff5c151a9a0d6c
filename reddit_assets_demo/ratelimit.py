"""Rate limiting: a request budget per fixed window, the ``x-ratelimit-*`` headers, 429 with ``retry-after``."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from reddit_assets_demo.httpd import Response, dumps


@dataclass(frozen=True)
class RateLimit:
    """A budget of ``requests_per_window`` per fixed window of ``window_seconds``.

    The window starts at the first counted request after the previous one ended. Past the
    budget the server answers 429 with ``retry-after``. Keep the default budget large: PRAW
    paces itself from the headers, assuming a 600 s window (its ``window_size`` setting).
    """

    requests_per_window: int = 1_000_000
    window_seconds: float = 600.0


class RateLimiter:
    """Counts API requests against a :class:`RateLimit` and says what Reddit's headers would."""

    def __init__(self, limit: RateLimit | None = None):
        self.limit = limit or RateLimit()
        self._lock = threading.Lock()
        self._window_end = 0.0
        self._used = 0

    def set(self, limit: RateLimit | None) -> None:
        """Change the budget (``None``: the generous default) and start a fresh window."""
        with self._lock:
            self.limit = limit or RateLimit()
            self._used = 0
            self._window_end = 0.0

    def account(self) -> tuple[dict[str, str], float | None]:
        """Count one request against the budget: its headers, and retry-after when over budget."""
        limit = self.limit
        with self._lock:
            now = time.monotonic()
            if now >= self._window_end:
                self._window_end = now + limit.window_seconds
                self._used = 0
            # Whole seconds left, rounded down: rounding up would make PRAW's pacing sleep.
            left = self._window_end - now
            reset = max(0, int(left))
            over = self._used >= limit.requests_per_window
            if not over:
                self._used += 1
            used = self._used
        return _headers(limit, used, reset), (max(1, math.ceil(left)) if over else None)

    def headers(self) -> dict[str, str]:
        """The current usage, counting nothing (for the token endpoints and statistics)."""
        limit = self.limit
        with self._lock:
            now = time.monotonic()
            used = self._used if now < self._window_end else 0
            reset = max(0, int(self._window_end - now)) if now < self._window_end else int(limit.window_seconds)
        return _headers(limit, used, reset)


def _headers(limit: RateLimit, used: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-remaining": f"{float(max(0, limit.requests_per_window - used)):.1f}",
        "x-ratelimit-used": str(used),
        "x-ratelimit-reset": str(reset),
    }


def too_many_requests(retry_after: float) -> Response:
    return Response(429, dumps({"message": "Too Many Requests", "error": 429}), {"retry-after": str(retry_after)})
