"""The second-pass raw file: each item's state when fetched again, written atomically,
read back with its structure checked.

It holds every field Reddit returned for each submission and comment, `fetched_at`,
the fullnames Reddit no longer returns (`missing`), the first scrape it follows
(its `scraped_at` and SHA-256) and the number of API requests it took.
"""

from __future__ import annotations

import re
from pathlib import Path

from reddit_assets.files.atomic import WrittenFile
from reddit_assets.files.raw_file import RawFileError, parse_json_file_hashed, write_json_document

SECOND_PASS_FORMAT = "reddit_assets/second-pass@1"
_REQUIRED = ("subreddit", "date", "fetched_at", "first_scrape", "api_requests", "missing", "submissions", "comments")
_FULLNAME_RE = re.compile(r"t[13]_[a-z0-9]{1,16}", re.ASCII)
_COUNTS = (("submissions", "submission_count"), ("comments", "comment_count"), ("missing", "missing_count"))


def write_second_pass_file(path: Path, document: dict) -> WrittenFile:
    """Write one second-pass document atomically; adds the format tag and the counts."""
    body = {"format": SECOND_PASS_FORMAT, **document}
    body.update({count_key: len(document[key]) for key, count_key in _COUNTS})
    return write_json_document(path, body)


def validate_second_pass_document(document: object, path: str | Path) -> dict:
    """Check a parsed second-pass document's shape and counts; return it."""
    if not isinstance(document, dict):
        raise RawFileError(path, "top level is not a JSON object")
    if document.get("format") != SECOND_PASS_FORMAT:
        raise RawFileError(path, f"format is {document.get('format')!r}, expected {SECOND_PASS_FORMAT!r}")
    absent = [key for key in _REQUIRED if key not in document]
    if absent:
        raise RawFileError(path, f"missing fields: {', '.join(absent)}")
    for key in ("submissions", "comments"):
        items = document[key]
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            raise RawFileError(path, f"'{key}' must be a list of objects with an 'id'")
    gone = document["missing"]
    if not isinstance(gone, list) or not all(isinstance(n, str) and _FULLNAME_RE.fullmatch(n) for n in gone):
        raise RawFileError(path, "'missing' must be a list of submission (t3_) or comment (t1_) fullnames")
    for key, count_key in _COUNTS:
        if count_key in document and document[count_key] != len(document[key]):
            raise RawFileError(
                path, f"'{key}' holds {len(document[key])} items but the file records {document[count_key]}"
            )
    return document


def read_second_pass_file(path: Path) -> tuple[dict, str]:
    """Parse and check a second-pass file in one read; (document, SHA-256 of its bytes)."""
    document, sha256 = parse_json_file_hashed(path)
    return validate_second_pass_document(document, path), sha256
