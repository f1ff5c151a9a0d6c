"""Per-partition asset checks: the raw file, the table rows and the archive are what
their materializations say they are.

A run over a range of partitions (a batched backfill) checks every partition in it and
reports one result that fails if any partition fails, naming those partitions.
"""

import tempfile
from pathlib import Path

import dagster as dg

from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, RAW_SCRAPE, SUBMISSIONS
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.assets.records import latest_materialization_metadata
from reddit_assets.files.archive_zip import ArchiveError, verify_archive
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.paths import archive_object_key
from reddit_assets.files.raw_file import RawFileError, read_raw_file_hashed
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.objects import ObjectStoreError
from reddit_assets.storage.raw_files_resource import RawFilesResource

_MAX_LISTED = 20


def _result(problems: dict[str, str], checked: int, metadata: dict, **kwargs) -> dg.AssetCheckResult:
    """One result over the checked partitions; `problems` maps partition key -> what is wrong."""
    listed = [f"{key}: {problem}" for key, problem in list(problems.items())[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        listed.append(f"... and {len(problems) - _MAX_LISTED} more")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(listed) or None,
        metadata={
            "partitions_checked": checked,
            "partitions_failing": len(problems),
            **(metadata if checked == 1 else {}),
        },
        **kwargs,
    )


def build_checks(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=RAW_SCRAPE, partitions_def=partitions_def, name="raw_file_matches_counts")
    def raw_file_matches_counts(
        context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource
    ) -> dg.AssetCheckResult:
        """The raw file parses, holds as many items as it records, and has the SHA-256 its
        materialization recorded."""
        problems, metadata = {}, {}
        partitions = partitions_of(context.op_execution_context.partition_keys)
        for key, date, name in partitions:
            try:
                document, sha256 = read_raw_file_hashed(raw_files.raw_path(date, name))
            except RawFileError as exc:
                problems[key] = str(exc)
                continue
            if latest_materialization_metadata(context.instance, RAW_SCRAPE, key).get("sha256", sha256) != sha256:
                problems[key] = "the raw file changed since it was materialized"
            metadata = {
                "submissions": document["submission_count"],
                "comments": document["comment_count"],
                "sha256": sha256,
            }
        return _result(problems, len(partitions), metadata)

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec("rows_match_raw_file", asset=SUBMISSIONS, partitions_def=partitions_def),
            dg.AssetCheckSpec("rows_match_raw_file", asset=COMMENTS, partitions_def=partitions_def),
        ],
        name="rows_match_raw_file",
    )
    def rows_match_raw_file(
        context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource, database: DatabaseResource
    ):
        """The partition's rows equal the raw file's (distinct ids), with no duplicate ids."""
        store = database.store()
        problems = {SUBMISSIONS: {}, COMMENTS: {}}
        metadata = {SUBMISSIONS: {}, COMMENTS: {}}
        partitions = partitions_of(context.op_execution_context.partition_keys)
        for key, date, name in partitions:
            try:
                _, submissions, comments, _ = read_normalized(raw_files.raw_path(date, name))
            except RawFileError as exc:
                for asset_key in (SUBMISSIONS, COMMENTS):
                    problems[asset_key][key] = f"cannot compare: {exc}"
                continue
            expected = [submissions.num_rows, comments.num_rows]
            found = store.partition_counts(date, name)
            duplicates = store.duplicate_ids(date, name)
            for asset_key, want, got in zip((SUBMISSIONS, COMMENTS), expected, found):
                if want != got or duplicates:
                    problems[asset_key][key] = (
                        f"{got} rows in the database, {want} in the raw file, {duplicates} duplicate ids"
                    )
                metadata[asset_key] = {"rows_in_database": got, "rows_in_raw_file": want, "duplicate_ids": duplicates}
        for asset_key in (SUBMISSIONS, COMMENTS):
            yield _result(
                problems[asset_key],
                len(partitions),
                metadata[asset_key],
                asset_key=asset_key,
                check_name="rows_match_raw_file",
            )

    @dg.asset_check(asset=R2_ARCHIVE, partitions_def=partitions_def, name="archive_matches_manifest")
    def archive_matches_manifest(
        context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource, archive_store: ArchiveStoreResource
    ) -> dg.AssetCheckResult:
        """The stored archive has the SHA-256 its materialization recorded, and every member
        matches the manifest inside it."""
        store = archive_store.store()
        problems, metadata = {}, {}
        partitions = partitions_of(context.op_execution_context.partition_keys)
        for key, date, name in partitions:
            recorded = latest_materialization_metadata(context.instance, R2_ARCHIVE, key)
            with tempfile.TemporaryDirectory(prefix="reddit-assets-check-") as tmp:
                try:
                    if recorded.get("uploaded", True):
                        zip_path = Path(tmp) / "archive.zip"
                        store.download(archive_object_key(date, name), zip_path)
                    else:
                        zip_path = raw_files.archive_path(date, name)
                    sha256 = sha256_file(zip_path)
                except (ObjectStoreError, ArchiveError, OSError) as exc:
                    problems[key] = f"archive unreadable: {exc}"
                    continue
                found = verify_archive(zip_path)
            if recorded.get("sha256") not in (None, sha256):
                found.append(f"SHA-256 {sha256} differs from the materialization's {recorded['sha256']}")
            if found:
                problems[key] = "; ".join(found)
            metadata = {"sha256": sha256}
        return _result(problems, len(partitions), metadata)

    return [raw_file_matches_counts, rows_match_raw_file, archive_matches_manifest]
