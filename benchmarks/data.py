"""Generated raw documents at realistic shapes, shared by the load benchmarks (built once per process).

Shapes come from reddit_assets_demo.generator: long, deep comment trees, unicode and
markdown in every text, selftexts up to Reddit's 40,000 characters.
"""

from __future__ import annotations

import datetime as dt
import functools

from reddit_assets_demo.raw_documents import generated_raw_document

# Far enough back that every generated day is in the past (future times are refused).
DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=120)


def _trimmed(document: dict, n_comments: int) -> dict:
    if len(document["comments"]) < n_comments:
        raise RuntimeError(f"generated {len(document['comments'])} comments, need {n_comments}")
    return {**document, "comments": document["comments"][:n_comments]}


@functools.cache
def big_partition(n_submissions: int, n_comments: int) -> dict:
    """One subreddit-day of `n_submissions` submissions and exactly `n_comments` comments."""
    per = max(1, n_comments // n_submissions)
    document = generated_raw_document(
        "BenchBig",
        DAY,
        n_submissions=n_submissions,
        comments_per_submission=(0, int(per * 3.3)),
        popular_threads=3,
        popular_comments=(per * 5, per * 15),
    )
    return _trimmed(document, n_comments)


@functools.cache
def small_partitions(count: int, rows: int) -> tuple[dict, ...]:
    """`count` subreddit-days (one subreddit, consecutive days) of exactly `rows` rows each."""
    n_submissions = max(1, rows // 100)
    documents = []
    for i in range(count):
        document = generated_raw_document(
            "BenchSmall",
            DAY + dt.timedelta(days=i),
            n_submissions=n_submissions,
            comments_per_submission=(130, 260),
            popular_threads=0,
        )
        documents.append(_trimmed(document, rows - n_submissions))
    return tuple(documents)


def row_count(document: dict) -> int:
    return len(document["submissions"]) + len(document["comments"])


def partition_of(document: dict) -> tuple[dt.date, str]:
    return dt.date.fromisoformat(document["date"]), document["subreddit"]
