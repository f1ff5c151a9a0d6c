"""reddit/submissions + reddit/comments: the raw file loaded into database tables."""

from typing import Any

import dagster as dg

from reddit_assets.assets.declarations import COMMENTS, FOLLOW_RAW_SCRAPE, OWNERS, RAW_SCRAPE, RETRY_POLICY, SUBMISSIONS
from reddit_assets.assets.partition_results import (
    attach_partition_metadata,
    mark_unfinished_partitions,
    materialize_finished_partitions,
)
from reddit_assets.assets.raw_source import load_raw_partition
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource


def build_database_tables(partitions_def: dg.PartitionsDefinition, db_kind: str) -> dg.AssetsDefinition:
    spec: dict[str, Any] = dict(
        deps=[RAW_SCRAPE],
        group_name="database",
        kinds={db_kind, "table"},
        owners=OWNERS,
        automation_condition=FOLLOW_RAW_SCRAPE,
    )

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                SUBMISSIONS,
                description="Submissions per scrape day: table `reddit_submissions`, view `reddit_submissions_latest`.",
                **spec,
            ),
            dg.AssetSpec(
                COMMENTS,
                description="Comments per scrape day: table `reddit_comments`, view `reddit_comments_latest`.",
                **spec,
            ),
        ],
        partitions_def=partitions_def,
        retry_policy=RETRY_POLICY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name="database_tables",
    )
    def database_tables(
        context: dg.AssetExecutionContext,
        raw_files: RawFilesResource,
        database: DatabaseResource,
        archive_store: ArchiveStoreResource,
    ):
        """Loads each partition's raw file into the tables, replacing that partition's rows
        in one transaction. Never calls Reddit; restores a missing raw file from its archive."""
        store = database.store()
        store.ensure_schema()
        # One transaction per partition: a partition's rows are replaced whole or not at all,
        # and a failure halfway keeps (and reports) the partitions finished before it.
        done: dict[dg.AssetKey, dict[str, dict]] = {SUBMISSIONS: {}, COMMENTS: {}}
        partitions = partitions_of(context.partition_keys)
        try:
            for key, date, name in partitions:
                raw = load_raw_partition(raw_files, archive_store, date, name)
                if raw.restored_from:
                    context.log.info(f"{key}: raw file restored from archive {raw.restored_from}")
                written = store.replace_partition(date, name, raw.submissions, raw.comments)
                # rows = what the raw file holds (written in full); raw_bytes lets the check
                # notice a changed raw file without reading it.
                common = {
                    "raw_sha256": raw.sha256,
                    "raw_bytes": raw.size,
                    "restored_from_archive": bool(raw.restored_from),
                }
                done[SUBMISSIONS][key] = {"rows": written["reddit_submissions"], **common}
                done[COMMENTS][key] = {"rows": written["reddit_comments"], **common}
        except Exception:
            for asset_key, metadata in done.items():
                yield from materialize_finished_partitions(context, asset_key, metadata)
            unfinished = [key for key, _, _ in partitions if key not in done[SUBMISSIONS]]
            mark_unfinished_partitions(context, (SUBMISSIONS, COMMENTS), unfinished)
            raise
        for asset_key, metadata in done.items():
            attach_partition_metadata(context, asset_key, metadata)
            yield dg.MaterializeResult(asset_key=asset_key)

    return database_tables
