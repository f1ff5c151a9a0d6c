"""URS (Universal Reddit Scraper) subreddit scrapes -> our raw document. Pure: no I/O.

URS writes a subreddit scrape to
`scrapes/<YYYY-MM-DD>/subreddits/<subreddit>-<category>-<n>-results[-past-<time_filter>].json`
(search: `<subreddit>-search-'<keywords>'[-past-<time_filter>].json`; before URS 3.2 the
date folder read MM-DD-YYYY) as::

    {"scrape_settings": {"subreddit", "category", "n_results_or_keywords", "time_filter"},
     "data": [submission, ...],
     "subreddit_rules": {"rules": [...], "post_requirements": {...}}}   # only with --rules

Each submission is a subset of PRAW's fields. Times are text in the scraping machine's
local time ("%Y-%m-%d %H:%M:%S"; older "%m-%d-%Y %H:%M:%S"), authors read "u/<name>",
NSFW is "nsfw". URS scrapes no comments for a subreddit.

The conversion keeps every field given: each submission keeps all its keys; where a
value is turned into the shape Reddit returns (`created_utc`/`edited` as epoch seconds,
`author` without "u/", `over_18` beside `nsfw`) the original value stays under
`urs_original`. Every top-level key but `data` is kept under `source`.

The date (the partition) is the date folder's; without one, the UTC date of the newest
submission. `scraped_at` is unknown to URS: it is the newest submission's time or the
start of the date, whichever is later (a lower bound, flagged `scraped_at_estimated`),
so converting the same file always gives the same document.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from zoneinfo import ZoneInfo

from reddit_assets.config import CATEGORIES, CATEGORY_CODES, TIME_FILTERS, is_valid_subreddit_name
from reddit_assets.files.item_checks import EARLIEST
from reddit_assets.strict_yaml import short_repr

URS_FORMAT = "urs/subreddit-scrape"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%m-%d-%Y %H:%M:%S")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_US_DAY = re.compile(r"(\d{2})-(\d{2})-(\d{4})", re.ASCII)  # URS before 3.2


class UrsFormatError(ValueError):
    """A URS file that cannot be converted; the message says why."""


def urs_kind(document: object) -> str | None:
    """'subreddit', 'redditor' or 'comments' for a URS scrape; None if it is not one."""
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("scrape_settings"), dict)
        or "data" not in document
    ):
        return None
    settings = document["scrape_settings"]
    if "subreddit" in settings:
        return "subreddit"
    if "redditor" in settings:
        return "redditor"
    if "submission_url" in settings:
        return "comments"
    return None


def date_from_folder(name: str) -> dt.date | None:
    """The date a URS date folder names (YYYY-MM-DD, or the older MM-DD-YYYY); else None."""
    for pattern, order in ((_ISO_DAY, (0, 1, 2)), (_US_DAY, (2, 0, 1))):
        match = pattern.fullmatch(name)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
    return None


def _epoch(value: object, tz: ZoneInfo) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        for fmt in _TIME_FORMATS:
            try:
                return dt.datetime.strptime(value, fmt).replace(tzinfo=tz).timestamp()
            except ValueError:
                pass
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).timestamp()
    return None


def parse_urs_time(value: object, tz: ZoneInfo, where: str) -> float:
    """Epoch seconds from a URS time (text in `tz`, or already a number), within 2005 .. now + 1 day."""
    try:
        seconds = _epoch(value, tz)
    except (OverflowError, ValueError):  # a year at the very edge of what datetime holds, shifted by tz
        seconds = None
    if seconds is None:
        raise UrsFormatError(f"{where} {short_repr(value, 40)} is not a time")
    if not (math.isfinite(seconds) and EARLIEST <= seconds <= time.time() + 86400):
        raise UrsFormatError(f"{where} {short_repr(value, 40)} is outside 2005-01-01 .. now + 1 day")
    return seconds


def _settings(raw: dict, name: str) -> dict:
    category = raw.get("category")
    category = (
        CATEGORY_CODES.get(category.strip().lower(), category.strip().lower()) if isinstance(category, str) else None
    )
    if category not in CATEGORIES:
        raise UrsFormatError(f"scrape_settings.category {raw.get('category')!r} is not one of {', '.join(CATEGORIES)}")
    time_filter = raw.get("time_filter")
    if time_filter is not None and (not isinstance(time_filter, str) or time_filter.lower() not in TIME_FILTERS):
        raise UrsFormatError(f"scrape_settings.time_filter {time_filter!r} is not one of {', '.join(TIME_FILTERS)}")
    wanted = raw.get("n_results_or_keywords")
    if wanted is None:
        raise UrsFormatError("missing field scrape_settings.n_results_or_keywords")
    query, n_results = None, None
    if category == "search":
        query = str(wanted)
    elif (isinstance(wanted, int) and not isinstance(wanted, bool)) or (
        isinstance(wanted, str) and wanted.strip().isdigit()
    ):
        n_results = int(wanted)
    else:
        raise UrsFormatError(f"scrape_settings.n_results_or_keywords {wanted!r} is not a number of results")
    return {
        "name": name,
        "category": category,
        "n_results": n_results,
        "time_filter": time_filter.lower() if time_filter else None,
        "query": query,
        "comments": "none",
    }


def _submission(item: object, index: int, tz: ZoneInfo) -> dict:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise UrsFormatError(f"data[{index}] is not a submission object with an 'id'")
    out = dict(item)
    original = {}
    for field in ("created_utc", "edited"):
        value = item.get(field)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            parse_urs_time(value, tz, f"data[{index}].{field}")  # a number must be a time too
            continue
        out[field] = parse_urs_time(value, tz, f"data[{index}].{field}")
        original[field] = value
    author = item.get("author")
    if isinstance(author, str) and author.startswith("u/"):
        out["author"] = author[2:]
        original["author"] = author
    if "nsfw" in item and "over_18" not in item:
        out["over_18"] = item["nsfw"]
    if original:
        out["urs_original"] = original
    return out


def convert_urs_subreddit(
    document: dict, *, folder_date: dt.date | None, tz: ZoneInfo, source_file: str, source_sha256: str
) -> dict:
    """Our raw document (without format tag and counts) for one URS subreddit scrape."""
    settings = document["scrape_settings"]
    name = settings.get("subreddit")
    if not is_valid_subreddit_name(name):
        raise UrsFormatError(f"scrape_settings.subreddit {name!r} is not a subreddit name")
    items = document["data"]
    if not isinstance(items, list):
        raise UrsFormatError(f"'data' is {type(items).__name__}, not a list of submissions")
    submissions = [_submission(item, i, tz) for i, item in enumerate(items)]

    created = [s["created_utc"] for s in submissions if isinstance(s.get("created_utc"), float)]
    newest = max(created) if created else None
    if folder_date is not None:
        date, date_rule = folder_date, "date folder"
    elif newest is not None:
        date, date_rule = dt.datetime.fromtimestamp(newest, dt.UTC).date(), "newest submission (UTC)"
    else:
        raise UrsFormatError("cannot tell the date: no date folder (YYYY-MM-DD) above it and no submission times")
    day_start = dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC).timestamp()
    scraped_at = dt.datetime.fromtimestamp(max(day_start, newest or day_start), dt.UTC)

    return {
        "subreddit": name,
        "date": date.isoformat(),
        "settings": _settings(settings, name),
        "scraped_at": scraped_at.isoformat(),
        "scraped_at_estimated": True,
        "api_requests": None,  # URS does not record it
        "source": {
            "format": URS_FORMAT,
            "file": source_file,
            "sha256": source_sha256,
            "timezone": tz.key,
            "date_from": date_rule,
            **{k: v for k, v in document.items() if k != "data"},
        },
        "submissions": submissions,
        "comments": [],
    }
