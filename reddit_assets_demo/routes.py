"""Routing: the table of endpoints (path pattern, kind, handler) and answering a request with its handler."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reddit_assets_demo import comments, info, listings, oauth
from reddit_assets_demo.httpd import HTTPError, Request, Response, dumps

if TYPE_CHECKING:
    from reddit_assets_demo.server import RedditServer

Handler = Callable[["RedditServer", Request], Response]
SORTS = "hot|new|top|controversial|rising|best|search"


@dataclass(frozen=True)
class Route:
    """Requests whose path segments (a final ``.json`` dropped) match ``pattern`` go to ``handler``.

    A pattern segment is a literal, ``{name}`` (any segment, in ``request.params[name]``),
    ``{name:a|b}`` (one of those) or, at the end only, ``{name?}`` (optional). ``kind`` and
    ``endpoint`` (default: the kind; may use the ``{names}``) are what statistics count.
    ``methods``: None accepts any. ``api``: needs a bearer token and counts against the rate limit
    (False for OAuth's own endpoints).
    """

    pattern: str
    kind: str
    handler: Handler
    endpoint: str = ""
    methods: tuple[str, ...] | None = ("GET",)
    api: bool = True

    def match(self, parts: list[str]) -> dict[str, str] | None:
        segments = self.pattern.split("/") if self.pattern else []
        if len(parts) > len(segments):
            return None
        params = {}
        for i, segment in enumerate(segments):
            if i >= len(parts):
                return params if segment.endswith("?}") else None
            if segment.startswith("{"):
                name, _, choices = segment.strip("{}?").partition(":")
                if choices and parts[i] not in choices.split("|"):
                    return None
                params[name] = parts[i]
            elif parts[i] != segment:
                return None
        return params

    def endpoint_name(self, params: dict[str, str]) -> str:
        return self.endpoint.format(**params) if self.endpoint else self.kind


def _not_found(app: RedditServer, request: Request) -> Response:
    raise HTTPError(404)


# First match wins. Adding an endpoint: a handler `(server, request) -> Response` and a row here.
ROUTES = (
    Route("api/v1/access_token", "token", oauth.access_token, "access_token", methods=None, api=False),
    Route("api/v1/revoke_token", "token", oauth.revoke_token, "revoke_token", methods=None, api=False),
    Route("api/v1/me", "me", oauth.me, methods=None),
    Route("api/morechildren", "morechildren", comments.morechildren, methods=None),
    Route("api/info", "info", info.info, methods=None),
    Route("comments/{id}/{slug?}", "comments", comments.submission_comments),
    Route("comments/{id}/{slug}/{comment}", "comments", comments.submission_comments, "comments_focus"),
    Route("r/{sub}/comments/{id}/{slug?}", "comments", comments.submission_comments),
    Route("r/{sub}/comments/{id}/{slug}/{comment}", "comments", comments.submission_comments, "comments_focus"),
    Route("r/{sub}", "listing", listings.submissions, "hot"),
    Route(f"r/{{sub}}/{{sort:{SORTS}}}", "listing", listings.submissions, "{sort}"),
    Route("r/{sub}/comments", "listing", listings.newest_comments, "sub_comments"),
    Route("r/{sub}/about", "about", listings.about),
    Route("subreddits/search", "other", listings.subreddit_search),
)
UNKNOWN = Route("", "other", _not_found, methods=None)


def route(request: Request) -> Route:
    """The request's route (its ``params`` set on the request); :data:`UNKNOWN` if none matches."""
    for candidate in ROUTES:
        params = candidate.match(request.parts)
        if params is not None:
            request.params = params
            return candidate
    return UNKNOWN


def respond(app: RedditServer, route: Route, request: Request) -> Response:
    """The handler's answer; an :class:`HTTPError` as its response, any other exception as a 500."""
    try:
        if route.api and app.check_tokens:
            app.tokens.check(request.headers)
        if route.methods is not None and request.method not in route.methods:
            raise HTTPError(405)
        return route.handler(app, request)
    except HTTPError as err:
        return err.response()
    except Exception:  # a bug: answer 500 (prawcore retries it) and say why
        traceback.print_exc()
        return Response(500, dumps({"message": "Internal Server Error", "error": 500}))
