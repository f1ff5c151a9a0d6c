"""Raw scrape documents made straight from generated data, for tests and benchmarks that need many fast."""

from __future__ import annotations

import datetime as dt

from reddit_assets_demo.generator import generate_subreddit


def generated_raw_document(name: str, day: dt.date, **generator_kwargs) -> dict:
    """A raw document (as reddit/raw_scrape writes it) holding a generated subreddit-day."""
    data = generate_subreddit(name, day, **generator_kwargs)
    comments = [c for s in data.submissions for c in data.comments.get(s["id"], [])]
    return {
        "subreddit": name,
        "date": day.isoformat(),
        "settings": {"name": name, "category": "new", "generated": True},
        "scraped_at": dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC).isoformat(),
        "api_requests": 0,
        "submissions": data.submissions,
        "comments": comments,
    }
