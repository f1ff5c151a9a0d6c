"""One chunk of a dump's lines -> spill records per (day, subreddit), bad lines, counts.

Picklable, so chunks are parsed in worker processes while the importer decompresses the next
ones (see dump_import). A spill record is the line as the dump wrote it behind a tab-separated
head: kind code, id, retrieval time, created_utc, source file index, line number. The worker
appends a chunk's records to its own spill file per (day, subreddit) itself: the records never
travel back to the importer's process, which only learns which files grew by how much.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from reddit_assets.files.atomic import DiskWriteError
from reddit_assets.files.item_checks import BadItemError
from reddit_assets.files.normalize import check_items
from reddit_assets.migrate.dump_format import COMMENT, SUBMISSION, LineProblem, parse_line, subreddit_candidates

CHECK_BATCH = 1024  # lines checked together as a table load checks them
KIND_CODE = {SUBMISSION: "s", COMMENT: "c"}


@dataclass(frozen=True)
class ChunkSpec:
    """What parsing a chunk of one file needs to know."""

    kind: str
    all_of_reddit: bool
    configured: dict[str, str]  # the config's names by their lower-case form
    timezone: str
    latest: float  # the newest believable created_utc
    index: int  # the source file's position in the import
    spill: Path  # the import's spill folder


@dataclass
class ChunkResult:
    spilled: dict[tuple[dt.date, str], tuple[Path, int]] = field(default_factory=dict)  # (file, bytes added)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    other_subreddits: int = 0
    kept: int = 0


class _Days:
    """The day of an epoch time in a time zone; the last day's bounds are kept, as dumps run in time order."""

    def __init__(self, timezone: str):
        self.tz = ZoneInfo(timezone)
        self.start, self.end, self.day = 0.0, 0.0, dt.date.min

    def of(self, created: float) -> dt.date:
        if not self.start <= created < self.end:
            self.day = dt.datetime.fromtimestamp(created, self.tz).date()
            self.start = dt.datetime.combine(self.day, dt.time(), tzinfo=self.tz).timestamp()
            self.end = dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(), tzinfo=self.tz).timestamp()
        return self.day


def parse_chunk(spec: ChunkSpec, first_number: int, data: bytes) -> ChunkResult:
    """Parse the lines of `data` (joined by newlines; the first is line `first_number` of its file)."""
    result = ChunkResult()
    configured_bytes = {name.encode() for name in spec.configured}
    days = _Days(spec.timezone)
    pending: list = []
    spilled: dict[tuple[dt.date, str], list[bytes]] = {}
    configured, all_of_reddit, latest = spec.configured, spec.all_of_reddit, spec.latest
    for number, raw in enumerate(data.split(b"\n"), first_number):
        stripped = raw.strip()
        if not stripped:
            continue
        if all_of_reddit:
            names = subreddit_candidates(raw)
            if names and not any(n.lower() in configured_bytes for n in names):
                result.other_subreddits += 1
                continue
        try:
            line = parse_line(raw, latest)
        except LineProblem as exc:
            result.bad.append((number, str(exc)))
            continue
        if line.subreddit.lower() not in configured:
            result.other_subreddits += 1
            continue
        pending.append((line, number, stripped))
        if len(pending) >= CHECK_BATCH:
            _spill(spec, pending, result, days, spilled)
            pending = []
    _spill(spec, pending, result, days, spilled)
    for key, parts in spilled.items():
        result.spilled[key] = _append(spill_path(spec.spill, key, os.getpid()), b"".join(parts))
    return result


def spill_path(folder: Path, key: tuple[dt.date, str], writer: int) -> Path:
    """The spill file of (day, subreddit) that process `writer` appends to: one per process, so no
    two processes write one file; the order of the records across them does not matter (dump_days)."""
    return folder / key[0].isoformat() / f"{key[1]}.{writer}.ndjson"


def _append(path: Path, data: bytes) -> tuple[Path, int]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as handle:
            handle.write(data)
    except OSError as exc:
        raise DiskWriteError(path, exc) from None
    return path, len(data)


def _spill(spec: ChunkSpec, pending: list, result: ChunkResult, days: _Days, spilled: dict) -> None:
    """Check the lines as a table load would, report the bad ones, turn the rest into spill records."""
    while pending:
        try:
            check_items(spec.kind, [line.item for line, _n, _r in pending])
            break
        except BadItemError as exc:
            if not isinstance(exc.item_id, int):  # check_items names an item by its position
                raise
            line, number, _raw = pending.pop(exc.item_id)
            result.bad.append((number, f"{spec.kind} {line.id!r}: field '{exc.field}': {exc.problem}"))
    code, index, configured = KIND_CODE[spec.kind], spec.index, spec.configured
    key, parts = None, []
    for line, number, raw in pending:  # `raw` stripped; its parts are joined once per chunk
        new_key = (days.of(line.created), configured[line.subreddit.lower()])
        if new_key != key:  # a dump runs in time order: mostly the key of the line before
            key = new_key
            parts = spilled.setdefault(key, [])
        parts.append(f"{code}\t{line.id}\t{line.retrieved!r}\t{line.created!r}\t{index}\t{number}\t".encode())
        parts.append(raw)
        parts.append(b"\n")
    result.kept += len(pending)
