"""Second-pass document -> Arrow rows, one per item asked (returned or not). Pure: no I/O.

The table `reddit_second_pass` and the second-pass archive's Parquet copies are made
from these same rows.

What Reddit shows for an item that is gone: a removal (by a moderator, an admin, the spam
filter) sets `removed_by_category` and replaces the text with "[removed]"; an author's
deletion sets "[deleted]" as author and text (and `removed_by_category` "deleted" on a
submission). `edited` is False or the time of the last edit.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from reddit_assets.files.normalize import _timestamps, _unique_by_id

_TS = pa.timestamp("us", tz="UTC")
SUBMISSION_KIND = "submission"
COMMENT_KIND = "comment"

SECOND_PASS_SCHEMA = pa.schema(
    [
        ("scrape_date", pa.date32()),
        ("subreddit", pa.string()),
        ("id", pa.string()),
        ("kind", pa.string()),
        ("fetched_at", _TS),
        ("returned", pa.bool_()),
        ("author", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("score", pa.int64()),
        ("upvote_ratio", pa.float64()),
        ("num_comments", pa.int64()),
        ("removed", pa.bool_()),
        ("removed_by", pa.string()),
        ("deleted", pa.bool_()),
        ("edited", pa.bool_()),
        ("edited_utc", _TS),
        ("locked", pa.bool_()),
        ("stickied", pa.bool_()),
    ]
)

# removed_by_category values that mean the author, not a moderator, took the item down.
_AUTHOR_GONE = frozenset({"deleted", "author"})


def item_state(item: dict, kind: str) -> dict:
    """removed, removed_by, deleted and edited of one returned item, as Reddit reports them."""
    text = item.get("selftext" if kind == SUBMISSION_KIND else "body")
    category = item.get("removed_by_category")
    deleted = category in _AUTHOR_GONE or text == "[deleted]"
    removed = not deleted and (category is not None or text == "[removed]")
    edited = item.get("edited")
    return {
        "removed": removed,
        "removed_by": category if isinstance(category, str) else None,
        "deleted": deleted,
        "edited": edited not in (None, False, 0),
    }


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _row(item: dict, kind: str) -> dict:
    author = item.get("author")
    ratio = item.get("upvote_ratio")
    return {
        "id": item["id"],
        "kind": kind,
        "returned": True,
        "author": author if author is None or isinstance(author, str) else str(author),
        "title": item.get("title") if kind == SUBMISSION_KIND else None,
        "text": item.get("selftext" if kind == SUBMISSION_KIND else "body"),
        "score": _int(item.get("score")),
        "upvote_ratio": float(ratio) if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) else None,
        "num_comments": _int(item.get("num_comments")) if kind == SUBMISSION_KIND else None,
        "edited_raw": item.get("edited"),
        "locked": item.get("locked") if isinstance(item.get("locked"), bool) else None,
        "stickied": item.get("stickied") if isinstance(item.get("stickied"), bool) else None,
        **item_state(item, kind),
    }


def _missing_row(fullname: str) -> dict:
    prefix, _, item_id = fullname.partition("_")
    # Nothing is known of an item Reddit no longer returns: its state columns stay null.
    return {"id": item_id, "kind": SUBMISSION_KIND if prefix == "t3" else COMMENT_KIND, "returned": False}


def _table(document: dict, rows: list[dict]) -> pa.Table:
    n = len(rows)
    columns = {
        "scrape_date": pa.repeat(pa.scalar(dt.date.fromisoformat(document["date"]), pa.date32()), n),
        "subreddit": pa.repeat(pa.scalar(document["subreddit"], pa.string()), n),
        "fetched_at": pa.repeat(pa.scalar(dt.datetime.fromisoformat(document["fetched_at"]), _TS), n),
    }
    for name in SECOND_PASS_SCHEMA.names:
        if name not in columns and name != "edited_utc":
            columns[name] = [row.get(name) for row in rows]
    columns["edited_utc"] = _timestamps([row.get("edited_raw") for row in rows])
    return pa.table(columns, schema=SECOND_PASS_SCHEMA) if n else SECOND_PASS_SCHEMA.empty_table()


def second_pass_tables(document: dict) -> tuple[pa.Table, pa.Table]:
    """(submission rows, comment rows) of one second-pass document, missing items included."""
    tables = []
    for kind, key, prefix in ((SUBMISSION_KIND, "submissions", "t3_"), (COMMENT_KIND, "comments", "t1_")):
        rows = [_row(item, kind) for item in document[key]]
        rows += [_missing_row(name) for name in document["missing"] if name.startswith(prefix)]
        tables.append(_table(document, _unique_by_id(rows)))
    return tables[0], tables[1]
