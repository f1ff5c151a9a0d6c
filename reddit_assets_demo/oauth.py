"""OAuth: the token endpoints (issue, revoke), bearer-token checks, and ``/api/v1/me``."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from typing import TYPE_CHECKING

from reddit_assets_demo.generator import author_fullname
from reddit_assets_demo.httpd import HTTPError, Request, Response, dumps

if TYPE_CHECKING:
    from email.message import Message

    from reddit_assets_demo.server import RedditServer

GRANTS = ("client_credentials", "refresh_token", "https://oauth.reddit.com/grants/installed_client")


class Tokens:
    """Issued access tokens: token -> (expiry on the monotonic clock, client id, username or None)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, str, str | None]] = {}

    def issue(self, client_id: str, username: str | None, ttl: int) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e[0] > now}
            self._tokens[token] = (now + ttl, client_id, username)
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def usernames(self) -> list[str | None]:
        """Who each issued token was for (None: an app-only token)."""
        with self._lock:
            return [username for _, _, username in self._tokens.values()]

    def username(self, headers: Message) -> str | None:
        entry = self._tokens.get((headers.get("authorization") or "").partition(" ")[2].strip())
        return entry[2] if entry else None

    def check(self, headers: Message) -> None:
        """Raise 401 unless the request carries a live bearer token."""
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        entry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[0] < time.monotonic():
            raise HTTPError(
                401,
                {"message": "Unauthorized", "error": 401},
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )


def _client(app: RedditServer, request: Request) -> str | None:
    """The client id of the request's basic auth, if its secret is right (any is, without ``credentials``)."""
    auth = request.headers.get("authorization") or ""
    if not auth.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except ValueError:
        return None
    if app.credentials is not None and app.credentials.get(client_id) != secret:
        return None
    return client_id


def _unauthorized() -> Response:
    return Response(401, dumps({"message": "Unauthorized", "error": 401}))


def access_token(app: RedditServer, request: Request) -> Response:
    """``/api/v1/access_token``: client credentials, password (checked against ``users``), installed
    client and refresh grants."""
    client_id = _client(app, request)
    if client_id is None:
        return _unauthorized()
    form = request.body_form()
    grant = form.get("grant_type", "")
    username = None
    if grant == "password":
        username = form.get("username", "")
        if app.users is not None and app.users.get(username) != form.get("password"):
            return Response(200, dumps({"error": "invalid_grant"}))
    elif grant not in GRANTS:
        return Response(200, dumps({"error": "unsupported_grant_type"}))
    token = app.tokens.issue(client_id, username, app.token_ttl)
    return Response(
        200, dumps({"access_token": token, "token_type": "bearer", "expires_in": app.token_ttl, "scope": "*"})
    )


def revoke_token(app: RedditServer, request: Request) -> Response:
    if _client(app, request) is None:
        return _unauthorized()
    app.tokens.revoke(request.body_form().get("token", ""))
    return Response(200, b"", {})


def me(app: RedditServer, request: Request) -> Response:
    """``/api/v1/me``: the user of a password grant's token (403 for an app-only token)."""
    username = app.tokens.username(request.headers)
    if not username:
        raise HTTPError(403, {"message": "Forbidden", "error": 403})
    return Response(
        200,
        dumps(
            {
                "name": username,
                "id": author_fullname(username)[3:],
                "created_utc": 1262304000.0,
                "link_karma": 1,
                "comment_karma": 1,
                "is_suspended": False,
            }
        ),
    )
