"""What the Dagster instance recorded about a partition: its latest materialization's metadata."""

from __future__ import annotations

import dagster as dg


def latest_materialization_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str) -> dict:
    """The metadata values of the partition's latest materialization; {} if it has none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[str(partition)]), limit=1
    ).records
    if not records:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
