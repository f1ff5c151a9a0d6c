"""Small Pushshift / Arctic Shift dumps for tests, compressed with the dumps' long zstd window."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import zstandard

WINDOW_LOG = 31  # 2 GiB, as the real dumps: over the 128 MiB a default decompressor accepts


def epoch(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC).timestamp())


def submission(item_id: str, subreddit: str, created: int, *, old: bool = False, retrieved: int | None = None) -> dict:
    """A submission line; `old`: the older schema (created_utc a string, retrieved_on)."""
    line = {
        "id": item_id,
        "subreddit": subreddit,
        "title": f"title {item_id}",
        "author": "someone",
        "selftext": "text \u00e9\U0001f600",
        "url": f"https://example.invalid/{item_id}",
        "permalink": f"/r/{subreddit}/comments/{item_id}/",
        "domain": f"self.{subreddit}",
        "score": 3,
        "num_comments": 2,
        "over_18": False,
        "is_self": True,
        "stickied": False,
        "created_utc": str(created) if old else created,
    }
    stamp = retrieved if retrieved is not None else created + 3600
    if old:
        line["retrieved_on"] = stamp
    else:
        line["retrieved_utc"] = stamp
        line["_meta"] = {"retrieved_2nd_on": stamp + 86400 * 30, "was_deleted_later": False}
    return line


def comment(
    item_id: str, subreddit: str, created: int, link: str, parent: str | None = None, *, old: bool = False, **extra
) -> dict:
    line = {
        "id": item_id,
        "subreddit": subreddit,
        "link_id": f"t3_{link}",
        "parent_id": parent or f"t3_{link}",
        "body": f"body {item_id}",
        "author": "someone",
        "score": 1,
        "stickied": False,
        "edited": False,
        "created_utc": str(created) if old else created,
        ("retrieved_on" if old else "retrieved_utc"): created + 60,
    }
    return line | extra


def write_dump(path: Path, lines: list, *, cut: int | None = None) -> bytes:
    """Write NDJSON lines (dicts, or bytes written as they are) as one long-window zstd frame;
    `cut`: keep only the first `cut` compressed bytes (a truncated download). The frame's bytes."""
    data = b"".join((raw if isinstance(raw, bytes) else json.dumps(raw).encode()) + b"\n" for raw in lines)
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=WINDOW_LOG)
    frame = zstandard.ZstdCompressor(compression_params=params).compressobj()
    compressed = frame.compress(data) + frame.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compressed[:cut] if cut is not None else compressed)
    return compressed
