"""Reading a partition's second-pass file, restoring it from its archive when it is gone.

The second pass's table and archive read it only through here: neither calls Reddit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa

from reddit_assets.assets.raw_source import ensure_file
from reddit_assets.files.paths import local_second_pass_archive_path, second_pass_file_path, second_pass_object_key
from reddit_assets.files.raw_file import RawFileError
from reddit_assets.files.second_pass_file import read_second_pass_file
from reddit_assets.files.second_pass_rows import second_pass_tables
from reddit_assets.storage.raw_files_resource import RawFilesResource

_LISTS = ("submissions", "comments", "missing")


@dataclass(frozen=True)
class SecondPassSource:
    """A partition's second-pass file as rows (one per item asked, missing ones included)."""

    header: dict  # the document's own fields (subreddit, date, fetched_at, ...), without its lists
    submissions: pa.Table
    comments: pa.Table
    missing: list[str]
    path: Path
    sha256: str
    restored_from: str | None


def load_second_pass(raw_files: RawFilesResource, archive_store, date: dt.date, name: str) -> SecondPassSource:
    """The partition's second-pass file as rows; restored from its archive first if it is gone."""
    path = second_pass_file_path(raw_files.data_dir, date, name)
    restored_from = ensure_file(
        path,
        local_second_pass_archive_path(raw_files.data_dir, date, name),
        archive_store,
        second_pass_object_key(date, name),
        f"{date}|{name}",
        "materialize reddit/second_pass for it",
        what="second-pass file",
    )
    try:
        document, sha256 = read_second_pass_file(path)
    except RawFileError as exc:
        raise dg.Failure(f"partition {date}|{name}: {exc}", allow_retries=False) from None
    submissions, comments = second_pass_tables(document)
    header = {k: v for k, v in document.items() if k not in _LISTS}
    return SecondPassSource(header, submissions, comments, document["missing"], path, sha256, restored_from)
