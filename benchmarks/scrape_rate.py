"""Scraping against the rate limit: RedditResource.scrape (real PRAW over HTTP) of several
subreddits with full comment trees, against the demo server with a RateLimit budget.

- Requests: what the client sent (token, listing, comments, morechildren, 429 retries)
  against the minimum the data allows: per subreddit one token and the listing pages, per
  submission one comments request plus one per `morechildren_limit` comments hidden
  beyond the server's `max_initial_comments`. Trees are generated no deeper than the
  server renders, so no "continue this thread" request is needed.
- Time: wall time against the bound the budget sets (requests / budget rate).

The budget is 100 requests per 10 s window: the 10 requests/s of "300 per 30 s", in
shorter windows so that one run spans several of them.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from benchmarks.common import Result, Row, Sizes, rate_limit_rows
from reddit_assets.config import SubredditConfig
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets_demo.server import RateLimit, RedditServer

NAME = "scrape_rate"
N_RESULTS = 50
LISTING_PAGE = 100


def run(sizes: Sizes) -> Result:
    n_subreddits, budget = (2, RateLimit(40, 4.0)) if sizes.quick else (4, RateLimit(100, 10.0))
    names = [f"benchrate{i}" for i in range(n_subreddits)]
    day = dt.datetime.now(dt.UTC).date()
    generator = {
        "n_submissions": 60,
        "comments_per_submission": (0, 150),
        "popular_threads": 3,
        "popular_comments": (400, 1200),
    }
    result = Result()
    with RedditServer(names, day=day, generator_kwargs={**generator, "max_depth": 9}, rate_limit=budget) as server:
        # Trees must fit the rendered depth, or "continue this thread" requests would be needed.
        assert server.max_comment_depth >= 10
        data = {name: server.subreddit_data(name) for name in names}  # generated before the clock starts
        resource = RedditResource(
            client_id="bench",
            client_secret="bench",
            user_agent="reddit_assets benchmark",
            oauth_url=server.url,
            reddit_url=server.url,
        )
        sent = minimum = submissions = comments = expected_comments = waited_429 = 0
        start = time.perf_counter()
        for name in names:
            stats = RequestStats()
            scraped = resource.scrape(
                SubredditConfig(name=name, category="top", n_results=N_RESULTS, time_filter="all"), stats
            )
            sent += stats.requests
            waited_429 += stats.rate_limited
            submissions += len(scraped.submissions)
            comments += len(scraped.comments)
            minimum += 1 + math.ceil(len(scraped.submissions) / LISTING_PAGE)
            for submission in scraped.submissions:
                n = len(data[name].comments_for(submission["id"]))
                expected_comments += n
                minimum += 1 + math.ceil(max(0, n - server.max_initial_comments) / server.morechildren_limit)
        wall = time.perf_counter() - start
        stats = server.stats()
    throttled = stats["by_status"].get("429", 0)
    tight = (math.ceil(sent / budget.requests_per_window) - 1) * budget.window_seconds
    label = f"Scrape {n_subreddits} subs x {N_RESULTS} posts, full trees"
    result.rows.append(
        Row(
            label,
            "requests per submission vs minimum",
            f"{sent / submissions:.3f}",
            f"{minimum / submissions:.3f}",
            sent / minimum,
            "<= 1.10",
            sent / minimum <= 1.10,
        )
    )
    result.rows += rate_limit_rows(label, sent, wall, budget, throttled)
    by_kind = {k: v for k, v in stats["by_kind"].items() if v}
    result.notes.append(
        f"Scrape: {sent} requests sent ({by_kind}; server saw {stats['requests']}), minimum {minimum}; "
        f"{submissions} submissions, {comments:,} comments collected of {expected_comments:,} generated; "
        f"{waited_429} 429s waited out by CountingRequestor; one run (rate-limited: repeating it costs a minute each). "
        f"With fixed windows a burst gets the first window free: the tight bound, (ceil(requests / budget) - 1) x window "
        f"= {tight:.0f} s, is {tight / wall:.2f} of the wall time"
    )
    return result
