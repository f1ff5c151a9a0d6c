"""Pushshift / Arctic Shift dumps: their file names and their lines. Pure: no I/O.

A dump is NDJSON compressed with zstd (a long window, up to 2 GiB): monthly files of all of
Reddit, `RS_YYYY-MM.zst` (submissions) and `RC_YYYY-MM.zst` (comments), and per-subreddit
files `<name>_submissions.zst` / `<name>_comments.zst`. Each line is one item as Reddit's API
gave it when the dump retrieved it, in either schema: older years write `created_utc` as a
string and the retrieval time as `retrieved_on`; newer ones `retrieved_utc`; Arctic Shift
files from 2023-11 add a second retrieval under `_meta` (`retrieved_2nd_on`,
`was_deleted_later`, ...). A line is kept as the dump wrote it; only what the import needs
is read from it: id, subreddit, created_utc and the retrieval time.
"""

from __future__ import annotations

import datetime as dt
import json
import json.scanner
import re
from dataclasses import dataclass
from typing import NamedTuple

from reddit_assets.files.item_checks import EARLIEST, epoch_seconds, id_problem

DUMP_FORMAT = "pushshift/ndjson-dump"
SUBMISSION, COMMENT = "submission", "comment"
MAX_WINDOW = 2**31  # the dumps' zstd window: the default decompressor refuses their frames
_MONTHLY = re.compile(r"(RS|RC)_(\d{4})-(\d{2})\.zst", re.ASCII)
_PER_SUBREDDIT = re.compile(r"([A-Za-z0-9_]{2,21})_(submissions|comments)\.zst", re.ASCII)
# json.loads' own steps without its Python wrappers (decode, raw_decode): the C scanner, and the
# whitespace rule of the text around the value, with the same messages on a bad line.
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: a class, not its context
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# Every `"subreddit": "<name>"` of a line, nested ones (a crosspost's parent) included: the
# line's own is one of them, so a line none of whose names is configured is skipped unparsed.
_SUBREDDIT_VALUE = re.compile(rb'"subreddit"\s*:\s*"([A-Za-z0-9_]{1,32})"')


@dataclass(frozen=True)
class DumpFile:
    """What a dump's name says: the kind of its lines, and the one subreddit or the month it holds."""

    kind: str  # SUBMISSION or COMMENT
    subreddit: str | None  # per-subreddit dumps; None for the monthly files of all of Reddit
    month: dt.date | None  # the first day of a monthly file's month

    @property
    def all_of_reddit(self) -> bool:
        return self.subreddit is None


def dump_file(name: str) -> DumpFile | None:
    """The dump a file name names, or None."""
    match = _MONTHLY.fullmatch(name)
    if match:
        prefix, year, month = match.groups()
        try:
            first = dt.date(int(year), int(month), 1)
        except ValueError:
            return None
        return DumpFile(SUBMISSION if prefix == "RS" else COMMENT, None, first)
    match = _PER_SUBREDDIT.fullmatch(name)
    if match:
        return DumpFile(SUBMISSION if match.group(2) == "submissions" else COMMENT, match.group(1), None)
    return None


class LineProblem(ValueError):
    """A line that cannot be imported; the message says why, quoting little of the line."""


class Line(NamedTuple):  # a tuple: built per line, 5x cheaper than a frozen dataclass
    """One parsed dump line: the item, and what the import reads from it."""

    item: dict
    id: str
    subreddit: str
    created: float
    retrieved: float  # the newest retrieval the line records; 0 when it records none


def subreddit_candidates(raw: bytes) -> list[bytes]:
    """The subreddit names a raw line mentions (its own among them), read without parsing it."""
    return _SUBREDDIT_VALUE.findall(raw)


def retrieval_time(item: dict) -> float:
    """The newest retrieval time the item records: `retrieved_on` (older dumps), `retrieved_utc`,
    or Arctic Shift's second retrieval `_meta.retrieved_2nd_on`; 0 when none."""
    newest = 0.0
    meta = item.get("_meta")
    for value in (
        item.get("retrieved_on"),
        item.get("retrieved_utc"),
        meta.get("retrieved_2nd_on") if type(meta) is dict else None,
    ):
        if value is None:
            continue
        if type(value) is not int and type(value) is not float:  # the common case needs no epoch_seconds call
            value = epoch_seconds(value)
            if value is None:
                continue
        if value > newest:
            newest = float(value)
    return newest


def _decode(text: str) -> object:
    """json.loads(text), raising the JSONDecodeError it would."""
    start = 0 if text[:1] == "{" else _JSON_SPACE.match(text).end()  # type: ignore[union-attr]
    try:
        value, end = _scan(text, start)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    if end != len(text):
        end = _JSON_SPACE.match(text, end).end()  # type: ignore[union-attr]
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


def parse_line(raw: bytes, latest: float) -> Line:
    """Parse one dump line; LineProblem when it is not an item the import can place.

    `latest`: the newest believable `created_utc` (epoch seconds)."""
    try:
        item = _decode(raw.decode())  # a dump is UTF-8: json.loads(bytes) would guess the encoding per line
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason
        raise LineProblem(f"not JSON ({reason})") from None
    except RecursionError:
        raise LineProblem("not JSON (nested too deeply)") from None
    if not isinstance(item, dict):
        raise LineProblem(f"not a JSON object but a {type(item).__name__}")
    if "id" not in item:
        raise LineProblem("no 'id'")
    item_id = item["id"]
    if type(item_id) is not str or not 0 < len(item_id) <= 32 or not item_id.isalnum():  # Reddit's base-36 ids
        problem = id_problem(item_id)
        if problem:
            raise LineProblem(problem)
        if "\t" in item_id or "\n" in item_id:
            raise LineProblem("an id must not hold a tab or a newline")
    if "created_utc" not in item:
        raise LineProblem("no 'created_utc'")
    created = item["created_utc"]
    if type(created) is not int and type(created) is not float:
        created = epoch_seconds(created)
    if created is None:
        raise LineProblem("'created_utc' is not epoch seconds (a number or a numeric string)")
    if not EARLIEST <= created <= latest:
        raise LineProblem(f"'created_utc' {created} is outside 2005-01-01 .. now + 1 day")
    subreddit = item.get("subreddit")
    if not isinstance(subreddit, str):
        raise LineProblem("no 'subreddit' name")
    return Line(item, item_id, subreddit, float(created), retrieval_time(item))
