"""The raw scrape file: written atomically, read back with its structure checked.

A raw file holds every field Reddit returned for each submission and comment, the
scrape's settings, `scraped_at` and the number of API requests it took.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

RAW_FORMAT = "reddit_assets/raw-scrape@1"
_REQUIRED = ("subreddit", "date", "settings", "scraped_at", "api_requests", "submissions", "comments")


class RawFileError(ValueError):
    """A raw file that is missing, truncated, or not what its header says."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"raw file {path}: {problem}")
        self.path = str(path)
        self.problem = problem


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    size: int
    sha256: str


class _HashingWriter:
    """File wrapper that hashes and counts what passes through it."""

    def __init__(self, handle):
        self._handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.sha.update(data)
        self.size += len(data)
        self._handle.write(data)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write) -> WrittenFile:
    """Call `write(text_sink)` into a temporary file, fsync it, and rename it into place.

    A crash at any point leaves either the old file or the new one, never a half file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            sink = _HashingWriter(handle)
            write(sink)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return WrittenFile(path=path, size=sink.size, sha256=sink.sha.hexdigest())


def write_raw_file(path: Path, document: dict) -> WrittenFile:
    """Write one raw scrape document atomically; adds the format tag and the counts."""
    body = {
        "format": RAW_FORMAT,
        **document,
        "submission_count": len(document["submissions"]),
        "comment_count": len(document["comments"]),
    }
    # ensure_ascii=False keeps unicode readable and the file smaller.
    return write_atomic(path, lambda sink: json.dump(body, sink, ensure_ascii=False, separators=(",", ":")))


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def validate_raw_document(document: object, path: str | Path) -> dict:
    """Check a parsed raw document's shape and counts; return it."""
    if not isinstance(document, dict):
        raise RawFileError(path, "top level is not a JSON object")
    if document.get("format") != RAW_FORMAT:
        raise RawFileError(path, f"format is {document.get('format')!r}, expected {RAW_FORMAT!r}")
    missing = [key for key in _REQUIRED if key not in document]
    if missing:
        raise RawFileError(path, f"missing fields: {', '.join(missing)}")
    for key, count_key in (("submissions", "submission_count"), ("comments", "comment_count")):
        items = document[key]
        if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
            raise RawFileError(path, f"'{key}' must be a list of objects with an 'id'")
        if count_key in document and document[count_key] != len(items):
            raise RawFileError(
                path, f"'{key}' holds {len(items)} items but the file records {document[count_key]}"
            )
    return document


def read_raw_file_hashed(path: Path) -> tuple[dict, str]:
    """Parse and check a raw file in one read; (document, SHA-256 of its bytes).

    RawFileError names the file and what is wrong.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise RawFileError(path, "does not exist") from None
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RawFileError(path, f"truncated or corrupted, not valid JSON ({exc})") from None
    return validate_raw_document(document, path), hashlib.sha256(data).hexdigest()


def read_raw_file(path: Path) -> dict:
    """Parse and check a raw file; RawFileError names the file and what is wrong."""
    return read_raw_file_hashed(path)[0]
