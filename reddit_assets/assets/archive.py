"""reddit/r2_archive: the day's files zipped and uploaded to R2 (or kept locally)."""

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import dagster as dg

from reddit_assets.assets.declarations import FOLLOW_RAW_SCRAPE, OWNERS, R2_ARCHIVE, RAW_SCRAPE, RETRY_POLICY
from reddit_assets.assets.partition_results import per_partition
from reddit_assets.assets.raw_source import load_raw_partition
from reddit_assets.config import Flags
from reddit_assets.files.archive_zip import build_archive
from reddit_assets.files.paths import archive_object_key
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.objects import ObjectStore, ObjectStoreRefused
from reddit_assets.storage.raw_files_resource import RawFilesResource

# A run over many partitions keeps a few archives in flight: each one's upload and
# verifying HEAD wait on the store (two round trips to R2), while the next is built. The
# budget of raw bytes keeps a backfill of large days to about one large day's memory.
IN_FLIGHT_ARCHIVES = 4
IN_FLIGHT_RAW_BYTES = 64 << 20


def _is_stored_object(store: ObjectStore, object_key: str, path: Path) -> bool:
    """Whether `path` is the object itself (a local folder store whose folder is the archives')."""
    url = urlsplit(store.url_for(object_key))
    return url.scheme == "file" and os.path.exists(url.path) and os.path.samefile(url2pathname(url.path), path)


def run_zip_path(final: Path, run_id: str) -> Path:
    """This run's own build of the zip at `final`: runs of one partition at once never upload,
    move or delete each other's file."""
    return final.with_name(f".{final.name}.{run_id}.zip")


def store_archive(store: ObjectStore, object_key: str, built: Path, final: Path, sha256: str, upload: bool) -> dict:
    """Upload the zip this run built and verify it, then delete it; when `upload` is off, or
    the upload fails, the zip is kept at `final` (where a later run or a person looks for it).
    The metadata that says where the archive is."""
    if not upload:
        os.replace(built, final)
        return {"uploaded": False, "local_path": dg.MetadataValue.path(str(final))}
    try:
        stored = store.put_verified(object_key, built, sha256)
    except ObjectStoreRefused as exc:  # wrong credentials or bucket: fail now, keep the zip
        os.replace(built, final)
        raise dg.Failure(
            f"{exc} (not retried: check the R2_* settings; the zip is kept at {final})",
            allow_retries=False,
        ) from None
    except BaseException:
        os.replace(built, final)
        raise
    if not stored.stored_at_source:  # a local store whose folder holds the zip keeps it as the object
        built.unlink()  # safe: the stored object's size and SHA-256 were checked
    if final.exists() and not _is_stored_object(store, object_key, final):
        final.unlink()  # kept by an earlier run whose upload failed: now stored and verified
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

        def archive(key: str, date: dt.date, name: str) -> dict:
            raw = load_raw_partition(raw_files, archive_store, date, name)
            final = raw_files.archive_path(date, name)
            zip_path = run_zip_path(final, context.run.run_id)
            info = build_archive(raw.path, raw.header, raw.submissions, raw.comments, zip_path)
            object_key = archive_object_key(date, name)
            return {
                "object_key": object_key,
                "bytes": info.size,
                "sha256": info.sha256,
                "submissions": raw.submissions.num_rows,
                "comments": raw.comments.num_rows,
                **store_archive(store, object_key, zip_path, final, info.sha256, flags.upload_to_r2_enabled),
            }

        def raw_bytes(partition: tuple[str, dt.date, str]) -> int:
            _, date, name = partition
            try:
                return raw_files.raw_path(date, name).stat().st_size
            except OSError:  # to be restored from its archive: size unknown, so it goes alone
                return IN_FLIGHT_RAW_BYTES

        yield from per_partition(
            context,
            R2_ARCHIVE,
            partitions_of(context.partition_keys),
            archive,
            threads=IN_FLIGHT_ARCHIVES,
            weight=raw_bytes,
            budget=IN_FLIGHT_RAW_BYTES,
        )

    return r2_archive
