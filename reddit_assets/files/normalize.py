"""Raw scrape document -> Arrow tables of submissions and comments. Pure: no I/O.

Both branches (database tables and archive Parquet copies) read through here, so the
rows in the database and in the archive are the same rows.
"""

from __future__ import annotations

import datetime as dt
from operator import itemgetter

import pyarrow as pa
import pyarrow.compute as pc

from reddit_assets.files.item_checks import BadItemError, check_columns, check_ids, epoch_seconds

__all__ = [
    "COMMENT_SCHEMA",
    "SUBMISSION_SCHEMA",
    "BadItemError",
    "check_items",
    "comments_table",
    "normalize",
    "submissions_table",
]

_TS = pa.timestamp("us", tz="UTC")

SUBMISSION_SCHEMA = pa.schema(
    [
        ("scrape_date", pa.date32()),
        ("subreddit", pa.string()),
        ("id", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("selftext", pa.string()),
        ("url", pa.string()),
        ("permalink", pa.string()),
        ("domain", pa.string()),
        ("link_flair_text", pa.string()),
        ("created_utc", _TS),
        ("score", pa.int64()),
        ("upvote_ratio", pa.float64()),
        ("num_comments", pa.int64()),
        ("over_18", pa.bool_()),
        ("is_self", pa.bool_()),
        ("stickied", pa.bool_()),
        ("locked", pa.bool_()),
        ("spoiler", pa.bool_()),
        ("scraped_at", _TS),
    ]
)

COMMENT_SCHEMA = pa.schema(
    [
        ("scrape_date", pa.date32()),
        ("subreddit", pa.string()),
        ("id", pa.string()),
        ("submission_id", pa.string()),
        ("parent_id", pa.string()),
        ("author", pa.string()),
        ("body", pa.string()),
        ("permalink", pa.string()),
        ("distinguished", pa.string()),
        ("created_utc", _TS),
        ("edited_utc", _TS),
        ("score", pa.int64()),
        ("depth", pa.int32()),
        ("is_submitter", pa.bool_()),
        ("stickied", pa.bool_()),
        ("scraped_at", _TS),
    ]
)

# Columns copied straight from Reddit's fields, by name and type.
_SUBMISSION_FIELDS = [
    f for f in SUBMISSION_SCHEMA.names if f not in ("scrape_date", "subreddit", "created_utc", "scraped_at")
]
_COMMENT_FIELDS = [
    "id",
    "parent_id",
    "author",
    "body",
    "permalink",
    "distinguished",
    "score",
    "is_submitter",
    "stickied",
]


_SUBMISSION_KINDS = {
    **dict.fromkeys(("title", "selftext", "url", "permalink", "domain", "link_flair_text"), "text"),
    "created_utc": "time",
    "score": "int",
    "num_comments": "int",
    "upvote_ratio": "float",
    **dict.fromkeys(("over_18", "is_self", "stickied", "locked", "spoiler"), "bool"),
}
_COMMENT_KINDS = {
    **dict.fromkeys(("link_id", "body", "permalink", "distinguished"), "text"),
    "created_utc": "time",
    "edited": "edited",
    "score": "int",
    **dict.fromkeys(("is_submitter", "stickied"), "bool"),
}


def _seconds(value) -> float | None:
    epoch = epoch_seconds(value)  # a number or a dump's numeric string; None, False, True: null
    return None if epoch is None else float(epoch)


def _timestamps(values: list) -> pa.Array:
    """Epoch seconds (None, or False for "never edited": null) as UTC timestamps, in Arrow.

    Rounds to the microsecond as `datetime.fromtimestamp` does (the fraction, half to even)
    without a datetime object per value.
    """
    seconds = pa.array([v if type(v) is float or type(v) is int else _seconds(v) for v in values], pa.float64())
    whole = pc.floor(seconds)
    micros = pc.round(pc.multiply(pc.subtract(seconds, whole), 1e6), round_mode="half_to_even")
    total = pc.add(pc.multiply(pc.cast(whole, pa.int64()), 1_000_000), pc.cast(micros, pa.int64()))
    return total.cast(_TS)


def _fields(items: list[dict], names: list[str]) -> dict[str, list]:
    """One list per field; None where an item lacks it."""
    columns = {}
    for name in names:
        try:
            columns[name] = list(map(itemgetter(name), items))
        except KeyError:
            columns[name] = [item.get(name) for item in items]
    return columns


def _strip_prefix(fullname: str | None) -> str | None:
    if fullname is None:
        return None
    return fullname.split("_", 1)[1] if "_" in fullname else fullname


def _author(value) -> str | None:
    # PRAW-shaped data holds a name; Reddit's own uses "[deleted]" for gone accounts.
    return value if value is None or isinstance(value, str) else str(value)


def _header(document: dict) -> tuple[dt.date, str, dt.datetime]:
    """The document's date, subreddit and scrape time; BadItemError names the field that is wrong."""
    try:
        date = dt.date.fromisoformat(document["date"])
    except (TypeError, ValueError):
        raise BadItemError("document", "header", "date", "not a date YYYY-MM-DD") from None
    if not isinstance(document["subreddit"], str):
        raise BadItemError("document", "header", "subreddit", "not a name")
    try:
        scraped_at = dt.datetime.fromisoformat(document["scraped_at"])
    except (TypeError, ValueError):
        raise BadItemError("document", "header", "scraped_at", "not an ISO time") from None
    if scraped_at.tzinfo is None:
        raise BadItemError("document", "header", "scraped_at", "has no time zone")
    return date, document["subreddit"], scraped_at


def _common(document: dict, n: int) -> dict:
    date, _name, scraped_at = _header(document)
    return {
        "scrape_date": pa.repeat(pa.scalar(date, pa.date32()), n),
        "subreddit": pa.repeat(pa.scalar(document["subreddit"], pa.string()), n),
        "scraped_at": pa.repeat(pa.scalar(scraped_at, _TS), n),
    }


def _unique_by_id(items: list[dict]) -> list[dict]:
    """Keep the first occurrence of each id (Reddit listings can repeat an item across pages)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item["id"] not in seen:
            seen.add(item["id"])
            out.append(item)
    return out


def _tree_depths(items: list[dict]) -> list[int | None]:
    """Depth in the whole tree, from the parent chain.

    Reddit restarts `depth` at 0 in a "continue this thread" page, so its own field
    understates the depth of comments that were fetched that way.
    """
    depth_of: dict[str, int] = {}
    depths: list[int | None] = []
    for item in items:
        parent = item.get("parent_id") or ""
        depth: int | None
        if parent.startswith("t3_"):
            depth = 0
        elif parent[3:] in depth_of:
            depth = depth_of[parent[3:]] + 1
        else:
            depth = item.get("depth")
        if depth is not None:
            depth_of[item["id"]] = depth
        depths.append(depth)
    return depths


_ROWS_PER_BATCH = 8_192


def _batches(items: list[dict], build) -> list[pa.RecordBatch]:
    """`build(chunk, start)` for each chunk of `items`, then drop the chunk from `items`: when
    nothing else holds those dicts (normalize with `consume`), they are freed as they go."""
    batches = []
    for start in range(0, len(items), _ROWS_PER_BATCH):
        end = min(start + _ROWS_PER_BATCH, len(items))
        batches.append(build(items[start:end], start))
        items[start:end] = [{}] * (end - start)  # one empty dict in each place: the list keeps its length
    return batches


def _without_lone_surrogates(value):
    """Text with each lone surrogate (valid in Reddit's JSON, not in UTF-8) as U+FFFD; the raw file keeps it."""
    if type(value) is not str:
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _record_batch(columns: dict, schema: pa.Schema) -> pa.RecordBatch:
    try:
        return pa.RecordBatch.from_pydict(columns, schema=schema)
    except UnicodeEncodeError:  # rare: only then is every text value looked at
        for field in schema:
            if field.type == pa.string() and isinstance(columns[field.name], list):
                columns[field.name] = [_without_lone_surrogates(v) for v in columns[field.name]]
        return pa.RecordBatch.from_pydict(columns, schema=schema)


def _submission_batch(document: dict, items: list[dict]) -> pa.RecordBatch:
    columns = _common(document, len(items)) | _fields(items, _SUBMISSION_FIELDS + ["created_utc"])
    check_columns("submission", columns["id"], columns, _SUBMISSION_KINDS)
    columns["author"] = [_author(v) for v in columns["author"]]
    columns["created_utc"] = _timestamps(columns["created_utc"])
    return _record_batch(columns, SUBMISSION_SCHEMA)


def _comment_batch(document: dict, depths: list, items: list[dict], start: int) -> pa.RecordBatch:
    columns = _common(document, len(items)) | _fields(items, _COMMENT_FIELDS + ["link_id", "created_utc", "edited"])
    check_columns("comment", columns["id"], columns, _COMMENT_KINDS)
    columns["author"] = [_author(v) for v in columns["author"]]
    columns["submission_id"] = [_strip_prefix(v) for v in columns.pop("link_id")]
    columns["created_utc"] = _timestamps(columns["created_utc"])
    columns["edited_utc"] = _timestamps(columns.pop("edited"))
    columns["depth"] = depths[start : start + len(items)]
    return _record_batch(columns, COMMENT_SCHEMA)


def _items(document: dict, name: str, consume: bool) -> list[dict]:
    return _unique_by_id(document.pop(name) if consume else document[name])


_TREE_KINDS = {"parent_id": "text", "depth": "int"}


def _checked_comments(items: list[dict]) -> None:
    """The comment fields the tree walk reads, checked before it reads them (the rest per batch)."""
    columns = _fields(items, ["id", *_TREE_KINDS])
    check_columns("comment", columns["id"], columns, _TREE_KINDS)


def submissions_table(document: dict, *, consume: bool = False) -> pa.Table:
    """The document's submissions as rows; BadItemError names an item the tables cannot store."""
    _header(document)
    check_ids("submission", document["submissions"])
    items = _items(document, "submissions", consume)
    batches = _batches(items, lambda chunk, _start: _submission_batch(document, chunk))
    return pa.Table.from_batches(batches, schema=SUBMISSION_SCHEMA)


def comments_table(document: dict, *, consume: bool = False) -> pa.Table:
    """The document's comments as rows; BadItemError names an item the tables cannot store."""
    _header(document)
    check_ids("comment", document["comments"])
    items = _items(document, "comments", consume)
    _checked_comments(items)
    depths = _tree_depths(items)
    batches = _batches(items, lambda chunk, start: _comment_batch(document, depths, chunk, start))
    return pa.Table.from_batches(batches, schema=COMMENT_SCHEMA)


def normalize(document: dict, *, consume: bool = False) -> tuple[pa.Table, pa.Table]:
    """(submissions, comments) for one raw document.

    With `consume=True` the document's `submissions` and `comments` lists are taken out of
    it and each item is released once converted, so a big thread is never held twice.
    """
    return submissions_table(document, consume=consume), comments_table(document, consume=consume)


def check_items(kind: str, items: list[dict]) -> None:
    """The checks a table load makes on these items' fields ("submission" or "comment"), without
    building rows; BadItemError names the first bad item by its position in `items`."""
    kinds = _SUBMISSION_KINDS if kind == "submission" else _COMMENT_KINDS | _TREE_KINDS
    check_columns(kind, list(range(len(items))), _fields(items, list(kinds)), kinds)
