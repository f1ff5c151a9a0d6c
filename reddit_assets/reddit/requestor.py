"""A prawcore Requestor that counts every HTTP request and waits out 429s.

prawcore paces on the `x-ratelimit-*` headers but raises TooManyRequests on a 429
without retrying; here a 429 is retried after its `retry-after`, a bounded number of
times, before prawcore ever sees it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import prawcore

DEFAULT_RETRY_AFTER = 5.0
MAX_RETRY_AFTER = 120.0


@dataclass
class RequestStats:
    """What one client sent: every HTTP request, the 429s met and the time waited on them."""

    requests: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def count_wait(self, seconds: float) -> None:
        with self._lock:
            self.rate_limited += 1
            self.waited_seconds += seconds


class CountingRequestor(prawcore.Requestor):
    """Counts requests (token requests included) and retries 429 after `retry-after`."""

    def __init__(self, *args: Any, stats: RequestStats, max_429_retries: int = 5, sleep=time.sleep, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stats = stats
        self.max_429_retries = max_429_retries
        self._sleep = sleep

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any):
        # prawcore's Session always passes its module default (16 s) here, which would
        # override the timeout this requestor was built with (RedditResource.timeout).
        timeout = self.timeout
        attempt = 0
        while True:
            self.stats.count_request()
            response = super().request(*args, timeout=timeout, **kwargs)
            if _budget_spent(response.headers):
                # prawcore then sleeps `x-ratelimit-reset` whole seconds, rounded down, and can
                # wake just before the window turns; one more second avoids that 429.
                self._sleep(1.0)
            if response.status_code != 429 or attempt >= self.max_429_retries:
                return response
            attempt += 1
            wait = _retry_after(response.headers.get("retry-after"))
            self.stats.count_wait(wait)
            self._sleep(wait)


def _budget_spent(headers) -> bool:
    try:
        return float(headers.get("x-ratelimit-remaining", "1")) <= 0
    except ValueError:
        return False


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
