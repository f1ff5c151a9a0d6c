"""Comment trees: ``/comments/{id}`` (and "continue this thread"), ``/api/morechildren``, ``more`` objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reddit_assets_demo.httpd import HTTPError, Request, Response, dumps
from reddit_assets_demo.things import listing
from reddit_assets_demo.tree import CommentTree

if TYPE_CHECKING:
    from reddit_assets_demo.server import RedditServer

# Like Reddit, a submission's tree is sent with at most `max_initial_comments` comments and
# `max_comment_depth` levels. Deeper levels become "continue this thread" objects (`count` 0, `id`
# "_"), resolved by /comments/{id}/_/{comment_id}, whose depths restart at 0 at the focal comment
# as Reddit's do (`absolute_depth` keeps true depths). The comments past the budget become `more`
# objects ("load more comments", resolved by /api/morechildren at most `morechildren_limit` per
# call), packed to at most `morechildren_limit` comments each (Reddit puts one under each parent),
# so PRAW's `replace_more(limit=None)` needs about one request per `morechildren_limit` hidden
# comments plus one per continued thread.


def _more(children: list[str], count: int, parent_id: str, depth: int) -> bytes:
    return dumps(
        {
            "kind": "more",
            "data": {
                "count": count,
                "name": "t1_" + children[0],
                "id": children[0],
                "parent_id": parent_id,
                "depth": depth,
                "children": children,
            },
        }
    )


def _continue(parent_id: str, depth: int) -> bytes:
    return dumps(
        {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": parent_id,
                "depth": depth,
                "children": [],
            },
        }
    )


def _packed_mores(tree: CommentTree, frontier: list[int], limit: int, depth_of: Callable[[dict], int]) -> list[bytes]:
    """The hidden subtrees at ``frontier`` as ``more`` objects: consecutive subtrees packed into groups
    of at most ``limit`` comments (a bigger subtree gets a group of its own), one morechildren call each."""
    groups: list[list[int]] = []
    current: list[int] = []
    count = 0
    for j in frontier:
        if current and count + tree.size[j] > limit:
            groups.append(current)
            current, count = [], 0
        current.append(j)
        count += tree.size[j]
    if current:
        groups.append(current)
    out = []
    for group in groups:
        c = tree.comments[group[0]]
        out.append(_more(tree.ids(group), tree.count(group), c["parent_id"], depth_of(c)))
    return out


class _Render:
    """Renders part of a comment tree the way Reddit's comment builder does."""

    def __init__(
        self,
        tree: CommentTree,
        sort: str,
        budget: int,
        depth_limit: int,
        pack: int,
        top_depth: int = 0,
        depth_offset: int = 0,
    ):
        self.tree = tree
        self.children = tree.order(sort)[1]
        self.budget = budget
        self.depth_limit = max(1, depth_limit)
        self.pack = pack
        # `rel` counts levels from the topmost rendered comment (absolute depth `top_depth`);
        # the rendered depth is rel + depth_offset (0: Reddit's relative depths, top_depth: absolute).
        self.top_depth = top_depth
        self.depth_offset = depth_offset
        self.emitted = 0
        self.frontier: list[int] = []

    def level(self, items: list[int], parent_fullname: str, rel: int) -> list[bytes]:
        if not items:
            return []
        tree = self.tree
        shown_depth = rel + self.depth_offset
        if rel >= self.depth_limit:
            return [_continue(parent_fullname, shown_depth)]
        out = []
        for k, i in enumerate(items):
            if self.emitted >= self.budget:
                self.frontier.extend(items[k:])
                break
            self.emitted += 1
            kids = self.children[i]
            replies = None
            if kids:
                replies = listing(self.level(kids, tree.comments[i]["name"], rel + 1), dist=None)
            out.append(tree.fragment(i, shown_depth, replies))
        return out

    def frontier_mores(self) -> list[bytes]:
        """The comments past the budget, as packed ``more`` objects."""
        if not self.frontier:
            return []
        return _packed_mores(
            self.tree, self.frontier, self.pack, lambda c: c["depth"] - self.top_depth + self.depth_offset
        )


def submission_comments(app: RedditServer, request: Request) -> Response:
    """``[/r/{sub}]/comments/{id}[/{slug}[/{comment}]]``: the submission and its tree, or the thread
    below ``comment`` with up to ``context`` ancestors."""
    submission_id = request.params["id"].lower()
    focus_id = request.params["comment"].lower() if "comment" in request.params else None
    sub, s = app.catalog.find_submission(submission_id)
    if "sub" in request.params and request.params["sub"].lower() != s["subreddit"].lower():
        raise HTTPError(404)
    tree = sub.tree(submission_id)
    sort = request.form.get("sort") or "confidence"
    budget = min(request.integer("limit", app.max_initial_comments), app.max_initial_comments)
    depth_limit = app.max_comment_depth
    if request.form.get("depth"):
        depth_limit = max(1, min(depth_limit, request.integer("depth", depth_limit)))
    roots, children = tree.order(sort)
    pack = max(1, app.morechildren_limit)
    if focus_id is None:
        render = _Render(tree, sort, max(0, budget), depth_limit, pack)
        frags = render.level(roots, s["name"], 0)
        frags.extend(render.frontier_mores())
    else:
        if focus_id not in tree.index:
            raise HTTPError(404)
        focal = tree.index[focus_id]
        chain = [focal]
        for _ in range(min(8, max(0, request.integer("context", 0)))):
            if tree.parent[chain[-1]] < 0:
                break
            chain.append(tree.parent[chain[-1]])
        top_abs = tree.comments[chain[-1]]["depth"]
        offset = top_abs if app.absolute_depth else 0
        focal_rel = len(chain) - 1
        render = _Render(tree, sort, max(1, budget), depth_limit, pack, top_abs, offset)
        render.emitted = 1
        kids = render.level(children[focal], tree.comments[focal]["name"], focal_rel + 1)
        kids.extend(render.frontier_mores())
        frag = tree.fragment(focal, focal_rel + offset, listing(kids, dist=None) if kids else None)
        for rel, anc in enumerate(chain[1:], start=1):
            frag = tree.fragment(anc, focal_rel - rel + offset, listing([frag], dist=None))
        frags = [frag]
    app.statistics.served(comments=render.emitted, submissions=1)
    body = b"".join((b"[", listing([sub.t3_fragment(s)], dist=1), b",", listing(frags, dist=None), b"]"))
    return Response(200, body)


def morechildren(app: RedditServer, request: Request) -> Response:
    """``/api/morechildren``: up to ``morechildren_limit`` of the ``children`` asked for (depth first,
    or those alone with ``limit_children``), the rest as ``more`` objects."""
    form = request.form
    link_id = form.get("link_id") or ""
    if not link_id.startswith("t3_"):
        raise HTTPError(400, {"json": {"errors": [["BAD_REQUEST", "link_id is required", "link_id"]]}})
    sub, s = app.catalog.find_submission(link_id[3:])
    tree = sub.tree(s["id"])
    _, children = tree.order(form.get("sort") or "confidence")
    wanted = [
        tree.index[c.strip().lower()]
        for c in (form.get("children") or "").split(",")
        if c.strip().lower() in tree.index
    ]
    limit = max(1, app.morechildren_limit)
    emitted: list[int] = []
    frontier: list[int] = []
    if request.flag("limit_children"):
        emitted = wanted[:limit]
        frontier = wanted[limit:] + [k for i in emitted for k in children[i]]
    else:
        stack = wanted[::-1]
        while stack and len(emitted) < limit:
            i = stack.pop()
            emitted.append(i)
            kids = children[i]
            if kids:
                stack.extend(reversed(kids))
        frontier = stack[::-1]
    things = [tree.fragment(i, tree.comments[i]["depth"], None) for i in emitted]
    if frontier:
        things.extend(_packed_mores(tree, frontier, limit, lambda c: c["depth"]))
    app.statistics.served(comments=len(emitted))
    return Response(200, b'{"json":{"errors":[],"data":{"things":[' + b",".join(things) + b"]}}}")
