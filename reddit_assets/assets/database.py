"""reddit/submissions + reddit/comments: the raw file loaded into database tables."""

import dagster as dg

from reddit_assets.assets.declarations import COMMENTS, FOLLOW_RAW_SCRAPE, OWNERS, RAW_SCRAPE, RETRY_POLICY, SUBMISSIONS
from reddit_assets.assets.raw_source import load_raw_partition
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource


def build_database_tables(partitions_def: dg.PartitionsDefinition, db_kind: str) -> dg.AssetsDefinition:
    spec = dict(
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
        for key, date, name in partitions_of(context.partition_keys):
            raw = load_raw_partition(raw_files, archive_store, date, name)
            if raw.restored_from:
                context.log.info(f"{key}: raw file restored from archive {raw.restored_from}")
            written = store.replace_partition(date, name, raw.submissions, raw.comments)
            common = {"raw_sha256": raw.sha256, "restored_from_archive": bool(raw.restored_from)}
            context.add_asset_metadata(
                {"rows": written["reddit_submissions"], **common}, asset_key=SUBMISSIONS, partition_key=key
            )
            context.add_asset_metadata(
                {"rows": written["reddit_comments"], **common}, asset_key=COMMENTS, partition_key=key
            )
        yield dg.MaterializeResult(asset_key=SUBMISSIONS)
        yield dg.MaterializeResult(asset_key=COMMENTS)

    return database_tables
