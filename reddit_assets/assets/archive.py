"""reddit/r2_archive: the day's files zipped and uploaded to R2 (or kept locally)."""

from pathlib import Path

import dagster as dg

from reddit_assets.assets.declarations import FOLLOW_RAW_SCRAPE, OWNERS, R2_ARCHIVE, RAW_SCRAPE, RETRY_POLICY
from reddit_assets.assets.partition_results import (
    attach_partition_metadata,
    mark_unfinished_partitions,
    materialize_finished_partitions,
)
from reddit_assets.assets.raw_source import load_raw_partition
from reddit_assets.config import Flags
from reddit_assets.files.archive_zip import build_archive
from reddit_assets.files.paths import archive_object_key
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.objects import ObjectStore, ObjectStoreRefused
from reddit_assets.storage.raw_files_resource import RawFilesResource


def store_archive(store: ObjectStore, object_key: str, zip_path: Path, sha256: str, upload: bool) -> dict:
    """Upload the zip and verify it, then delete the local copy (or keep it when `upload` is off);
    the metadata that says where the archive is."""
    if not upload:
        return {"uploaded": False, "local_path": dg.MetadataValue.path(str(zip_path))}
    try:
        stored = store.put_verified(object_key, zip_path, sha256)
    except ObjectStoreRefused as exc:  # wrong credentials or bucket: fail now, keep the zip
        raise dg.Failure(
            f"{exc} (not retried: check the R2_* settings; the zip is kept at {zip_path})",
            allow_retries=False,
        ) from None
    if not stored.stored_at_source:  # a local store whose folder holds the zip keeps it as the object
        zip_path.unlink()  # safe: the stored object's size and SHA-256 were checked
    return {"uploaded": True, "url": dg.MetadataValue.url(store.url_for(object_key)), "store": store.describe()}


def build_r2_archive(partitions_def: dg.PartitionsDefinition, flags: Flags, store_kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=R2_ARCHIVE,
        deps=[RAW_SCRAPE],
        partitions_def=partitions_def,
        group_name="archive",
        kinds={store_kind, "zip", "parquet"},
        owners=OWNERS,
        retry_policy=RETRY_POLICY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=FOLLOW_RAW_SCRAPE if flags.create_archives_enabled else None,
    )
    def r2_archive(context: dg.AssetExecutionContext, raw_files: RawFilesResource, archive_store: ArchiveStoreResource):
        """Zip of the raw file, Parquet copies of its rows and a manifest of counts and
        SHA-256 sums, at `daily_scrapes/<subreddit>/<date>/<subreddit>_<date>.zip`.
        The local zip is deleted only after the upload is verified."""
        store = archive_store.store()
        done: dict[str, dict] = {}
        partitions = partitions_of(context.partition_keys)
        try:
            for key, date, name in partitions:
                raw = load_raw_partition(raw_files, archive_store, date, name)
                submissions, comments = raw.submissions, raw.comments
                zip_path = raw_files.archive_path(date, name)
                info = build_archive(raw.path, raw.header, submissions, comments, zip_path)
                object_key = archive_object_key(date, name)
                done[key] = {
                    "object_key": object_key,
                    "bytes": info.size,
                    "sha256": info.sha256,
                    "submissions": submissions.num_rows,
                    "comments": comments.num_rows,
                    **store_archive(store, object_key, zip_path, info.sha256, flags.upload_to_r2_enabled),
                }
        except Exception:  # a failure halfway keeps (and reports) the archives finished before it
            yield from materialize_finished_partitions(context, R2_ARCHIVE, done)
            mark_unfinished_partitions(context, (R2_ARCHIVE,), [key for key, _, _ in partitions if key not in done])
            raise
        attach_partition_metadata(context, R2_ARCHIVE, done)
        yield dg.MaterializeResult()

    return r2_archive
