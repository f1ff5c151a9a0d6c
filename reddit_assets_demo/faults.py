"""Fault injection: failures matched against requests (status, delay, truncated JSON, dropped connection)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from reddit_assets_demo.httpd import REASONS, Response, dumps, hang_up, head, send


@dataclass(eq=False)
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
    _regex: re.Pattern | None = field(default=None, repr=False, compare=False)

    def response(self) -> Response:
        """The answer with the fault's ``status``, ``body`` (default: Reddit's error JSON), headers."""
        body = self.body
        if body is None:
            body = {"message": REASONS.get(self.status, "Error"), "error": self.status}
        data = body.encode() if isinstance(body, str) else dumps(body)
        headers = dict(self.headers or {})
        if self.retry_after is not None:
            ra = self.retry_after
            headers["retry-after"] = str(int(ra) if float(ra).is_integer() else ra)
        return Response(self.status, data, headers)


class Faults:
    """The faults in force; a request takes the first that matches it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        path_regex: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        retry_after: float | None = None,
        delay: float | None = None,
        malformed: bool = False,
        drop: bool | str = False,
        method: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        if drop not in (False, True, "mid", "immediate"):
            raise ValueError("drop must be False, True, 'mid' or 'immediate'")
        regex = re.compile(path_regex)
        with self._lock:
            fault = Fault(
                pattern=path_regex,
                status=status,
                times=times,
                retry_after=retry_after,
                delay=delay,
                malformed=malformed,
                drop=drop,
                method=method.upper() if method else None,
                body=body,
                headers=dict(headers) if headers else None,
                _regex=regex,
            )
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def take(self, method: str, target: str) -> Fault | None:
        """The first fault matching the request, counted as used once."""
        with self._lock:
            for fault in self._faults:
                if fault.method and fault.method != method:
                    continue
                if fault._regex.search(target):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


def send_faulty(h: BaseHTTPRequestHandler, resp: Response, fault: Fault) -> int:
    """Send ``resp`` broken the way ``fault`` says (truncated JSON, cut mid-body); the body bytes sent
    whole (0 when the connection was cut)."""
    body = resp.body
    if fault.malformed:
        body = body[: len(body) // 2] if len(body) > 20 else b'{"kind": "Listing", "data": {"chil'
        if not fault.drop:
            return send(h, Response(resp.status, body, resp.headers))
    h.close_connection = True
    h.wfile.write(head(h, resp, len(body)) + body[: len(body) // 2])
    hang_up(h)
    return 0
