"""Reading a partition's raw file, restoring it from its archive when it is gone.

Both the database and the archive branch read raw files only through here: neither
ever calls Reddit.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa

from reddit_assets.files.archive_zip import ArchiveError, extract_raw
from reddit_assets.files.normalize import normalize
from reddit_assets.files.paths import archive_object_key
from reddit_assets.files.raw_file import RawFileError, read_raw_file_hashed
from reddit_assets.storage.raw_files_resource import RawFilesResource


def _extract(zip_path: Path, raw_path: Path, source: str) -> str:
    try:
        extract_raw(zip_path, raw_path)
    except ArchiveError as exc:  # name the archive where it is kept, not a temporary copy
        raise ArchiveError(source, exc.problem) from None
    return source


def _restore(raw_path: Path, local_zip: Path, store, key: str) -> str | None:
    """Put the raw file back from the local archive or the archive store; where from, or None."""
    if local_zip.exists():
        return _extract(local_zip, raw_path, str(local_zip))
    if not store.exists(key):
        return None
    with tempfile.TemporaryDirectory(prefix="reddit-assets-restore-") as tmp:
        zip_path = Path(tmp) / "archive.zip"
        store.download(key, zip_path)
        return _extract(zip_path, raw_path, store.url_for(key))


@dataclass(frozen=True)
class RawSource:
    """A partition's raw file as normalized rows. The parsed document is not kept: it is
    the biggest thing in memory (about twice the file), and the rows are all we load."""

    header: dict  # the document's own fields (subreddit, date, scraped_at, ...), without its lists
    submissions: pa.Table
    comments: pa.Table
    path: Path
    sha256: str
    size: int  # bytes of the raw file read
    restored_from: str | None


def read_normalized(raw_path: Path) -> tuple[dict, pa.Table, pa.Table, str]:
    """(header, submissions, comments, SHA-256) of one raw file; RawFileError if it is bad."""
    document, sha256 = read_raw_file_hashed(raw_path)
    submissions, comments = normalize(document, consume=True)
    return document, submissions, comments, sha256  # what is left of it: the header


def load_raw_partition(raw_files: RawFilesResource, archive_store, date: dt.date, name: str) -> RawSource:
    """The partition's raw file, normalized; restored from its archive first if it is gone."""
    raw_path = raw_files.raw_path(date, name)
    restored_from = None
    if not raw_path.exists():
        store = archive_store.store()
        key = archive_object_key(date, name)
        try:
            restored_from = _restore(raw_path, raw_files.archive_path(date, name), store, key)
        except ArchiveError as exc:  # a damaged archive stays damaged: no retry
            raise dg.Failure(
                f"partition {date}|{name}: no raw file at {raw_path}, and {exc}", allow_retries=False
            ) from None
        if restored_from is None:
            raise dg.Failure(
                f"partition {date}|{name}: no raw file at {raw_path} and no archive "
                f"{key} in {store.describe()} or at {raw_files.archive_path(date, name)}; "
                "materialize reddit/raw_scrape for it (only possible for today) or import the file",
                allow_retries=False,
            )
    try:
        header, submissions, comments, sha256 = read_normalized(raw_path)
    except RawFileError as exc:
        raise dg.Failure(f"partition {date}|{name}: {exc}", allow_retries=False) from None
    return RawSource(header, submissions, comments, raw_path, sha256, raw_path.stat().st_size, restored_from)
