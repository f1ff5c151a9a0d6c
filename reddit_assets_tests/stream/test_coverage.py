"""Coverage of a stream day from polls, and how the report words it: pure, no server."""

from reddit_assets.report.text import coverage
from reddit_assets.stream.merge import listing_gaps
from reddit_assets.stream.poller import COMMENTS, Poll


def _poll(started, created, *, met=True):
    items = [{"id": f"c{t}", "created_utc": t} for t in created]
    return Poll("busy", COMMENTS, started, started + 1, 1, 0, met, not met, False, items)


def test_item_made_while_a_poll_was_on_its_way_leaves_no_gap():
    # The first poll started at 100 and was answered with an item made at 100.4; the next met it.
    polls = [_poll(100.0, [100.4, 95.0, 90.0]), _poll(160.0, [150.0, 120.0, 100.4])]
    assert listing_gaps(polls, 90.0, 160.0) == []


def test_poll_that_met_nothing_it_saw_before_leaves_a_gap_down_to_its_oldest_item():
    polls = [_poll(100.0, [99.0, 90.0]), _poll(700.0, [690.0, 400.0], met=False)]
    assert listing_gaps(polls, 90.0, 700.0) == [(100.0, 400.0)]


def test_report_words_coverage():
    assert coverage({"coverage_complete": True, "coverage_gaps": 0, "minutes_uncovered": 0}) == "complete"
    assert coverage({"coverage_complete": False, "coverage_gaps": 2, "minutes_uncovered": 12.5}) == (
        "12.5 min uncovered in 2 gap(s)"
    )
    assert coverage({"coverage_complete": False, "coverage_gaps": 0, "minutes_uncovered": 0}) == (
        "day not over yet, no gap so far"
    )
