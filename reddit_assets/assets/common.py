"""What every asset shares: keys, retry policy, partitions, and the raw file reader."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from reddit_assets.partitions import split_partition_key

RAW_SCRAPE = dg.AssetKey(["reddit", "raw_scrape"])
SUBMISSIONS = dg.AssetKey(["reddit", "submissions"])
COMMENTS = dg.AssetKey(["reddit", "comments"])
R2_ARCHIVE = dg.AssetKey(["reddit", "r2_archive"])

# The seed's max_retries=2, with exponential backoff (2 s, then 4 s, each +/- jitter).
RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
REDDIT_POOL = "reddit_api"
OWNERS = ["team:data-engineering"]


def partitions_of(context: dg.AssetExecutionContext) -> list[tuple[str, dt.date, str]]:
    """(key, date, subreddit) for every partition this run materializes."""
    return [(key, *split_partition_key(key)) for key in context.partition_keys]


def latest_materialization_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str) -> dict:
    """The metadata values of the partition's latest materialization; {} if it has none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[str(partition)]), limit=1
    ).records
    if not records:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
