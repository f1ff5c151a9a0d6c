"""The second pass against the rate limit: 15 partitions of a few thousand items each,
fetched again through /api/info (real PRAW over HTTP) from the demo server with a budget,
one client for the whole batch as reddit/second_pass does in a range run.

- Requests: what the client sent (token, info calls, 429 retries) against the minimum,
  ceil(items / 100) per partition plus the one token.
- Time: wall time against the bound the budget sets (requests / budget rate).

The budget is 60 requests per 6 s window: Reddit's 100 a minute, 6x faster so the run takes
about 40 s, not four minutes; still below what client and server manage unthrottled
in one process on a busy 2-core machine (about 17 requests/s), so the figure measures pacing.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result, Row, Sizes, rate_limit_rows
from reddit_assets.files.second_pass_file import write_second_pass_file
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.reddit.second_pass import fetch_current_state, fullnames
from reddit_assets_demo.server import RateLimit, RedditServer

NAME = "second_pass"
INFO_BATCH = 100


def run(sizes: Sizes) -> Result:
    if sizes.quick:
        n_partitions, budget, generator = (
            6,
            RateLimit(40, 4.0),
            {"n_submissions": 15, "comments_per_submission": (20, 40)},
        )
    else:
        n_partitions, budget = 15, RateLimit(60, 6.0)  # ~40 s at the budget: keeps `make bench` under 10 minutes
        generator = {"n_submissions": 35, "comments_per_submission": (40, 80)}
    names = [f"benchpass{i}" for i in range(n_partitions)]
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
    result = Result()
    with RedditServer(names, day=day, generator_kwargs=generator, rate_limit=budget) as server:
        # The partitions' items as their raw files list them, generated before the clock starts.
        asked = {}
        for name in names:
            data = server.subreddit_data(name)
            comment_ids = [c["id"] for s in data.submissions for c in data.comments.get(s["id"], [])]
            asked[name] = fullnames([s["id"] for s in data.submissions], comment_ids)
        server.reset_stats()
        resource = RedditResource(
            client_id="bench",
            client_secret="bench",
            user_agent="reddit_assets benchmark",
            oauth_url=server.url,
            reddit_url=server.url,
        )
        stats = RequestStats()
        items = returned = 0
        with tempfile.TemporaryDirectory(prefix="bench-second-pass-") as tmp:
            start = time.perf_counter()
            client = resource.client(stats)
            for name in names:
                fetched = fetch_current_state(client, name, asked[name])
                document = {
                    "subreddit": name,
                    "date": day.isoformat(),
                    "fetched_at": dt.datetime.now(dt.UTC).isoformat(),
                    "first_scrape": {},
                    "api_requests": 0,
                    "missing": fetched.missing,
                    "submissions": fetched.submissions,
                    "comments": fetched.comments,
                }
                write_second_pass_file(Path(tmp) / f"{name}.second_pass.json", document)
                items += len(asked[name])
                returned += len(fetched.submissions) + len(fetched.comments)
            wall = time.perf_counter() - start
        served = server.stats()
    minimum = 1 + sum(math.ceil(len(a) / INFO_BATCH) for a in asked.values())
    sent = stats.requests
    throttled = served["by_status"].get("429", 0)
    tight = (math.ceil(sent / budget.requests_per_window) - 1) * budget.window_seconds
    label = f"Second pass {n_partitions} partitions x ~{items // n_partitions:,} items"
    result.rows.append(
        Row(label, "requests vs minimum", str(sent), str(minimum), sent / minimum, "<= 1.02", sent / minimum <= 1.02)
    )
    result.rows += rate_limit_rows(label, sent, wall, budget, throttled)
    by_kind = {k: v for k, v in served["by_kind"].items() if v}
    result.notes.append(
        f"Second pass: {items:,} items asked in {n_partitions} partitions, {returned:,} returned, "
        f"{items - returned:,} no longer returned; {sent} requests sent ({by_kind}), minimum {minimum}; "
        f"{stats.rate_limited} 429s waited out; one run. The tight bound (ceil(requests / budget) - 1) x window "
        f"= {tight:.0f} s is {tight / wall:.2f} of the wall time"
    )
    return result
