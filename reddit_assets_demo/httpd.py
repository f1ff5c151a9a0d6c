"""HTTP plumbing: the threaded server and its connections, requests as endpoints see them, responses, sending."""

from __future__ import annotations

import functools
import json
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from email.message import Message

    from reddit_assets_demo.server import RedditServer

REASONS = {
    200: "OK",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as Reddit sends it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def parse_form(text: str) -> dict[str, str]:
    """A query string or urlencoded body as a dict (the last value of a repeated field wins)."""
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


class HTTPError(Exception):
    """Raised by an endpoint: answer ``status`` with the JSON ``payload`` (``{}``: no body) and ``headers``."""

    def __init__(self, status: int, payload: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.payload = payload if payload is not None else {"message": REASONS.get(status, "Error"), "error": status}
        self.headers = headers or {}

    def response(self) -> Response:
        body = dumps(self.payload) if self.payload != {} else b""
        return Response(self.status, body, dict(self.headers))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """One request, read off the connection."""

    method: str
    target: str  # path?query as sent: what faults match and statistics record
    parts: list[str]  # the path's segments, a trailing ".json" dropped
    query: dict[str, str]
    body: bytes
    headers: Message
    base: str  # http://host the client addressed, for redirects
    params: dict[str, str] = field(default_factory=dict)  # the route's {names}, set by the router

    @classmethod
    def read(cls, h: BaseHTTPRequestHandler, default_host: str) -> Request:
        split = urlsplit(h.path)
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        parts = [p for p in split.path.split("/") if p]
        if parts and parts[-1].endswith(".json"):
            parts[-1] = parts[-1][:-5]
        base = f"http://{h.headers.get('host') or default_host}"
        return cls(h.command.upper(), h.path, parts, parse_form(split.query), body, h.headers, base)

    @functools.cached_property
    def form(self) -> dict[str, str]:
        """The query's fields, and a POST/PUT/PATCH body's over them."""
        form = dict(self.query)
        if self.body and self.method in ("POST", "PUT", "PATCH"):
            form.update(self.body_form())
        return form

    def body_form(self) -> dict[str, str]:
        return parse_form(self.body.decode("utf-8", "replace"))

    def flag(self, name: str) -> bool:
        return (self.form.get(name) or "").strip().lower() in {"1", "true", "on", "yes"}

    def integer(self, name: str, default: int) -> int:
        try:
            return int(self.form.get(name) or default)
        except ValueError:
            return default


# ---------------------------------------------------------------------------------------------
# The server and its connections


class ThreadedServer(ThreadingHTTPServer):
    """A thread per connection; keeps the open connections so that stopping can close them."""

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
        self.app.statistics.connection_opened()
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


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1; every method goes to :meth:`RedditServer.handle`."""

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
            self.server.app.handle(self)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


# ---------------------------------------------------------------------------------------------
# Sending


def head(h: BaseHTTPRequestHandler, resp: Response, length: int) -> bytes:
    lines = [
        f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'Status')}",
        "Server: fake-reddit/1.0",
        f"Content-Length: {length}",
    ]
    headers = resp.headers
    if resp.body and not any(k.lower() == "content-type" for k in headers):
        lines.append("Content-Type: application/json; charset=UTF-8")
    for k, v in headers.items():
        lines.append(f"{k}: {v}")
    if h.close_connection:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send(h: BaseHTTPRequestHandler, resp: Response) -> int:
    """Write the whole answer; the body's length."""
    h.wfile.write(head(h, resp, len(resp.body)) + resp.body)
    return len(resp.body)


def hang_up(h: BaseHTTPRequestHandler) -> None:
    """Close the connection at once, whatever was sent so far."""
    h.close_connection = True
    try:
        h.request.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
