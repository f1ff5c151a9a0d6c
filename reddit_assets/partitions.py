"""The date x subreddit partitions shared by every asset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg

from reddit_assets.config import AppConfig, is_valid_subreddit_name
from reddit_assets.dates import parse_day

DATE_DIM = "date"
SUBREDDIT_DIM = "subreddit"


class PartitionKeyError(ValueError):
    """A partition key that is not `YYYY-MM-DD|subreddit`."""


def build_partitions(config: AppConfig) -> dg.MultiPartitionsDefinition:
    """`date` x `subreddit`; keys read `2026-11-27|CreditCardsIndia` (dimensions sort by name).

    end_offset=1 makes today's date partition exist as soon as the day starts, so the
    23:30 schedule can request it.
    """
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIM: dg.DailyPartitionsDefinition(
                start_date=config.start_date.isoformat(),
                timezone=config.schedule.timezone,
                end_offset=1,
            ),
            SUBREDDIT_DIM: dg.StaticPartitionsDefinition(config.names),
        }
    )


def partition_key(date: dt.date | str, subreddit: str) -> dg.MultiPartitionKey:
    date = date.isoformat() if isinstance(date, dt.date) else date
    return dg.MultiPartitionKey({DATE_DIM: date, SUBREDDIT_DIM: subreddit})


def utc_day_bounds(day: dt.date) -> tuple[float, float]:
    """UTC epoch seconds of the start and end of `day`."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
    return start, start + 86400.0


def partitions_of(keys: Iterable[str]) -> list[tuple[str, dt.date, str]]:
    """(key, date, subreddit) for every key, e.g. the keys a run materializes or a check examines."""
    return [(key, *split_partition_key(key)) for key in keys]


def split_partition_key(key: str | dg.MultiPartitionKey) -> tuple[dt.date, str]:
    """`2026-11-27|name` -> (date, name), refusing anything that is not that shape."""
    if isinstance(key, dg.MultiPartitionKey):
        date_str, name = key.keys_by_dimension[DATE_DIM], key.keys_by_dimension[SUBREDDIT_DIM]
    else:
        parts = str(key).split("|")
        if len(parts) != 2:
            raise PartitionKeyError(f"partition key {key!r} is not of the form YYYY-MM-DD|subreddit")
        date_str, name = parts
    try:
        date = parse_day(date_str)
    except ValueError as exc:
        raise PartitionKeyError(f"partition key {str(key)!r}: {exc}") from None
    if not is_valid_subreddit_name(name):
        raise PartitionKeyError(f"partition key {str(key)!r}: {name!r} is not a subreddit name")
    return date, name
