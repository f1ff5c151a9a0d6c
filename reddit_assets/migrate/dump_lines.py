"""One chunk of a dump's lines -> spill records per (day, subreddit), bad lines, counts.

Pure and picklable, so chunks are parsed in worker processes while the importer decompresses
the next ones (see dump_import). A spill record is the line as the dump wrote it behind a
tab-separated head: kind code, id, retrieval time, created_utc, source file index, line number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

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


@dataclass
class ChunkResult:
    records: dict[tuple[dt.date, str], bytes] = field(default_factory=dict)
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
    for number, raw in enumerate(data.split(b"\n"), first_number):
        if not raw.strip():
            continue
        if spec.all_of_reddit:
            names = subreddit_candidates(raw)
            if names and not any(n.lower() in configured_bytes for n in names):
                result.other_subreddits += 1
                continue
        try:
            line = parse_line(raw, spec.latest)
        except LineProblem as exc:
            result.bad.append((number, str(exc)))
            continue
        if line.subreddit.lower() not in spec.configured:
            result.other_subreddits += 1
            continue
        pending.append((line, number, raw))
        if len(pending) >= CHECK_BATCH:
            _spill(spec, pending, result, days, spilled)
            pending = []
    _spill(spec, pending, result, days, spilled)
    result.records = {key: b"".join(parts) for key, parts in spilled.items()}
    return result


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
    code = KIND_CODE[spec.kind]
    for line, number, raw in pending:
        key = (days.of(line.created), spec.configured[line.subreddit.lower()])
        head = f"{code}\t{line.id}\t{line.retrieved!r}\t{line.created!r}\t{spec.index}\t{number}\t".encode()
        spilled.setdefault(key, []).append(head + raw.strip() + b"\n")
        result.kept += 1
