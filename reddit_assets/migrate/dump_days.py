"""One day of one subreddit built from its spilled dump lines: merged (the newest retrieval of an
item wins), joined with an earlier dump import's file of that day, and written into the staging
folder. Pure file work with no Dagster, so days are built in worker processes (see dump_import).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reddit_assets.files.atomic import staged_file
from reddit_assets.files.raw_file import RAW_FORMAT, RawFileError, read_raw_file
from reddit_assets.migrate.dump_format import DUMP_FORMAT, retrieval_time
from reddit_assets.migrate.source_file import CONFLICT, IMPORTED, REPLACED

_LIST_OF = {"s": "submissions", "c": "comments"}


@dataclass(frozen=True)
class DayJob:
    """What building one day needs: picklable, sent to a worker."""

    day: dt.date
    name: str  # as the config spells it
    spilled: Path
    staged: Path
    target: Path
    sources: tuple[tuple[str, str, int], ...]  # (name, SHA-256, bytes) of every dump file, by index
    overwrite: bool


@dataclass(frozen=True)
class BuiltDay:
    status: str  # IMPORTED, REPLACED (merged or overwritten) or CONFLICT (nothing written)
    reason: str
    source: int  # index of the first dump file the day's lines came from
    sha256: str = ""
    size: int = 0
    submissions: int = 0
    comments: int = 0


@dataclass
class _Item:
    retrieved: float
    created: float
    raw: bytes


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _spilled_items(path: Path, items: dict[tuple[str, str], _Item]) -> list[int]:
    """Merge a spill file into `items` (newest retrieval wins; a later line on a tie); the source files used."""
    sources = set()
    with open(path, "rb") as handle:
        for record in handle:
            code, item_id, retrieved, created, index, _number, raw = record.rstrip(b"\n").split(b"\t", 6)
            key = (code.decode(), item_id.decode())
            new = _Item(float(retrieved), float(created), raw)
            old = items.get(key)
            if old is None or new.retrieved >= old.retrieved:
                items[key] = new
            sources.add(int(index))
    return sorted(sources)


def _is_dump_day(document: dict) -> bool:
    settings = document.get("settings")
    return isinstance(settings, dict) and settings.get("source") == DUMP_FORMAT and "dump_files" in document


def _earlier_items(document: dict, items: dict[tuple[str, str], _Item]) -> None:
    """An earlier dump import's items take part: each kept unless this import has a newer retrieval."""
    for code, key in _LIST_OF.items():
        for item in document[key]:
            old = items.get((code, item["id"]))
            retrieved = retrieval_time(item)
            if old is None or retrieved > old.retrieved:
                created = item.get("created_utc")
                items[(code, item["id"])] = _Item(retrieved, float(created or 0), _json(item))


def _write_day(path: Path, header: dict, items: dict[tuple[str, str], _Item]) -> tuple[str, int, int, int]:
    """Write the day's raw file into the staging folder; (SHA-256, bytes, submissions, comments)."""
    lists = {code: sorted(((i.created, k[1], i.raw) for k, i in items.items() if k[0] == code)) for code in _LIST_OF}
    body = [b'{"format":', _json(RAW_FORMAT)]
    body += [b"," + _json(key) + b":" + _json(value) for key, value in header.items()]
    for code, key in _LIST_OF.items():
        body += [b',"' + key.encode() + b'":[', b",".join(raw for _c, _i, raw in lists[code]), b"]"]
    body += [
        b',"submission_count":' + str(len(lists["s"])).encode(),
        b',"comment_count":' + str(len(lists["c"])).encode() + b"}",
    ]
    sha, size = hashlib.sha256(), 0
    with staged_file(path) as handle:
        for part in body:
            sha.update(part)
            size += len(part)
            handle.write(part)
    return sha.hexdigest(), size, len(lists["s"]), len(lists["c"])


def build_day(job: DayJob) -> BuiltDay:
    """Build the day into `job.staged`, unless its target holds a scrape (CONFLICT, without overwrite)."""
    items: dict[tuple[str, str], _Item] = {}
    used = _spilled_items(job.spilled, items)
    dump_files: list[dict[str, Any]] = [
        dict(zip(("name", "sha256", "bytes"), job.sources[i], strict=True)) for i in used
    ]
    status, reason = IMPORTED, ""
    if job.target.exists():
        try:
            existing = read_raw_file(job.target)
        except RawFileError as exc:
            existing = {"unreadable": exc.problem}
        if _is_dump_day(existing):
            _earlier_items(existing, items)
            known = {(f["name"], f["sha256"]) for f in dump_files}
            dump_files += [f for f in existing["dump_files"] if (f.get("name"), f.get("sha256")) not in known]
            status, reason = REPLACED, "merged with the day's raw file from an earlier dump import"
        elif not job.overwrite:
            reason = (
                f"{job.target} already holds a scrape or an import of another kind; not overwritten: "
                "pass --overwrite to replace it with the dump's day"
            )
            return BuiltDay(CONFLICT, reason, used[0])
        else:
            status = REPLACED
    newest = max((i.retrieved for i in items.values()), default=0) or max(i.created for i in items.values())
    header = {
        "subreddit": job.name,
        "date": job.day.isoformat(),
        "settings": {"name": job.name, "source": DUMP_FORMAT},
        "scraped_at": dt.datetime.fromtimestamp(newest, dt.UTC).isoformat(),
        "api_requests": 0,
        "dump_files": sorted(dump_files, key=lambda f: f["name"]),
    }
    sha256, size, submissions, comments = _write_day(job.staged, header, items)
    return BuiltDay(status, reason, used[0], sha256, size, submissions, comments)
