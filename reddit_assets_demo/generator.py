"""Deterministic fake Reddit data: a subreddit-day's submissions (``t3`` data) and comment trees (``t1`` data)."""

# Everything is a pure function of (name, day, seed, parameters): the same inputs always give
# identical data, and ids (base36, like Reddit's) are unique across subreddits, days and seeds.
# Comment dicts carry no `replies` key: the server builds it when it renders a tree.

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from reddit_assets.partitions import utc_day_bounds
from reddit_assets_demo import text

__all__ = [
    "SubredditData",
    "generate_subreddit",
    "subreddit_id",
    "author_fullname",
    "to_base36",
]

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Ids are `namespace << _COUNTER_BITS | counter`: one 32-bit namespace per (name, day, seed).
_COUNTER_BITS = 24

_FLAIRS = (None, None, None, "Discussion", "Question", "News", "Meta", "OC", "Help", "Humor 😂", "Serious")
_LINK_DOMAINS = (
    "i.redd.it",
    "v.redd.it",
    "youtube.com",
    "github.com",
    "example.com",
    "en.wikipedia.org",
    "nytimes.com",
)


def to_base36(number: int) -> str:
    """``number`` (>= 0) in lowercase base36, as Reddit writes ids."""
    if number < 0:
        raise ValueError("negative id")
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_B36[rest])
    return "".join(reversed(digits))


def _hash_int(key: str, nbytes: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=nbytes).digest(), "big")


def subreddit_id(name: str) -> str:
    """Stable base36 id of a subreddit (its ``t5`` id), the same every day."""
    return to_base36(_hash_int("t5|" + name.lower(), 5))


def author_fullname(author: str) -> str:
    """Stable ``t2_`` fullname of an author name."""
    return "t2_" + to_base36(_hash_int("t2|" + author.lower(), 5))


@dataclass
class SubredditData:
    """One subreddit's generated content.

    ``submissions`` are ``t3`` data dicts ordered by ``created_utc`` (ascending, ids ascending too);
    ``comments[submission_id]`` are that submission's ``t1`` data dicts, parents before children.
    """

    name: str
    day: dt.date
    seed: int
    about: dict
    submissions: list[dict]
    comments: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.about["display_name"]

    def submission(self, submission_id: str) -> dict:
        for item in self.submissions:
            if item["id"] == submission_id:
                return item
        raise KeyError(submission_id)

    def comments_for(self, submission_id: str) -> list[dict]:
        return self.comments.get(submission_id, [])

    def comment_count(self) -> int:
        return sum(len(c) for c in self.comments.values())

    def iter_comments(self) -> Iterator[dict]:
        for comments in self.comments.values():
            yield from comments


def _comment_count(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int((hi - lo) * rng.random() ** 2.2 + 0.5) if hi > lo else lo


def _tree_shape(rng: random.Random, n: int, max_depth: int, deep_chain: bool) -> tuple[list[int], list[int]]:
    """Parent index (-1: top level) and depth of each of ``n`` comments, parents first."""
    parents = [-1] * n
    depths = [0] * n
    roots = [0]
    chain_at = n // 3 if deep_chain else -1
    chain_left = 0
    # (top level, reply to the previous comment, reply to a recent one); else reply to any.
    p_top, p_prev, p_recent = (0.35, 0.22, 0.2) if n < 200 else (0.15, 0.12, 0.2)
    rand = rng.random
    randrange = rng.randrange
    for i in range(1, n):
        if i == chain_at:
            chain_left = max_depth + 1
        if chain_left > 0 and depths[i - 1] < max_depth:
            chain_left -= 1
            p = i - 1
        else:
            chain_left = 0
            r = rand()
            if r < p_top:
                p = -1
            elif r < p_top + p_prev:
                p = i - 1
            elif r < p_top + p_prev + p_recent:
                p = randrange(max(0, i - 20), i)
            elif roots and r < p_top + p_prev + p_recent + 0.2:
                p = roots[randrange(len(roots))]
            else:
                p = randrange(i)
            while p >= 0 and depths[p] >= max_depth:
                p = parents[p]
        parents[i] = p
        if p < 0:
            roots.append(i)
        else:
            depths[i] = depths[p] + 1
    return parents, depths


def generate_subreddit(
    name: str,
    day: dt.date,
    *,
    seed: int = 0,
    n_submissions: int = 60,
    comments_per_submission: tuple[int, int] = (0, 120),
    max_depth: int = 12,
    popular_threads: int = 2,
    popular_comments: tuple[int, int] = (300, 700),
    big_thread_comments: int = 0,
    n_authors: int | None = None,
    subscribers: int | None = None,
    topic: str | None = None,
    until: float | None = None,
) -> SubredditData:
    """Generate a subreddit's submissions and comment trees for one UTC ``day``.

    - ``comments_per_submission``: (min, max) comments of an ordinary submission (skewed to small).
    - ``popular_threads`` submissions get ``popular_comments`` comments instead: enough that a server
      sending ~200 comments up front needs ``morechildren``; these always hold a reply chain reaching
      ``max_depth`` (so "continue this thread" is needed too).
    - ``big_thread_comments`` > 0: the highest-scored submission gets exactly that many comments.
    - Comment depth ranges over ``0..max_depth``.
    - ``topic``: about a third of the titles mention it, so a search for it finds posts.
    - ``until``: nothing is created or edited after this time (epoch seconds): today's data as
      a scrape at ``until`` finds it; a day that has not begun by then has no submissions.
    """
    if n_submissions < 0 or max_depth < 0:
        raise ValueError("n_submissions and max_depth must be >= 0")
    key = f"{name.lower()}|{day.isoformat()}|{seed}"
    rng = random.Random("gen|" + key)
    namespace = (_hash_int("ns|" + key, 4) + 1) << _COUNTER_BITS
    counter = 0
    limit = 1 << _COUNTER_BITS

    def next_id() -> str:
        nonlocal counter
        if counter >= limit:
            raise ValueError("too many things in one dataset")
        counter += 1
        return to_base36(namespace + counter)

    sr_id = subreddit_id(name)
    sr_fullname = "t5_" + sr_id
    prefixed = "r/" + name
    n_subs = subscribers if subscribers is not None else 1000 + _hash_int("subs|" + name.lower(), 3) % 2_000_000
    about = {
        "display_name": name,
        "display_name_prefixed": prefixed,
        "id": sr_id,
        "name": sr_fullname,
        "title": f"{name}: a demo community",
        "public_description": f"Generated demo data for r/{name} 🤖",
        "description": f"# r/{name}\n\nEverything here is generated deterministically.",
        "subscribers": n_subs,
        "accounts_active": n_subs // 500,
        "active_user_count": n_subs // 500,
        "created_utc": 1200000000.0 + _hash_int("created|" + name.lower(), 3) % 400_000_000,
        "subreddit_type": "public",
        "over18": False,
        "quarantine": False,
        "lang": "en",
        "url": f"/r/{name}/",
        "submission_type": "any",
        "allow_images": True,
        "allow_videos": True,
        "spoilers_enabled": True,
        "user_is_banned": None,
        "user_is_subscriber": None,
    }

    authors = text.authors(rng, n_authors or max(40, n_submissions * 3))
    fullnames = {a: author_fullname(a) for a in authors}
    day_start, _ = utc_day_bounds(day)
    day_end = day_start + 86399.0  # the day's last second (or `until`): nothing generated is later
    if until is not None:
        day_end = min(day_end, until)
        n_submissions = n_submissions if until >= day_start else 0

    # Submissions: creation times inside the day, ids ascending with time.
    times = sorted(day_start + rng.random() * (day_end - day_start) for _ in range(n_submissions))
    submissions: list[dict] = []
    for created in times:
        sid = next_id()
        title = text.title(rng)
        if topic and rng.random() < 0.35:
            title = f"{title.rstrip('.!?')} with {topic}"
        is_self = rng.random() < 0.6
        selftext = text.selftext(rng) if is_self else ""
        author = rng.choice(authors)
        removed_by = None
        if rng.random() < 0.03:
            author, removed_by = "[deleted]", "deleted"
            selftext = "[deleted]" if is_self else ""
        elif rng.random() < 0.02:
            removed_by = "moderator"
            selftext = "[removed]" if is_self else ""
        slug = text.slug(title)
        permalink = f"/r/{name}/comments/{sid}/{slug}/"
        if is_self:
            url, domain = "https://www.reddit.com" + permalink, f"self.{name}"
        else:
            domain = rng.choice(_LINK_DOMAINS)
            url = f"https://{domain}/{slug}-{sid}"
        score = int(rng.paretovariate(0.9)) - 1 if rng.random() > 0.05 else -rng.randint(0, 20)
        ratio = round(rng.uniform(0.45, 1.0), 2)
        # No later than the day's end, as the comments below: at 00:30 UTC a late post's edit ran
        # past now + 1 day, the latest time a load accepts (test_restore failed in CI at 00:28).
        edited = min(round(created + rng.uniform(60, 7200), 1), day_end) if rng.random() < 0.08 else False
        awards = rng.randint(1, 5) if rng.random() < 0.03 else 0
        flair = rng.choice(_FLAIRS)
        submissions.append(
            {
                "id": sid,
                "name": "t3_" + sid,
                "title": title,
                "selftext": selftext,
                "selftext_html": None,
                "author": author,
                "author_fullname": fullnames.get(author),
                "author_flair_text": None,
                "subreddit": name,
                "subreddit_id": sr_fullname,
                "subreddit_name_prefixed": prefixed,
                "subreddit_type": "public",
                "subreddit_subscribers": n_subs,
                "created_utc": round(created, 1),
                "created": round(created, 1),
                "score": score,
                "ups": score,
                "downs": 0,
                "upvote_ratio": ratio,
                "num_comments": 0,
                "num_crossposts": rng.randint(0, 3) if rng.random() < 0.05 else 0,
                "permalink": permalink,
                "url": url,
                "domain": domain,
                "is_self": is_self,
                "is_video": domain == "v.redd.it",
                "is_original_content": rng.random() < 0.05,
                "over_18": rng.random() < 0.02,
                "spoiler": rng.random() < 0.03,
                "stickied": False,
                "pinned": False,
                "locked": rng.random() < 0.03,
                "archived": False,
                "hidden": False,
                "saved": False,
                "contest_mode": False,
                "send_replies": True,
                "link_flair_text": flair,
                "link_flair_css_class": flair.split()[0].lower() if flair else None,
                "distinguished": None,
                "edited": edited,
                "gilded": 1 if awards and rng.random() < 0.5 else 0,
                "total_awards_received": awards,
                "thumbnail": "self" if is_self else "default",
                "removed_by_category": removed_by,
                "media": None,
                "secure_media": None,
                "view_count": None,
            }
        )
    # One or two stickied posts, like many subreddits.
    for item in submissions[: min(2, len(submissions) // 20)]:
        item["stickied"] = True
        item["distinguished"] = "moderator"

    # Which submissions carry many comments.
    by_score = sorted(range(n_submissions), key=lambda i: (-submissions[i]["score"], i))
    big = by_score[0] if big_thread_comments > 0 and n_submissions else -1
    popular = set(by_score[1 if big >= 0 else 0 :][:popular_threads])

    lo, hi = comments_per_submission
    all_comments: dict[str, list[dict]] = {}
    for index, sub in enumerate(submissions):
        if index == big:
            n = big_thread_comments
        elif index in popular:
            n = rng.randint(*popular_comments)
        else:
            n = _comment_count(rng, lo, hi)
        deep = index == big or index in popular or (n >= 40 and rng.random() < 0.3)
        all_comments[sub["id"]] = comments = _comments_for(
            rng, sub, n, max_depth, deep, authors, fullnames, next_id, latest=day_end
        )
        sub["num_comments"] = len(comments)
    return SubredditData(name=name, day=day, seed=seed, about=about, submissions=submissions, comments=all_comments)


def _comments_for(rng, sub, n, max_depth, deep, authors, fullnames, next_id, latest: float) -> list[dict]:
    """`n` comments of `sub`, created after their parents and no later than `latest` (the end of
    the submission's day: a reply chain under a late post would otherwise run into the next
    day, and for today's data past the time a scraper accepts, now + 1 day)."""
    if n <= 0:
        return []
    parents, depths = _tree_shape(rng, n, max_depth, deep)
    link_id = sub["name"]
    op = sub["author"]
    base = sub["permalink"]
    name = sub["subreddit"]
    sr_fullname = sub["subreddit_id"]
    prefixed = sub["subreddit_name_prefixed"]
    rand = rng.random
    choice = rng.choice
    choices = rng.choices
    randint = rng.randint
    expo = rng.expovariate
    pareto = rng.paretovariate
    population = text.POPULATION
    created_sub = sub["created_utc"]
    ids: list[str] = []
    created: list[float] = []
    out: list[dict] = []
    automod = rand() < 0.1
    for i in range(n):
        cid = next_id()
        ids.append(cid)
        p = parents[i]
        start = created_sub if p < 0 else created[p]
        t = min(round(start + 5.0 + expo(1 / 1800.0), 1), latest)
        created.append(t)
        roll = rand()
        if automod and i == 0:
            author, body = "AutoModerator", "Please remember the rules of this community. *I am a bot.* 🤖"
        elif roll < 0.03:
            author, body = "[deleted]", "[deleted]"
        elif roll < 0.05:
            author, body = "[deleted]", "[removed]"
        else:
            author = op if (p >= 0 and rand() < 0.1) else choice(authors)
            k = randint(1, 12) if rand() < 0.7 else randint(12, 120)
            body = " ".join(choices(population, k=k))
            if rand() < 0.08:
                body += "\n\n" + " ".join(choices(population, k=randint(5, 40)))
        score = int(pareto(1.2)) if rand() > 0.1 else -randint(0, 15)
        out.append(
            {
                "id": cid,
                "name": "t1_" + cid,
                "body": body,
                "author": author,
                "author_fullname": fullnames.get(author) if author != "AutoModerator" else author_fullname(author),
                "author_flair_text": None,
                "created_utc": t,
                "created": t,
                "score": score,
                "ups": score,
                "downs": 0,
                "score_hidden": False,
                "parent_id": link_id if p < 0 else "t1_" + ids[p],
                "link_id": link_id,
                "depth": depths[i],
                "permalink": f"{base}{cid}/",
                "subreddit": name,
                "subreddit_id": sr_fullname,
                "subreddit_name_prefixed": prefixed,
                "is_submitter": author == op and author != "[deleted]",
                "stickied": automod and i == 0,
                "distinguished": "moderator" if (automod and i == 0) else None,
                "edited": min(round(t + 30 + expo(1 / 600.0), 1), latest) if rand() < 0.05 else False,
                "controversiality": 1 if rand() < 0.05 else 0,
                "gilded": 0,
                "total_awards_received": 1 if rand() < 0.005 else 0,
                "collapsed": score < -5,
                "archived": False,
                "locked": False,
                "send_replies": True,
                "saved": False,
                "no_follow": score < 1,
            }
        )
    return out
