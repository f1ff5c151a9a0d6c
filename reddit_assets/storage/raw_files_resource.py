"""Where raw scrape files and local archives live on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from reddit_assets.files import paths


class RawFilesResource(dg.ConfigurableResource):
    """The data directory: raw files under `scrapes/<date>/<subreddit>.json`, local
    archives under `archives/`."""

    data_dir: str = Field(default="data", description="Root folder (REDDIT_ASSETS_DATA_DIR).")

    def raw_path(self, date: dt.date, subreddit: str) -> Path:
        return paths.raw_file_path(self.data_dir, date, subreddit)

    def archive_path(self, date: dt.date, subreddit: str) -> Path:
        return paths.local_archive_path(self.data_dir, date, subreddit)
