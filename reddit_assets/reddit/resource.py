"""The Reddit API as a Dagster resource over PRAW."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import praw
from pydantic import Field

from reddit_assets.config import SubredditConfig
from reddit_assets.reddit.requestor import CountingRequestor, RequestStats
from reddit_assets.reddit.scraper import ScrapeResult, scrape_subreddit


class RedditResource(dg.ConfigurableResource):
    """Reddit's API through PRAW: app credentials, optional script login, and optional
    endpoint overrides for a Reddit-compatible server. Counts every request and waits
    out 429 answers after their `retry-after`."""

    client_id: str = Field(description="Reddit app client id (REDDIT_CLIENT_ID).")
    client_secret: str = Field(description="Reddit app secret (REDDIT_CLIENT_SECRET).")
    user_agent: str = Field(description="A descriptive user agent (REDDIT_USER_AGENT).")
    username: str | None = Field(default=None, description="Script-app login; unset for read-only app auth.")
    password: str | None = Field(default=None, description="Script-app password.")
    oauth_url: str | None = Field(default=None, description="API endpoint override (REDDIT_OAUTH_URL).")
    reddit_url: str | None = Field(default=None, description="Token endpoint override (REDDIT_URL).")
    timeout: float = Field(default=30.0, description="Seconds to wait for each HTTP answer.")
    max_429_retries: int = Field(default=5, description="How often a 429 is waited out before failing.")

    def client(self, stats: RequestStats) -> praw.Reddit:
        """A fresh PRAW client whose requests are counted into `stats`."""
        urls = {k: v for k, v in (("oauth_url", self.oauth_url), ("reddit_url", self.reddit_url)) if v}
        login = {"username": self.username, "password": self.password} if self.username else {}
        reddit = praw.Reddit(
            client_id=self.client_id,
            client_secret=self.client_secret,
            user_agent=self.user_agent,
            check_for_updates=False,
            check_for_async=False,
            requestor_class=CountingRequestor,
            requestor_kwargs={"timeout": self.timeout, "max_429_retries": self.max_429_retries, "stats": stats},
            **urls,
            **login,
        )
        reddit.read_only = not login
        return reddit

    def scrape(self, entry: SubredditConfig, stats: RequestStats, *, past_day: dt.date | None = None) -> ScrapeResult:
        """Scrape one configured subreddit, counting its requests into `stats`."""
        return scrape_subreddit(self.client(stats), entry, past_day=past_day)
