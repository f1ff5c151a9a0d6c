"""Per-partition checks of the second pass: it accounts for every item of the raw file, and
its table rows are the file's. Same style as checks.py: a range run checks every partition."""

import dagster as dg

from reddit_assets.assets.checks import _result
from reddit_assets.assets.declarations import SECOND_PASS, SECOND_PASS_TABLE
from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.files.paths import second_pass_file_path
from reddit_assets.files.raw_file import RawFileError
from reddit_assets.files.second_pass_file import read_second_pass_file
from reddit_assets.partitions import partitions_of
from reddit_assets.reddit.second_pass import fullnames
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource

_SHOWN = 5


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
    def covers_raw_file(context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource) -> dg.AssetCheckResult:
        """Every submission and comment of the raw file is in the second pass, returned or listed
        as missing, and nothing else is."""
        problems, metadata = {}, {}
        partitions = partitions_of(context.op_execution_context.partition_keys)
        for key, date, name in partitions:
            try:
                _, submissions, comments, _ = read_normalized(raw_files.raw_path(date, name))
                document, _ = read_second_pass_file(second_pass_file_path(raw_files.data_dir, date, name))
            except RawFileError as exc:
                problems[key] = f"cannot compare: {exc}"
                continue
            asked = fullnames(submissions.column("id").to_pylist(), comments.column("id").to_pylist())
            problem = coverage_problem(asked, document)
            if problem:
                problems[key] = problem
            metadata = {"items_in_raw_file": len(asked), "items_missing": len(document["missing"])}
        return _result(problems, len(partitions), metadata)

    @dg.asset_check(asset=SECOND_PASS_TABLE, partitions_def=partitions_def, name="rows_match_second_pass_file")
    def rows_match_second_pass_file(
        context: dg.AssetCheckExecutionContext, raw_files: RawFilesResource, database: DatabaseResource
    ) -> dg.AssetCheckResult:
        """The partition has one row in `reddit_second_pass` per item of its second-pass file
        (returned or missing)."""
        store = database.store()
        problems, metadata = {}, {}
        partitions = partitions_of(context.op_execution_context.partition_keys)
        for key, date, name in partitions:
            try:
                document, _ = read_second_pass_file(second_pass_file_path(raw_files.data_dir, date, name))
            except RawFileError as exc:
                problems[key] = f"cannot compare: {exc}"
                continue
            want = len(set(returned_fullnames(document)) | set(document["missing"]))
            got = store.second_pass_count(date, name)
            if want != got:
                problems[key] = f"{got} rows in the database, {want} items in the second-pass file"
            metadata = {"rows_in_database": got, "items_in_file": want}
        return _result(problems, len(partitions), metadata)

    return [covers_raw_file, rows_match_second_pass_file]
