"""Per-partition checks of the second pass: it accounts for every item of the raw file, and
its table rows are the file's. As in checks.py, one result per partition examined, in a range
run as in a one-partition run."""

import dagster as dg

from reddit_assets.assets.declarations import SECOND_PASS, SECOND_PASS_TABLE
from reddit_assets.assets.partition_results import PartitionCheck, latest_materializations, partition_check_evaluations
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.files.paths import second_pass_file_path
from reddit_assets.files.raw_file import RawFileError
from reddit_assets.files.second_pass_file import read_second_pass_file
from reddit_assets.partitions import partitions_of
from reddit_assets.reddit.second_pass import fullnames
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource

_SHOWN = 5
COVERAGE_CHECK = dg.AssetCheckKey(SECOND_PASS, "covers_raw_file")
ROWS_CHECK = dg.AssetCheckKey(SECOND_PASS_TABLE, "rows_match_second_pass_file")


def returned_fullnames(document: dict) -> list[str]:
    """Fullnames of the items a second-pass document holds (those Reddit returned)."""
    return fullnames((i["id"] for i in document["submissions"]), (i["id"] for i in document["comments"]))


def coverage_problem(asked: list[str], document: dict) -> str | None:
    """What is wrong with how the second-pass document accounts for the asked fullnames; None if nothing."""
    returned = returned_fullnames(document)
    accounted = set(returned) | set(document["missing"])
    unaccounted = [name for name in asked if name not in accounted]
    extra = sorted(accounted - set(asked))
    problems = []
    if unaccounted:
        problems.append(
            f"{len(unaccounted)} items neither returned nor listed missing ({', '.join(unaccounted[:_SHOWN])})"
        )
    if extra:
        problems.append(f"{len(extra)} items not in the raw file ({', '.join(extra[:_SHOWN])})")
    both = set(returned) & set(document["missing"])
    if both:
        problems.append(f"{len(both)} items both returned and listed missing")
    return "; ".join(problems) or None


def build_second_pass_checks(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(asset=SECOND_PASS, partitions_def=partitions_def, name="covers_raw_file")
    def covers_raw_file(context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource):
        """Every submission and comment of the raw file is in the second pass, returned or listed
        as missing, and nothing else is."""
        partitions = partitions_of(context.op_execution_context.partition_keys)
        results = []
        for key, date, name in partitions:
            try:
                _, submissions, comments, _ = read_normalized(raw_files.raw_path(date, name))
                document, _ = read_second_pass_file(second_pass_file_path(raw_files.data_dir, date, name))
            except RawFileError as exc:
                results.append(PartitionCheck(key, False, f"cannot compare: {exc}"))
                continue
            asked = fullnames(submissions.column("id").to_pylist(), comments.column("id").to_pylist())
            problem = coverage_problem(asked, document)
            metadata = {"items_in_raw_file": len(asked), "items_missing": len(document["missing"])}
            results.append(PartitionCheck(key, problem is None, problem, metadata))
        fetched = latest_materializations(context.instance, SECOND_PASS, [key for key, _, _ in partitions])
        yield from partition_check_evaluations(context, COVERAGE_CHECK, results, fetched)

    @dg.asset_check(asset=SECOND_PASS_TABLE, partitions_def=partitions_def, name="rows_match_second_pass_file")
    def rows_match_second_pass_file(
        context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource, database: DatabaseResource
    ):
        """The partition has one row in `reddit_second_pass` per item of its second-pass file
        (returned or missing)."""
        store = database.store()
        partitions = partitions_of(context.op_execution_context.partition_keys)
        results = []
        for key, date, name in partitions:
            try:
                document, _ = read_second_pass_file(second_pass_file_path(raw_files.data_dir, date, name))
            except RawFileError as exc:
                results.append(PartitionCheck(key, False, f"cannot compare: {exc}"))
                continue
            want = len(set(returned_fullnames(document)) | set(document["missing"]))
            got = store.second_pass_count(date, name)
            problem = None if want == got else f"{got} rows in the database, {want} items in the second-pass file"
            results.append(
                PartitionCheck(key, problem is None, problem, {"rows_in_database": got, "items_in_file": want})
            )
        loaded = latest_materializations(context.instance, SECOND_PASS_TABLE, [key for key, _, _ in partitions])
        yield from partition_check_evaluations(context, ROWS_CHECK, results, loaded)

    return [covers_raw_file, rows_match_second_pass_file]
