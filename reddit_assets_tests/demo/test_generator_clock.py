"""Today's generated data as of a scrape: nothing is created (or edited) after the time of the request."""

import datetime as dt

import requests

from reddit_assets.partitions import utc_day_bounds
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.server import RedditServer

TODAY = dt.date(2026, 12, 7)  # "today": the clock below stands 20 minutes into it
DAY_START, _ = utc_day_bounds(TODAY)
NOW = DAY_START + 20 * 60


def _times(data) -> list[float]:
    items = [*data.submissions, *data.iter_comments()]
    return [item["created_utc"] for item in items] + [item["edited"] for item in items if item["edited"]]


def test_todays_data_is_created_between_the_day_start_and_until():
    data = generate_subreddit("python", TODAY, until=NOW)
    assert len(data.submissions) == 60 and data.comment_count() > 0
    assert DAY_START <= min(_times(data)) and max(_times(data)) <= NOW
    whole_day = generate_subreddit("python", TODAY)
    assert max(_times(whole_day)) > NOW  # the same day unbounded runs on past the scrape
    assert generate_subreddit("python", TODAY + dt.timedelta(days=1), until=NOW).submissions == []


def test_todays_listing_holds_nothing_created_after_the_request():
    with RedditServer(["python"], day=TODAY, now=NOW, check_tokens=False) as server:
        seen = []
        for path in ("r/python/new", "r/python/comments"):
            answer = requests.get(f"{server.url}/{path}", params={"limit": 100, "raw_json": 1}, timeout=30)
            assert answer.status_code == 200
            seen.extend(child["data"]["created_utc"] for child in answer.json()["data"]["children"])
    assert len(seen) == 60 + 100  # every post, the 100 newest comments
    assert max(seen) <= NOW  # the time of the request
