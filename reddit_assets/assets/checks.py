"""Per-partition asset checks: the raw file, the table rows and the archive are what
their materializations say they are.

Each check records one result per partition it examined (`partition_check_evaluations`),
in a run over a range of partitions (a batched backfill) as in a one-partition run.
The row check does not read the raw files again: the load recorded the raw file's row
counts and size, and the check compares them with the rows it counts in the database.
"""

import tempfile
from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from reddit_assets.assets.declarations import (
    COMMENTS,
    R2_ARCHIVE,
    RAW_SCRAPE,
    SUBMISSIONS,
)
from reddit_assets.assets.partition_results import (
    Materialization,
    PartitionCheck,
    check_evaluation,
    latest_materializations,
    partition_check_evaluations,
)
from reddit_assets.assets.records import BATCH_SIZE, report_materializations
from reddit_assets.files.archive_zip import ArchiveError, verify_archive
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.paths import archive_object_key
from reddit_assets.files.raw_file import RawFileError, read_raw_file_hashed
from reddit_assets.partitions import partitions_of
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.objects import ObjectStoreError
from reddit_assets.storage.raw_files_resource import RawFilesResource
from reddit_assets.storage.tables import PartitionCounts

RAW_FILE_CHECK = dg.AssetCheckKey(RAW_SCRAPE, "raw_file_matches_counts")
ROW_CHECKS = {
    SUBMISSIONS: dg.AssetCheckKey(SUBMISSIONS, "rows_match_raw_file"),
    COMMENTS: dg.AssetCheckKey(COMMENTS, "rows_match_raw_file"),
}
ARCHIVE_CHECK = dg.AssetCheckKey(R2_ARCHIVE, "archive_matches_manifest")


def _examined(context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey):
    """The run's partitions as (key, date, subreddit), and their latest materializations of `asset_key`."""
    partitions = partitions_of(context.op_execution_context.partition_keys)
    found = latest_materializations(context.instance, asset_key, [k for k, _, _ in partitions])
    return partitions, found


def rows_check(
    key: str,
    column: str,
    raw_path: Path,
    loaded: Materialization | None,
    counts: PartitionCounts,
) -> PartitionCheck:
    """The partition's rows in one table against what its load recorded from the raw file."""
    found = getattr(counts, column)
    metadata = {"rows_in_database": found}
    if loaded is None or "rows" not in loaded.metadata:
        return PartitionCheck(key, False, "no load of this partition is recorded", metadata)
    expected = loaded.metadata["rows"]
    metadata["rows_in_raw_file"] = expected
    problems = []
    # No id can repeat within a table (its unique key); a comment and a submission may share an
    # id (Reddit numbers t1 and t3 things apart), so ids are not compared across the tables.
    if found != expected:
        problems.append(f"{found} rows in the database, {expected} in the raw file")
    try:
        size = raw_path.stat().st_size
    except OSError as exc:
        problems.append(f"cannot compare: the raw file is gone ({exc.strerror}: {raw_path})")
    else:
        if loaded.metadata.get("raw_bytes", size) != size:
            problems.append(
                f"the raw file changed since it was loaded ({size} bytes, {loaded.metadata['raw_bytes']} loaded)"
            )
    return PartitionCheck(key, not problems, "; ".join(problems) or None, metadata)


def record_import_checks(instance: dg.DagsterInstance, imported: Mapping[str, tuple[int, int, str]]) -> None:
    """raw_file_matches_counts for imported partitions, {partition: (submissions, comments,
    sha256)}: the import parsed, counted and hashed each file as it placed it, the check's own
    evidence, so an imported partition has the check a scraped one gets in its run. Recorded as
    runless evaluations aimed at the import's materializations, in batches."""
    keys = list(imported)
    found: dict[str, Materialization] = {}
    for start in range(0, len(keys), BATCH_SIZE):  # an IN list per query short of SQLite's limit
        found.update(latest_materializations(instance, RAW_SCRAPE, keys[start : start + BATCH_SIZE]))
    evaluations = []
    for key, (submissions, comments, sha256) in imported.items():
        target = found.get(key)
        recorded = target.metadata.get("sha256") if target else None
        passed = recorded == sha256
        result = PartitionCheck(
            key,
            passed,
            "checked by `reddit-assets import` as it placed the file"
            if passed
            else "the import's materialization records another SHA-256",
            {"submissions": submissions, "comments": comments, "sha256": sha256},
        )
        evaluations.append(check_evaluation(RAW_FILE_CHECK, result, target))
    report_materializations(instance, evaluations)


def build_checks(
    partitions_def: dg.PartitionsDefinition,
) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=RAW_SCRAPE, partitions_def=partitions_def, name="raw_file_matches_counts")
    def raw_file_matches_counts(context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource):
        """The raw file parses, holds as many items as it records, and has the SHA-256 its
        materialization recorded."""
        partitions, scraped = _examined(context, RAW_SCRAPE)
        results = []
        for key, date, name in partitions:
            try:
                document, sha256 = read_raw_file_hashed(raw_files.raw_path(date, name))
            except RawFileError as exc:
                results.append(PartitionCheck(key, False, str(exc)))
                continue
            recorded = scraped[key].metadata.get("sha256", sha256) if key in scraped else sha256
            changed = recorded != sha256
            results.append(
                PartitionCheck(
                    key,
                    not changed,
                    "the raw file changed since it was materialized" if changed else None,
                    {
                        "submissions": document["submission_count"],
                        "comments": document["comment_count"],
                        "sha256": sha256,
                    },
                )
            )
        yield from partition_check_evaluations(context, RAW_FILE_CHECK, results, scraped)

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec("rows_match_raw_file", asset=SUBMISSIONS, partitions_def=partitions_def),
            dg.AssetCheckSpec("rows_match_raw_file", asset=COMMENTS, partitions_def=partitions_def),
        ],
        name="rows_match_raw_file",
    )
    def rows_match_raw_file(
        context: dg.AssetCheckExecutionContext,
        raw_files: RawFilesResource,
        database: DatabaseResource,
    ):
        """The partition's rows equal what its load read from the raw file (distinct ids), with
        no duplicate ids, and the raw file is still the one loaded (same size)."""
        partitions = partitions_of(context.op_execution_context.partition_keys)
        counts = database.store().partitions_counts([(date, name) for _, date, name in partitions])
        for asset_key, column in ((SUBMISSIONS, "submissions"), (COMMENTS, "comments")):
            _, loaded = _examined(context, asset_key)
            results = [
                rows_check(
                    key,
                    column,
                    raw_files.raw_path(date, name),
                    loaded.get(key),
                    counts[(date, name)],
                )
                for key, date, name in partitions
            ]
            yield from partition_check_evaluations(context, ROW_CHECKS[asset_key], results, loaded)

    @dg.asset_check(asset=R2_ARCHIVE, partitions_def=partitions_def, name="archive_matches_manifest")
    def archive_matches_manifest(
        context: dg.AssetCheckExecutionContext,
        raw_files: RawFilesResource,
        archive_store: ArchiveStoreResource,
    ):
        """The stored archive has the SHA-256 its materialization recorded, and every member
        matches the manifest inside it."""
        store = archive_store.store()
        partitions, archived = _examined(context, R2_ARCHIVE)
        results = []
        for key, date, name in partitions:
            recorded = archived[key].metadata if key in archived else {}
            with tempfile.TemporaryDirectory(prefix="reddit-assets-check-") as tmp:
                try:
                    if recorded.get("uploaded", True):
                        zip_path = Path(tmp) / "archive.zip"
                        store.download(archive_object_key(date, name), zip_path)
                    else:
                        zip_path = raw_files.archive_path(date, name)
                    sha256 = sha256_file(zip_path)
                except (ObjectStoreError, ArchiveError, OSError) as exc:
                    results.append(PartitionCheck(key, False, f"archive unreadable: {exc}"))
                    continue
                found = verify_archive(zip_path)
            if recorded.get("sha256") not in (None, sha256):
                found.append(f"SHA-256 {sha256} differs from the materialization's {recorded['sha256']}")
            results.append(PartitionCheck(key, not found, "; ".join(found) or None, {"sha256": sha256}))
        yield from partition_check_evaluations(context, ARCHIVE_CHECK, results, archived)

    return [raw_file_matches_counts, rows_match_raw_file, archive_matches_manifest]
