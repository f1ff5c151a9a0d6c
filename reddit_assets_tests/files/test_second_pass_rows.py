"""The second-pass file and its rows: pure logic, no server."""

import datetime as dt

import pytest

from reddit_assets.assets.second_pass_checks import coverage_problem
from reddit_assets.files.raw_file import RawFileError
from reddit_assets.files.second_pass_file import read_second_pass_file, write_second_pass_file
from reddit_assets.files.second_pass_rows import item_state, second_pass_tables


def _document(**overrides):
    document = {
        "subreddit": "pastsub",
        "date": "2026-11-27",
        "fetched_at": "2026-11-29T12:00:00+00:00",
        "first_scrape": {"scraped_at": "2026-11-27T23:30:00+00:00", "sha256": "0" * 64},
        "api_requests": 2,
        "missing": ["t3_gone1", "t1_gone2"],
        "submissions": [
            {"id": "s1", "score": 40, "selftext": "hello", "author": "alice", "edited": False, "locked": True},
            {"id": "s2", "score": 3, "selftext": "[removed]", "author": "bob", "removed_by_category": "moderator"},
            {"id": "s3", "score": 1, "selftext": "[deleted]", "author": None, "removed_by_category": "deleted"},
        ],
        "comments": [
            {"id": "c1", "score": 7, "body": "[removed]", "author": None, "edited": False},
            {"id": "c2", "score": 2, "body": "[deleted]", "author": None},
            {"id": "c3", "score": 9, "body": "better now", "author": "carol", "edited": 1795953600.5},
        ],
    }
    return document | overrides


def test_item_state_tells_removals_by_whom_from_deletions_and_edits():
    assert item_state({"selftext": "x", "removed_by_category": "reddit"}, "submission") == {
        "removed": True,
        "removed_by": "reddit",
        "deleted": False,
        "edited": False,
    }
    assert item_state({"selftext": "[deleted]", "removed_by_category": "deleted"}, "submission")["deleted"] is True
    assert item_state({"selftext": "[deleted]", "removed_by_category": "deleted"}, "submission")["removed"] is False
    assert item_state({"body": "[removed]"}, "comment") == {
        "removed": True,
        "removed_by": None,
        "deleted": False,
        "edited": False,
    }
    assert item_state({"body": "new text", "edited": 1795953600.0}, "comment")["edited"] is True


def test_rows_hold_one_row_per_item_asked_and_missing_items_have_no_state():
    submissions, comments = second_pass_tables(_document())
    rows = {r["id"]: r for r in submissions.to_pylist() + comments.to_pylist()}
    assert set(rows) == {"s1", "s2", "s3", "c1", "c2", "c3", "gone1", "gone2"}
    assert rows["gone1"]["kind"] == "submission" and rows["gone2"]["kind"] == "comment"
    for gone in ("gone1", "gone2"):
        assert rows[gone]["returned"] is False
        assert rows[gone]["score"] is None and rows[gone]["removed"] is None and rows[gone]["deleted"] is None
    assert rows["s1"]["locked"] is True and rows["s1"]["returned"] is True
    assert (rows["s2"]["removed"], rows["s2"]["removed_by"]) == (True, "moderator")
    assert (rows["s3"]["deleted"], rows["s3"]["removed"]) == (True, False)
    assert (rows["c1"]["removed"], rows["c2"]["deleted"], rows["c3"]["edited"]) == (True, True, True)
    assert rows["c3"]["edited_utc"] == dt.datetime(2026, 11, 29, 12, 0, 0, 500000, tzinfo=dt.UTC)
    assert {r["fetched_at"] for r in rows.values()} == {dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)}


def test_second_pass_file_round_trips_and_refuses_a_damaged_one(tmp_path):
    path = tmp_path / "pastsub.second_pass.json"
    written = write_second_pass_file(path, _document())
    document, sha256 = read_second_pass_file(path)
    assert sha256 == written.sha256 and document["missing_count"] == 2 and document["comment_count"] == 3

    for bad, problem in (
        (_document(missing=["t5_abc"]), "'missing'"),
        (_document(submissions=[{"score": 1}]), "'submissions'"),
    ):
        write_second_pass_file(path, bad)
        with pytest.raises(RawFileError, match=problem):
            read_second_pass_file(path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(RawFileError, match="not valid JSON"):
        read_second_pass_file(path)


def test_coverage_names_items_neither_returned_nor_missing():
    document = _document()
    asked = ["t3_s1", "t3_s2", "t3_s3", "t3_gone1", "t1_c1", "t1_c2", "t1_c3", "t1_gone2"]
    assert coverage_problem(asked, document) is None
    problem = coverage_problem([*asked, "t1_lost"], document)
    assert problem is not None and "1 items neither returned nor listed missing (t1_lost)" in problem
    assert "not in the raw file (t3_s1)" in coverage_problem([n for n in asked if n != "t3_s1"], document)
