"""``/api/info``: things by fullname (t3, t1, t5; up to 100) and subreddits by name, for PRAW's ``Reddit.info``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reddit_assets_demo.httpd import HTTPError, Request, Response
from reddit_assets_demo.things import listing

if TYPE_CHECKING:
    from reddit_assets_demo.server import RedditServer

MAX_FULLNAMES = 100


def _thing(app: RedditServer, fullname: str) -> list[bytes]:
    catalog = app.catalog
    kind, _, thing_id = fullname.partition("_")
    if kind == "t3":
        sub, s = catalog.find_submission(thing_id)
        return [sub.t3_fragment(s)]
    if kind == "t1":
        for key, sub in catalog.loaded():
            if catalog.state_of(key) != "public":
                continue
            sid = sub.owner_of_comment(thing_id)
            if sid is not None:
                tree = sub.tree(sid)
                i = tree.index[thing_id]
                return [tree.fragment(i, tree.comments[i]["depth"], None)]
        return []
    if kind == "t5":
        return [sub.t5_fragment() for _, sub in catalog.loaded() if sub.data.about["id"] == thing_id]
    return []


def info(app: RedditServer, request: Request) -> Response:
    """The things named by ``id`` (comma-separated fullnames; unknown or hidden ones left out), then
    the subreddits named by ``sr_name``."""
    frags = []
    names = [n.strip() for n in (request.form.get("id") or "").split(",") if n.strip()]
    if names:
        app.catalog.load_all()
    for fullname in names[:MAX_FULLNAMES]:
        try:
            frags.extend(_thing(app, fullname))
        except HTTPError:
            continue
    for name in (request.form.get("sr_name") or "").split(","):
        sub = app.catalog.get(name.strip().lower()) if name.strip() else None
        if sub is not None:
            frags.append(sub.t5_fragment())
    return Response(200, listing(frags))
