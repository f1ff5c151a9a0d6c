"""Request statistics: counts by kind, endpoint and status, requests in flight and at their peak, 429s, bytes."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from typing import Any

KINDS = ("listing", "comments", "morechildren", "token", "about", "info", "me", "other")


class ServerStats:
    """Counters a test reads back; :meth:`reset` zeroes them but keeps the requests still in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._in_flight = 0
        self._open: dict[int, tuple] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._max_in_flight = self._in_flight
            self._peak_requests: list[tuple] = sorted(self._open.values())
            self._total = 0
            self._by_kind: Counter = Counter({k: 0 for k in KINDS})
            self._by_endpoint: Counter = Counter()
            self._by_status: Counter = Counter()
            self._throttled: list[dict] = []
            self._faults_triggered = 0
            self._comments_served = 0
            self._submissions_served = 0
            self._bytes_sent = 0
            self._connections = 0

    def begin(self, kind: str, endpoint: str, method: str, target: str, client_port: int) -> int:
        """Count a request in: its id, for :meth:`end`."""
        with self._lock:
            self._total += 1
            self._by_kind[kind] += 1
            self._by_endpoint[endpoint] += 1
            self._in_flight += 1
            request_id = next(self._ids)
            self._open[request_id] = (round(time.time(), 3), method, target, client_port)
            if self._in_flight > self._max_in_flight:
                self._max_in_flight = self._in_flight
                self._peak_requests = sorted(self._open.values())
        return request_id

    def end(self, request_id: int, status: int) -> None:
        """Count a request out with its status (-1: dropped unanswered)."""
        with self._lock:
            self._by_status[status] += 1
            self._in_flight -= 1
            self._open.pop(request_id, None)

    def connection_opened(self) -> None:
        with self._lock:
            self._connections += 1

    def fault_triggered(self) -> None:
        with self._lock:
            self._faults_triggered += 1

    def throttled(self, method: str, target: str, retry_after: Any, *, injected: bool) -> None:
        with self._lock:
            self._throttled.append(
                {
                    "time": time.time(),
                    "method": method,
                    "path": target,
                    "retry_after": retry_after,
                    "injected": injected,
                }
            )

    def served(self, *, comments: int = 0, submissions: int = 0) -> None:
        with self._lock:
            self._comments_served += comments
            self._submissions_served += submissions

    def sent(self, nbytes: int) -> None:
        with self._lock:
            self._bytes_sent += nbytes

    def snapshot(self) -> dict:
        with self._lock:
            return {
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
