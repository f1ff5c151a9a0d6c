"""The demo's stream subreddit: a config entry added to the demo's copy of the config, a live
feed in the demo server that makes posts and comments all day, and a first poll before the
demo's backfill so today's partition has items (stream_poll_schedule polls from then on)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from reddit_assets.config import AppConfig, config_path
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.stream.poller import SystemClock, run_polls
from reddit_assets.stream.records import last_seen_ids, write_poll
from reddit_assets_demo.live import LiveFeed

STREAM_NAME = "AskReddit"
STREAM_ENTRY = {"name": STREAM_NAME, "category": "stream", "comments": "all"}
# Busy enough that the first poll meets the listing's 1,000-comment end (a reported gap from
# midnight on), light enough for a laptop: 2 posts and 120 comments a minute.
SUBMISSIONS_PER_MINUTE, COMMENTS_PER_MINUTE = 2, 120


def demo_config_file(root: Path) -> Path:
    """`<root>/subreddits.yaml`: the config the demo starts from, plus the stream entry when it
    has none; the repository's own file is left as it is."""
    source = config_path()
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    entries = data.setdefault("subreddits", [])
    if not any(isinstance(e, dict) and e.get("category") == "stream" for e in entries):
        entries.append(dict(STREAM_ENTRY))
    target = root / "subreddits.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        f"# The demo's config: {source} plus a stream subreddit.\n" + yaml.safe_dump(data, sort_keys=False)
    )
    return target


def live_feeds(config: AppConfig, today: dt.date) -> list[LiveFeed]:
    """A live feed, from today's midnight UTC on, for each stream entry."""
    start = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC).timestamp()
    return [
        LiveFeed(
            entry.name,
            start=start,
            submissions_per_minute=SUBMISSIONS_PER_MINUTE,
            comments_per_minute=COMMENTS_PER_MINUTE,
        )
        for entry in config.stream_entries
    ]


def first_polls(config: AppConfig, data_dir: Path, reddit_url: str) -> int:
    """One poll of every stream listing, recorded where stream_poll_job keeps its polls."""
    from reddit_assets.assets.stream import stream_targets

    stats, clock = RequestStats(), SystemClock()
    client = RedditResource(
        client_id="demo-client", client_secret="demo-secret", user_agent="reddit_assets demo (local)",
        oauth_url=reddit_url, reddit_url=reddit_url,
    ).client(stats)  # fmt: skip
    return run_polls(
        client,
        stream_targets(config),
        previous=lambda name, listing: last_seen_ids(data_dir, name, listing, clock.now()),
        record=lambda poll: write_poll(data_dir, poll),
        poll_seconds=config.stream.poll_seconds,
        run_seconds=0,
        stats=stats,
        clock=clock,
    )
