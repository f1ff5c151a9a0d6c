"""Today in the schedule's time zone: the one day a snapshot category can still be scraped."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from reddit_assets.config import AppConfig


def today_for(config: AppConfig, now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(config.schedule.timezone)).date()
