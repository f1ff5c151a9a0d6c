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
    spilled: tuple[Path, ...]  # the day's spill files, one per process that wrote some of its lines
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


# One item of the day, a plain tuple (one per line: a NamedTuple or dataclass costs 2-3x more to
# build): (retrieval time, created_utc, the line, its source file's index and its line number as
# they were spilled, in ASCII digits: read as numbers only to break a tie).
_Item = tuple[float, float, bytes, bytes, bytes]
_EARLIER = b"-1", b"0"  # an earlier import's item comes before every line of this one


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _spilled_items(paths: tuple[Path, ...], items: dict[tuple[str, str], _Item]) -> list[int]:
    """Merge spill files into `items` (newest retrieval wins; the later line on a tie, by source file and
    line number, so the files' order and the order of records in them do not matter); the source files used."""
    sources = set()
    get = items.get
    for path in paths:
        with open(path, "rb") as handle:
            for record in handle:
                code, item_id, retrieved, created, index, number, raw = record.split(b"\t", 6)
                key = (code.decode(), item_id.decode())
                seconds = float(retrieved)
                old = get(key)
                if (
                    old is None
                    or seconds > old[0]
                    or (seconds == old[0] and (int(index), int(number)) >= (int(old[3]), int(old[4])))
                ):
                    items[key] = (seconds, float(created), raw[:-1], index, number)  # the line without its newline
                sources.add(index)
    return sorted({int(i) for i in sources})


def _is_dump_day(document: dict) -> bool:
    settings = document.get("settings")
    return isinstance(settings, dict) and settings.get("source") == DUMP_FORMAT and "dump_files" in document


def _earlier_items(document: dict, items: dict[tuple[str, str], _Item]) -> None:
    """An earlier dump import's items take part: each kept unless this import has a newer retrieval."""
    for code, key in _LIST_OF.items():
        for item in document[key]:
            old = items.get((code, item["id"]))
            retrieved = retrieval_time(item)
            if old is None or retrieved > old[0]:
                created = item.get("created_utc")
                items[(code, item["id"])] = (retrieved, float(created or 0), _json(item), *_EARLIER)


def _write_day(path: Path, header: dict, items: dict[tuple[str, str], _Item]) -> tuple[str, int, int, int]:
    """Write the day's raw file into the staging folder; (SHA-256, bytes, submissions, comments)."""
    lists: dict[str, list[tuple[float, str, bytes]]] = {code: [] for code in _LIST_OF}
    for (code, item_id), item in items.items():
        lists[code].append((item[1], item_id, item[2]))
    for rows in lists.values():
        rows.sort()
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
    newest = max((i[0] for i in items.values()), default=0) or max(i[1] for i in items.values())
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
