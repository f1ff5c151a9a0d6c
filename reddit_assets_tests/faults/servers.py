"""Real servers that misbehave on purpose, all on 127.0.0.1.

- `S3FaultProxy`: an HTTP proxy in front of an S3 server (moto) that can answer 5xx,
  answer slowly, change a byte of the bodies it forwards, or be switched off and on again
  on the same port; with `check_checksums` it refuses a body that does not match its
  `x-amz-checksum-sha256` with BadDigest, as R2 does (moto stores it regardless).
- `AuthMotoServer`: a moto S3 server in its own process that enforces credentials
  (INITIAL_NO_AUTH_ACTION_COUNT), for "wrong credentials".
- `TcpProxy`: a byte-level TCP proxy (to PostgreSQL) that can be closed, cutting every
  connection through it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reddit_assets_demo.processes import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def _forward(self):
        proxy: S3FaultProxy = self.server.proxy
        with proxy._lock:
            proxy._active += 1
        try:
            self._answer(proxy)
        finally:
            with proxy._lock:
                proxy._active -= 1

    def _answer(self, proxy):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        action = proxy._next_action(self.command, self.path)
        if action.get("delay"):
            time.sleep(action["delay"])
        if body and action.get("corrupt"):
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        claimed = self.headers.get("x-amz-checksum-sha256")
        if body is not None and claimed and proxy.check_checksums:
            if base64.b64encode(hashlib.sha256(body).digest()).decode() != claimed:
                message = "The SHA256 you specified did not match the calculated checksum."
                action.update(status=400, code="BadDigest", message=message)
        if action.get("status"):
            status = action["status"]
            payload = (
                f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{action["code"]}</Code>'
                f"<Message>{action.get('message', 'injected by the test proxy')}</Message></Error>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != "expect"}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in _HOP_BY_HOP | {"content-length", "server", "date"}:
                    self.send_header(k, v)
            # A HEAD answer has no body but the upstream's Content-Length (the object's size).
            length = response.getheader("content-length", "0") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


class S3FaultProxy:
    """HTTP proxy to `upstream` (http://host:port); `fail`, `slow`, `corrupt`, `stop`/`start` inject faults."""

    def __init__(self, upstream: str, port: int | None = None, check_checksums: bool = False):
        host_port = upstream.split("://", 1)[1].rstrip("/")
        self.upstream_host, _, port_text = host_port.partition(":")
        self.upstream_port = int(port_text)
        self.port = port or free_port()
        self.check_checksums = check_checksums
        self.requests: list[tuple[str, str]] = []
        self.injected = 0
        self._lock = threading.Lock()
        self._status: int | None = None
        self._code = "InternalError"
        self._times: int | None = None
        self._delay = 0.0
        self._corrupt: int | None = 0
        self._active = 0
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, status: int = 500, times: int | None = None, code: str = "InternalError") -> None:
        """Answer `status` to the next `times` requests (None: all of them)."""
        with self._lock:
            self._status, self._code, self._times = status, code, times

    def slow(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def corrupt(self, times: int | None = None) -> None:
        """Flip the first byte of the next `times` PUT bodies (None: all of them) on their way upstream."""
        with self._lock:
            self._corrupt = times

    def heal(self) -> None:
        with self._lock:
            self._status, self._times, self._delay, self._corrupt = None, None, 0.0, 0

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until no request is being answered: a slow request the client gave up on
        is still forwarded (and may still write) when its delay ends."""
        deadline = time.monotonic() + timeout
        while self._active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self._active, f"{self._active} requests still in the proxy after {timeout} s"

    def _next_action(self, method: str, path: str) -> dict:
        with self._lock:
            self.requests.append((method, path))
            action = {"delay": self._delay}
            if method == "PUT" and (self._corrupt is None or self._corrupt > 0):
                action["corrupt"] = True
                self.injected += 1
                if self._corrupt is not None:
                    self._corrupt -= 1
            if self._status is not None and (self._times is None or self._times > 0):
                action.update(status=self._status, code=self._code)
                self.injected += 1
                if self._times is not None:
                    self._times -= 1
            return action

    def start(self) -> S3FaultProxy:
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _ProxyHandler)
        httpd.daemon_threads = True
        httpd.proxy = self
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until `start` again."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> S3FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class AuthMotoServer:
    """A moto server process that checks SigV4 credentials; one IAM user may use S3.

    The first four actions (create user, access key, policy, bucket) are let through
    unauthenticated; every later request must be signed with `access_key`/`secret_key`.
    """

    bucket = "archive-bucket"

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_key = self.secret_key = ""
        self._process: subprocess.Popen | None = None

    def start(self) -> AuthMotoServer:
        import boto3
        from botocore.config import Config

        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="4")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

        def client(service: str, key: str = "setup", secret: str = "setup"):
            return boto3.session.Session().client(
                service,
                endpoint_url=self.url,
                region_name="us-east-1",
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
            )

        iam = client("iam")
        iam.create_user(UserName="archiver")
        created = iam.create_access_key(UserName="archiver")["AccessKey"]
        self.access_key, self.secret_key = created["AccessKeyId"], created["SecretAccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="archiver", PolicyName="archives", PolicyDocument=json.dumps(policy))
        client("s3").create_bucket(Bucket=self.bucket)
        self.client = client("s3", self.access_key, self.secret_key)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> AuthMotoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class TcpProxy:
    """Byte-for-byte TCP proxy to host:port; `close()` cuts every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int, port: int | None = None):
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        pair = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with self._lock:
                    self._sockets.discard(sock)
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
