"""The raw scrape file: written atomically, read back with its structure checked.

A raw file holds every field Reddit returned for each submission and comment, the
scrape's settings, `scraped_at` and the number of API requests it took.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import os
from pathlib import Path

from reddit_assets.files.atomic import BadFileError, WrittenFile, atomic_file

RAW_FORMAT = "reddit_assets/raw-scrape@1"
MAX_BYTES_VAR = "REDDIT_ASSETS_MAX_RAW_BYTES"
# Parsing takes about 6x the file in memory: 512 MiB is ~3 GB at the peak. A real day of a big
# subreddit with every comment is tens of MB; set the variable higher for a bigger machine.
DEFAULT_MAX_BYTES = 512 << 20
_REQUIRED = ("subreddit", "date", "settings", "scraped_at", "api_requests", "submissions", "comments")


class RawFileError(BadFileError):
    """A raw file that is missing, truncated, or not what its header says."""

    kind = "raw file"


class _HashingWriter:
    """File wrapper that hashes and counts what passes through it."""

    def __init__(self, handle):
        self._handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> None:
        # A lone surrogate (Reddit's JSON can carry one as \udXXX) has no UTF-8 form: it is written
        # back as the same JSON escape, so the file parses to exactly what Reddit sent.
        data = text.encode("utf-8", _JSON_ESCAPES)
        self.sha.update(data)
        self.size += len(data)
        self._handle.write(data)


def write_raw_file(path: Path, document: dict, *, opener=atomic_file) -> WrittenFile:
    """Write one raw scrape document atomically; adds the format tag and the counts.

    `opener`: how the file is written; `atomic.staged_file` for a private staging folder."""
    body = {
        "format": RAW_FORMAT,
        **document,
        "submission_count": len(document["submissions"]),
        "comment_count": len(document["comments"]),
    }
    return write_json_document(path, body, opener=opener)


def write_json_document(path: Path, body: dict, *, opener=atomic_file) -> WrittenFile:
    """Write `body` as compact JSON atomically (its `submissions` and `comments` lists item by item)."""
    with opener(path) as handle:
        sink = _HashingWriter(handle)
        _dump_compact(body, sink)
    return WrittenFile(path=path, size=sink.size, sha256=sink.sha.hexdigest())


_ITEM_LISTS = ("submissions", "comments")
_ITEM_BATCH = 100
# ensure_ascii=False keeps unicode readable and the file smaller.
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _dump_compact(body: dict, sink) -> None:
    """The bytes `json.dump(body, sink, ensure_ascii=False, separators=(",", ":"))` writes, 6x faster.

    json.dump encodes through a pure-Python generator, chunk by tiny chunk; here each
    submission and comment goes through the C encoder and is written in batches, so the
    document is still never held as one string.
    """
    sink.write("{")
    for index, (key, value) in enumerate(body.items()):
        sink.write(("," if index else "") + _dumps(key) + ":")
        if key in _ITEM_LISTS and isinstance(value, list):
            sink.write("[")
            for start in range(0, len(value), _ITEM_BATCH):
                sink.write(("," if start else "") + ",".join(map(_dumps, value[start : start + _ITEM_BATCH])))
            sink.write("]")
        else:
            sink.write(_dumps(value))
    sink.write("}")


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
            raise RawFileError(path, f"'{key}' holds {len(items)} items but the file records {document[count_key]}")
    return document


def max_raw_bytes() -> int:
    """The largest raw or import file read: ${MAX_BYTES_VAR} (bytes), default 512 MiB."""
    value = os.environ.get(MAX_BYTES_VAR, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_BYTES


def size_problem(size: int) -> str | None:
    """Why a file of `size` bytes is not read, or None."""
    limit = max_raw_bytes()
    if size > limit:
        return f"is {size} bytes, over the {limit}-byte maximum (${MAX_BYTES_VAR}); not read"
    return None


_READ_BLOCK = 1 << 20
_JSON_ESCAPES = "reddit_assets.json_escapes"


def _json_escapes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: non-ASCII characters as JSON `\\uXXXX` escapes (surrogate pairs above U+FFFF)."""
    if not isinstance(error, UnicodeEncodeError):  # registered for encoding only
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error(_JSON_ESCAPES, _json_escapes)


def ascii_json_text(handle, sha) -> str:
    """The file's JSON text with every non-ASCII character escaped; hashes the bytes on the way.

    `json.loads(bytes)` holds the bytes, their decoded str and the parsed objects at once, and
    that str takes 4 bytes a character as soon as one emoji occurs: 7x the file at its peak.
    Escaped, the text is ASCII (1 byte a character) and read block by block. Outside strings
    JSON is ASCII, so only string contents are escaped, and they parse back to the same values.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogatepass")  # what json.loads(bytes) accepts
    parts = []
    for block in iter(lambda: handle.read(_READ_BLOCK), b""):
        sha.update(block)
        text = decoder.decode(block)
        parts.append(text if text.isascii() else text.encode("ascii", _JSON_ESCAPES).decode("ascii"))
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def read_raw_file_hashed(path: Path) -> tuple[dict, str]:
    """Parse and check a raw file in one read; (document, SHA-256 of its bytes).

    RawFileError names the file and what is wrong.
    """
    document, sha256 = parse_json_file_hashed(path)
    return validate_raw_document(document, path), sha256


def parse_json_file_hashed(path: Path) -> tuple[object, str]:
    """Parse a JSON file in one read, unchecked; (value, SHA-256 of its bytes). RawFileError if
    it is missing or not JSON."""
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            problem = size_problem(os.fstat(handle.fileno()).st_size)
            if problem:
                raise RawFileError(path, problem)
            text = ascii_json_text(handle, sha)
        document = json.loads(text)
    except FileNotFoundError:
        raise RawFileError(path, "does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RawFileError(path, f"truncated or corrupted, not valid JSON ({exc})") from None
    except RecursionError:
        raise RawFileError(path, "nested too deeply to be a raw file") from None
    except OSError as exc:
        raise RawFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return document, sha.hexdigest()


def read_raw_file(path: Path) -> dict:
    """Parse and check a raw file; RawFileError names the file and what is wrong."""
    return read_raw_file_hashed(path)[0]
