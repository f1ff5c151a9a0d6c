"""Poll records on disk: one file per poll, written atomically, read back with their shape checked.

`<data_dir>/stream/<subreddit>/<UTC date>/<UTC hour>/<listing>-<start time>.json`. A poll is
kept as soon as it is done, so a crash loses at most the poll in flight (which the next
poll recovers from the listing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from reddit_assets.files.atomic import BadFileError
from reddit_assets.files.paths import stream_records_dir
from reddit_assets.files.raw_file import parse_json_file_hashed, write_json_document
from reddit_assets.stream.poller import LISTINGS, Poll

RECORD_FORMAT = "reddit_assets/stream-poll@1"
_FIELDS = {
    "started_utc": float,
    "finished_utc": float,
    "requests": int,
    "rate_limited": int,
    "met_previous": bool,
    "reached_end": bool,
    "natural_end": bool,
}
# How far back a new run looks for the last poll of a listing.
LOOK_BACK_HOURS = 48


class PollRecordError(BadFileError):
    kind = "poll record"


def _hour_dir(root: Path, when: dt.datetime) -> Path:
    return root / when.date().isoformat() / f"{when.hour:02d}"


def record_path(data_dir: str | Path, poll: Poll) -> Path:
    started = dt.datetime.fromtimestamp(poll.started_utc, dt.UTC)
    name = f"{poll.listing}-{started.strftime('%Y%m%dT%H%M%S.%f')}Z.json"
    return _hour_dir(stream_records_dir(data_dir, poll.subreddit), started) / name


def write_poll(data_dir: str | Path, poll: Poll) -> Path:
    """Keep one poll, atomically."""
    path = record_path(data_dir, poll)
    body = {
        "format": RECORD_FORMAT,
        "subreddit": poll.subreddit,
        "listing": poll.listing,
        "started_at": dt.datetime.fromtimestamp(poll.started_utc, dt.UTC).isoformat(),
        **{key: getattr(poll, key) for key in _FIELDS},
        "items": poll.items,
    }
    return write_json_document(path, body).path


def read_poll(path: Path, subreddit: str) -> Poll:
    """One record, checked (it is untrusted input): PollRecordError names the file and the problem."""
    try:
        body, _ = parse_json_file_hashed(path)
    except BadFileError as exc:
        raise PollRecordError(path, exc.problem) from None
    if not isinstance(body, dict) or body.get("format") != RECORD_FORMAT:
        raise PollRecordError(path, f"not a poll record (format {RECORD_FORMAT!r} expected)")
    if body.get("subreddit") != subreddit or body.get("listing") not in LISTINGS:
        raise PollRecordError(path, f"records {body.get('subreddit')!r}/{body.get('listing')!r}, not r/{subreddit}")
    for key, kind in _FIELDS.items():
        value = body.get(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise PollRecordError(path, f"field {key!r} must be {kind.__name__}")
        body[key] = value
    items = body.get("items")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) and isinstance(i.get("created_utc"), (int, float))
        for i in items
    ):
        raise PollRecordError(path, "'items' must be a list of objects with an 'id' and a 'created_utc'")
    return Poll(subreddit=subreddit, listing=body["listing"], items=items, **{k: body[k] for k in _FIELDS})


def _hours(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    hour = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        yield hour
        hour += dt.timedelta(hours=1)


def record_files(data_dir: str | Path, subreddit: str, start: dt.datetime, end: dt.datetime) -> list[Path]:
    """The record files of polls started in UTC hours overlapping [start, end), in time order per listing."""
    root = stream_records_dir(data_dir, subreddit)
    files: list[Path] = []
    for hour in _hours(start, end):
        folder = _hour_dir(root, hour)
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith(".")))
    return files


def read_polls(data_dir: str | Path, subreddit: str, start: dt.datetime, end: dt.datetime) -> list[Poll]:
    """Every poll of `subreddit` started in [start, end), oldest first."""
    polls = [read_poll(path, subreddit) for path in record_files(data_dir, subreddit, start, end)]
    polls = [p for p in polls if start.timestamp() <= p.started_utc < end.timestamp()]
    return sorted(polls, key=lambda p: (p.started_utc, p.listing))


def last_seen_ids(data_dir: str | Path, subreddit: str, listing: str, now: float) -> set[str]:
    """The ids the latest recorded poll of this listing saw (empty: none in the last 48 hours)."""
    end = dt.datetime.fromtimestamp(now, dt.UTC) + dt.timedelta(hours=1)
    root = stream_records_dir(data_dir, subreddit)
    for hour in reversed(list(_hours(end - dt.timedelta(hours=LOOK_BACK_HOURS), end))):
        folder = _hour_dir(root, hour)
        if not folder.is_dir():
            continue
        mine = sorted(p for p in folder.iterdir() if p.name.startswith(f"{listing}-") and p.suffix == ".json")
        if mine:
            return read_poll(mine[-1], subreddit).ids
    return set()
