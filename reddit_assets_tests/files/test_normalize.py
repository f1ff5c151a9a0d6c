"""Raw document -> Arrow tables: pure logic, no servers."""

import datetime as dt

from reddit_assets.files.normalize import COMMENT_SCHEMA, SUBMISSION_SCHEMA, normalize


def _document(submissions, comments):
    return {
        "date": "2026-11-27",
        "subreddit": "de",
        "scraped_at": "2026-11-27T23:30:00+00:00",
        "submissions": submissions,
        "comments": comments,
    }


def test_rows_carry_partition_and_typed_fields():
    subs, coms = normalize(
        _document(
            [
                {
                    "id": "s1",
                    "title": "Grüße 🎉",
                    "created_utc": 1764201600.0,
                    "score": 5,
                    "author": "[deleted]",
                    "over_18": False,
                }
            ],
            [
                {
                    "id": "c1",
                    "link_id": "t3_s1",
                    "parent_id": "t3_s1",
                    "body": "a\tb\nc",
                    "created_utc": 1764201601,
                    "edited": 1764201700.5,
                }
            ],
        )
    )
    assert subs.schema == SUBMISSION_SCHEMA and coms.schema == COMMENT_SCHEMA
    s, c = subs.to_pylist()[0], coms.to_pylist()[0]
    assert (s["scrape_date"], s["subreddit"], s["title"], s["author"]) == (
        dt.date(2026, 11, 27),
        "de",
        "Grüße 🎉",
        "[deleted]",
    )
    assert s["created_utc"] == dt.datetime(2025, 11, 27, tzinfo=dt.UTC)
    assert (c["submission_id"], c["parent_id"], c["body"]) == ("s1", "t3_s1", "a\tb\nc")
    assert c["edited_utc"] == dt.datetime.fromtimestamp(1764201700.5, tz=dt.UTC)


def test_unedited_comment_has_no_edit_time():
    _, coms = normalize(_document([], [{"id": "c1", "link_id": "t3_s", "parent_id": "t3_s", "edited": False}]))
    assert coms.to_pylist()[0]["edited_utc"] is None


def test_repeated_ids_keep_the_first():
    subs, _ = normalize(_document([{"id": "s1", "score": 1}, {"id": "s1", "score": 2}, {"id": "s2"}], []))
    assert [(r["id"], r["score"]) for r in subs.to_pylist()] == [("s1", 1), ("s2", None)]


def test_depth_follows_the_parent_chain_past_continue_this_thread():
    # Reddit restarts depth at 0 on a "continue this thread" page: c3 says 0 but is at depth 2.
    comments = [
        {"id": "c1", "parent_id": "t3_s", "link_id": "t3_s", "depth": 0},
        {"id": "c2", "parent_id": "t1_c1", "link_id": "t3_s", "depth": 1},
        {"id": "c3", "parent_id": "t1_c2", "link_id": "t3_s", "depth": 0},
        {"id": "c4", "parent_id": "t1_unknown", "link_id": "t3_s", "depth": 7},
    ]
    _, coms = normalize(_document([], comments))
    assert [r["depth"] for r in coms.to_pylist()] == [0, 1, 2, 7]


def _chain(n: int) -> list[dict]:
    """One reply chain of n comments: each answers the one before, with a repeat at the end."""
    comments = [{"id": "c0", "parent_id": "t3_s", "link_id": "t3_s", "body": "root", "created_utc": 1764201600}]
    comments += [
        {
            "id": f"c{i}",
            "parent_id": f"t1_c{i - 1}",
            "link_id": "t3_s",
            "body": f"reply {i} ✓",
            "created_utc": 1764201600 + i,
        }
        for i in range(1, n)
    ]
    return comments + [dict(comments[3], body="repeat")]


def test_consuming_gives_the_same_rows_across_batches_and_empties_the_document():
    n = 20_000  # more than two of normalize's batches
    kept = _document([{"id": "s"}], _chain(n))
    consumed = _document([{"id": "s"}], _chain(n))
    expected = normalize(kept)
    got = normalize(consumed, consume=True)
    assert [t.to_pylist() for t in got] == [t.to_pylist() for t in expected]
    assert got[1].num_rows == n and got[1].column("depth").to_pylist() == list(range(n))
    assert "comments" not in consumed and "submissions" not in consumed and consumed["subreddit"] == "de"
    assert len(kept["comments"]) == n + 1 and kept["comments"][0]["body"] == "root"  # not consuming leaves it whole


def test_a_dump_s_numeric_string_created_utc_is_a_time_and_other_strings_are_refused():
    import pytest

    from reddit_assets.files.normalize import BadItemError

    subs, coms = normalize(
        _document(
            [{"id": "s1", "created_utc": "1764201600"}, {"id": "s2", "created_utc": "1764201600.5"}],
            [{"id": "c1", "link_id": "t3_s1", "parent_id": "t3_s1", "created_utc": "1764201601", "edited": False}],
        )
    )
    assert [t.timestamp() for t in subs.column("created_utc").to_pylist()] == [1764201600.0, 1764201600.5]
    assert coms.column("created_utc").to_pylist()[0].timestamp() == 1764201601.0
    for bad in ("yesterday", "1e9", " 1764201600", "-5", "9" * 13):
        with pytest.raises(BadItemError, match="created_utc"):
            normalize(_document([{"id": "s1", "created_utc": bad}], []))
