"""Partition keys: `YYYY-MM-DD|subreddit`, today's exists, malformed keys get a clear error."""

import datetime as dt

import dagster as dg
import pytest

from reddit_assets.config import parse_config
from reddit_assets.partitions import PartitionKeyError, build_partitions, partition_key, split_partition_key


@pytest.fixture
def partitions():
    return build_partitions(
        parse_config({"start_date": "2026-11-01", "subreddits": [{"name": "CreditCardsIndia"}, {"name": "de"}]})
    )


def test_keys_read_date_then_subreddit(partitions):
    with dg.instance_for_test() as instance:
        keys = partitions.get_partition_keys(
            current_time=dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC), dynamic_partitions_store=instance
        )
    assert "2026-11-01|CreditCardsIndia" in keys
    assert str(partition_key("2026-11-02", "de")) == "2026-11-02|de"


def test_todays_partition_exists_when_the_2330_schedule_fires(partitions):
    fire = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)
    keys = partitions.get_partition_keys(current_time=fire)
    assert "2026-11-27|de" in keys
    assert "2026-11-28|de" not in keys


def test_split_accepts_strings_and_multipartition_keys():
    assert split_partition_key("2026-11-27|de") == (dt.date(2026, 11, 27), "de")
    assert split_partition_key(partition_key("2026-11-27", "de")) == (dt.date(2026, 11, 27), "de")


@pytest.mark.parametrize(
    "bad",
    [
        "2026-11-27",
        "de|2026-11-27",
        "2026-13-01|de",
        "2026-11-27|../x",
        "2026-11-27|de|x",
        "27/11/2026|de",
        "2026-11-27|d e",
    ],
)
def test_malformed_keys_are_refused_clearly(bad):
    with pytest.raises(PartitionKeyError, match="partition key"):
        split_partition_key(bad)
