"""Where raw files, local archives and undelivered alerts live under the data directory.

Paths are built only from a parsed date and a validated subreddit name.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from reddit_assets.config import is_valid_subreddit_name


def _checked(name: str) -> str:
    if not is_valid_subreddit_name(name):
        raise ValueError(f"{name!r} is not a subreddit name")
    return name


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The root of raw files and local archives: `$REDDIT_ASSETS_DATA_DIR`, default `./data`."""
    return Path(env.get("REDDIT_ASSETS_DATA_DIR") or "data").resolve()


def raw_file_path(data_dir: str | Path, date: dt.date, subreddit: str) -> Path:
    return Path(data_dir) / "scrapes" / date.isoformat() / f"{_checked(subreddit)}.json"


def archive_object_key(date: dt.date, subreddit: str) -> str:
    name = _checked(subreddit)
    return f"daily_scrapes/{name}/{date.isoformat()}/{name}_{date.isoformat()}.zip"


def local_archive_path(data_dir: str | Path, date: dt.date, subreddit: str) -> Path:
    return Path(data_dir) / "archives" / archive_object_key(date, subreddit)


def second_pass_file_path(data_dir: str | Path, date: dt.date, subreddit: str) -> Path:
    return Path(data_dir) / "scrapes" / date.isoformat() / f"{_checked(subreddit)}.second_pass.json"


def second_pass_object_key(date: dt.date, subreddit: str) -> str:
    name = _checked(subreddit)
    return f"daily_scrapes/{name}/{date.isoformat()}/{name}_{date.isoformat()}_second_pass.zip"


def local_second_pass_archive_path(data_dir: str | Path, date: dt.date, subreddit: str) -> Path:
    return Path(data_dir) / "archives" / second_pass_object_key(date, subreddit)


def pending_alerts_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "alerts" / "pending"


def stream_records_dir(data_dir: str | Path, subreddit: str) -> Path:
    """A stream subreddit's poll records: `stream/<subreddit>/<UTC date>/<UTC hour>/<listing>-<time>.json`."""
    return Path(data_dir) / "stream" / _checked(subreddit)
