"""Listings and paging: a subreddit's sort orders, search, its newest comments, its about page."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reddit_assets.reddit.scraper import LISTING_CAP
from reddit_assets_demo.catalog import Subreddit
from reddit_assets_demo.httpd import Request, Response
from reddit_assets_demo.things import listing as listing_json
from reddit_assets_demo.things import thing

if TYPE_CHECKING:
    from reddit_assets_demo.server import RedditServer

# Like Reddit: pages of at most 100, and no listing goes past LISTING_CAP items.
PAGE_MAX = 100
TIME_FILTER_SECONDS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400, "year": 366 * 86400}
_HOT_EPOCH = 1134028003


def _hot_key(s: dict) -> float:
    score = s["score"]
    order = math.log10(max(abs(score), 1))
    sign = 1 if score > 0 else -1 if score < 0 else 0
    return sign * order + (s["created_utc"] - _HOT_EPOCH) / 45000


def _controversy_key(s: dict) -> float:
    ratio = s["upvote_ratio"]
    return (1 - abs(2 * ratio - 1)) * math.log(abs(s["score"]) + s["num_comments"] + 2)


def _sort(items: list[dict], sort: str) -> None:
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


def _after_cutoff(app: RedditServer, items: list[dict], t: str) -> list[dict]:
    cutoff = app.now() - TIME_FILTER_SECONDS[t]
    return [s for s in items if s["created_utc"] >= cutoff]


def sorted_submissions(app: RedditServer, subs: list[Subreddit], sort: str, t: str) -> list[dict]:
    """The submissions of ``subs`` in ``sort`` order, ``top`` and ``controversial`` within time filter ``t``."""

    def build() -> list[dict]:
        items = [s for sub in subs for s in sub.data.submissions]
        _sort(items, sort)
        return items

    items = app.catalog.memo((tuple(id(s) for s in subs), sort), build)
    if t in TIME_FILTER_SECONDS and sort in ("top", "controversial"):
        items = _after_cutoff(app, items, t)
    return items


def page(items: list[dict], request: Request) -> tuple[list[dict], str | None, str | None]:
    """The page ``limit``/``after``/``before`` ask for, and the fullnames to page on from it."""
    limit = max(1, min(PAGE_MAX, request.integer("limit", 25)))
    after_name, before_name = request.form.get("after"), request.form.get("before")
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
    chunk = items[start:end]
    after = chunk[-1]["name"] if chunk and end < len(items) else None
    before = chunk[0]["name"] if chunk and start > 0 else None
    return chunk, after, before


def _search(app: RedditServer, subs: list[Subreddit], request: Request) -> tuple[list[Subreddit], list[dict]]:
    """The subreddits searched (all public ones unless ``restrict_sr``) and the matches for ``q``."""
    form = request.form
    q = (form.get("q") or "").strip().lower()
    if not request.flag("restrict_sr"):
        subs = app.catalog.public()
    if not q:
        return subs, []
    search_sort = form.get("sort", "relevance")
    order = {"hot": "hot", "top": "top", "new": "new", "comments": "comments"}.get(search_sort, "top")
    texts = {s["id"]: sub.text(s) for sub in subs for s in sub.data.submissions}
    items = [s for s in sorted_submissions(app, subs, order, "all") if q in texts[s["id"]]]
    if search_sort == "relevance":
        items.sort(key=lambda s: -(3 * s["title"].lower().count(q) + texts[s["id"]].count(q)))
    t = form.get("t", "all")
    return subs, (_after_cutoff(app, items, t) if t in TIME_FILTER_SECONDS else items)


def live_page(app: RedditServer, request: Request, kind: str) -> Response | None:
    """A page of a live subreddit's ``/new`` (``t3``) or ``/comments`` (``t1``); None if it is not live."""
    feed = app.live.get(request.params["sub"].lower())
    if feed is None:
        return None
    indexes = feed.newest(kind, app.now(), LISTING_CAP)
    limit = max(1, min(PAGE_MAX, request.integer("limit", 25)))
    after_name = request.form.get("after")
    start = 0
    if after_name:
        index = feed.index_of(kind, after_name.removeprefix(kind + "_"))
        if index is None or index not in indexes:
            return Response(200, listing_json([]))
        start = indexes.index(index) + 1
    chunk = [feed.item(kind, i) for i in indexes[start : start + limit]]
    after = chunk[-1]["name"] if chunk and start + limit < len(indexes) else None
    app.statistics.served(**{"submissions" if kind == "t3" else "comments": len(chunk)})
    return Response(200, listing_json([thing(kind, d) for d in chunk], after, None))


def submissions(app: RedditServer, request: Request) -> Response:
    """``/r/{sub}[/{sort}]`` and ``/r/{sub}/search``: a page of submissions."""
    if request.params.get("sort") == "new" and (live := live_page(app, request, "t3")) is not None:
        return live
    subs = app.catalog.resolve(request.params["sub"], request.base)
    sort = request.params.get("sort", "hot")
    if sort == "search":
        subs, items = _search(app, subs, request)
    else:
        items = sorted_submissions(app, subs, sort, request.form.get("t", "all"))
    chunk, after, before = page(items[:LISTING_CAP], request)
    if len(subs) == 1:
        frags = [subs[0].t3_fragment(s) for s in chunk]
    else:
        by_name = {sub.data.about["display_name"].lower(): sub for sub in subs}
        frags = [by_name.get(s["subreddit"].lower(), subs[0]).t3_fragment(s) for s in chunk]
    app.statistics.served(submissions=len(frags))
    return Response(200, listing_json(frags, after, before))


def newest_comments(app: RedditServer, request: Request) -> Response:
    """``/r/{sub}/comments``: the newest comments, each with its submission's ``link_*`` fields."""
    if (live := live_page(app, request, "t1")) is not None:
        return live
    subs = app.catalog.resolve(request.params["sub"], request.base)

    def build() -> list[dict]:
        rows = [(c, sub.by_id[sid]) for sub in subs for sid, comments in sub.data.comments.items() for c in comments]
        rows.sort(key=lambda r: (r[0]["created_utc"], r[0]["id"]), reverse=True)
        items = []
        for c, s in rows[:LISTING_CAP]:
            d = dict(c)
            d.update(
                link_title=s["title"],
                link_author=s["author"],
                link_permalink="https://www.reddit.com" + s["permalink"],
                link_url=s["url"],
                num_comments=s["num_comments"],
                over_18=s["over_18"],
                replies="",
            )
            items.append(d)
        return items

    items = app.catalog.memo((tuple(id(s) for s in subs), "__comments__"), build)
    chunk, after, before = page(items, request)
    app.statistics.served(comments=len(chunk))
    return Response(200, listing_json([thing("t1", d) for d in chunk], after, before))


def about(app: RedditServer, request: Request) -> Response:
    """``/r/{sub}/about``: the subreddit's ``t5``."""
    return Response(200, app.catalog.resolve(request.params["sub"], request.base)[0].t5_fragment())


def subreddit_search(app: RedditServer, request: Request) -> Response:
    """``/subreddits/search``, where unknown names redirect: always empty."""
    return Response(200, listing_json([]))
