"""The report's pure parts: a partition's overall state, the day's totals, the text, the
Markdown table and the grid picture, from hand-built cells (no instance, no server)."""

import base64
import datetime as dt
import re

from reddit_assets.assets.daily_report import grid_dates
from reddit_assets.report.gather import (
    CANNOT_SCRAPE,
    DONE,
    FAILED,
    NOT_DUE,
    NOT_RUN,
    OFF,
    Cell,
    DayReport,
    PartitionReport,
)
from reddit_assets.report.picture import COLOURS, markdown_image, render_html, render_svg, status_line
from reddit_assets.report.text import render_markdown, render_text, summary_line

DAY = dt.date(2026, 12, 2)


NOT_DUE_YET = Cell(NOT_DUE, reason="due from 2026-12-04T12:00+00:00 (36 h after the day)")


def _row(name, scraped, loaded, archived, checks=None, date=DAY, category="top", second_pass=NOT_DUE_YET):
    cells = {"scraped": scraped, "loaded": loaded, "archived": archived, "second pass": second_pass}
    return PartitionReport(date, name, category, cells, checks or {})


def _done_row(name, submissions, comments, date=DAY):
    return _row(
        name,
        Cell(
            DONE,
            {
                "submissions": submissions,
                "comments": comments,
                "api_requests": 7,
                "waits_429": 1,
                "late_snapshot": False,
            },
        ),
        Cell(DONE, {"submission_rows": submissions, "comment_rows": comments}),
        Cell(
            DONE,
            {"object_key": f"daily_scrapes/{name}/{date}/{name}_{date}.zip", "uploaded": True, "archive_bytes": 1000},
        ),
        {"reddit/raw_scrape:raw_file_matches_counts": "succeeded"},
        date=date,
    )


def test_overall_state_follows_the_worst_branch_and_the_checks():
    assert _done_row("a1", 3, 4).state == "complete"
    off = _done_row("a2", 3, 4)
    off.cells["archived"] = Cell(OFF, reason="off by flag")
    assert off.state == "complete"
    failing_check = _done_row("a3", 3, 4)
    failing_check.checks["reddit/r2_archive:archive_matches_manifest"] = "failed"
    assert failing_check.state == "failed"
    partial = _done_row("a4", 3, 4)
    partial.cells["archived"] = Cell(NOT_RUN, reason="not run yet")
    assert partial.state == "partial"
    gone = _row("a5", Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE))
    assert gone.state == "cannot be scraped any more"
    broken = _row("a6", Cell(FAILED, run_id="r1", reason="failed in run r1"), Cell(NOT_RUN), Cell(NOT_RUN))
    assert broken.state == "failed"


def test_totals_sum_the_subreddits_and_count_partitions_per_state():
    day = DayReport(
        DAY,
        [
            _done_row("a1", 3, 4),
            _done_row("b2", 5, 6),
            _row("c3", Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE)),
        ],
    )
    totals = day.totals()
    assert totals["submissions"] == 8 and totals["comments"] == 10 and totals["api_requests"] == 14
    assert totals["waits_429"] == 2 and totals["submission_rows"] == 8 and totals["archive_bytes"] == 2000
    assert totals["partitions_complete"] == 2 and totals["partitions_cannot_scrape"] == 1
    assert all(isinstance(v, int) for v in totals.values())
    assert not day.complete
    assert summary_line(day) == (
        f"{DAY}: INCOMPLETE, 2 of 3 subreddit(s) scraped, loaded and archived; 1 cannot be scraped any more"
    )


def test_text_and_markdown_say_what_each_branch_holds_or_why_not():
    broken = _row(
        "c3",
        Cell(FAILED, run_id="r1", reason="failed in run r1"),
        Cell(NOT_RUN, reason="not run yet: waits for the raw file"),
        Cell(NOT_RUN, reason="not run yet: waits for the raw file"),
    )
    day = DayReport(DAY, [_done_row("a1", 3, 4), broken])
    text = render_text([day])
    assert "a1 (top): complete\n  scraped:   3 submissions, 4 comments, 7 requests, 1 429 waits\n" in text
    assert "  loaded:    3 submission + 4 comment rows\n" in text
    assert f"  archived:  uploaded, 1000 bytes, daily_scrapes/a1/{DAY}/a1_{DAY}.zip\n" in text
    assert "c3 (top): failed\n  scraped:   failed in run r1\n  loaded:    not run yet: waits for the raw file\n" in text
    assert text.endswith(f"{DAY}: INCOMPLETE, 1 of 2 subreddit(s) scraped, loaded and archived")
    table = render_markdown(day).splitlines()
    assert table[0] == "| subreddit | category | state | scraped | loaded | archived | second pass | checks |"
    assert table[3].startswith("| c3 | top | failed | failed in run r1 | not run yet: waits for the raw file |")


def test_picture_colours_each_cell_by_state_and_writes_its_count():
    past = DayReport(
        DAY - dt.timedelta(days=1),
        [_row("a1", Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE), date=DAY - dt.timedelta(days=1))],
    )
    today = DayReport(DAY, [_done_row("a1", 25, 4)])
    svg = render_svg([today, past])  # any order: the oldest day is drawn first
    cells = re.findall(
        r'<rect x="[\d.]+" y="[\d.]+" width="44" height="24" fill="(#[0-9a-f]+)"/><text [^>]*>([^<]*)</text>', svg
    )
    assert cells == [(COLOURS["cannot be scraped any more"][0], "×"), (COLOURS["complete"][0], "25")]
    assert svg.index("12-01") < svg.index("12-02")
    image = markdown_image(svg, "grid")
    assert base64.b64decode(image.removeprefix("![grid](data:image/svg+xml;base64,").removesuffix(")")).decode() == svg
    assert f"<title>{DAY}|a1: complete</title>" in svg  # tooltips, for the page that inlines it
    assert "<title>" not in render_svg([today, past], titles=False)  # the UI's image shows none
    page = render_html([past, today], [today])
    assert svg in page and f"{DAY}: complete, 1 of 1" in page


def test_grid_covers_thirty_days_but_none_before_start():
    assert grid_dates(DAY, dt.date(2026, 1, 1)) == [DAY - dt.timedelta(days=n) for n in range(29, -1, -1)]
    assert grid_dates(DAY, DAY - dt.timedelta(days=2)) == [DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1), DAY]


def test_status_line_stays_short_enough_to_show_inline():
    day = DayReport(
        DAY, [_done_row("a1", 3, 4), _row("c3", Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE), Cell(CANNOT_SCRAPE))]
    )
    assert status_line(day) == "🟩 a1 3 · ▫️ c3 ×"
    many = DayReport(DAY, [_done_row(f"subreddit_{i:03d}", 3, 4) for i in range(80)] + day.rows[1:])
    assert status_line(many) == "🟩 80 complete · ▫️ 1 cannot be scraped any more"


def test_second_pass_is_shown_but_leaves_the_partitions_state_alone():
    fetched = Cell(
        DONE,
        {
            "items_returned": 40,
            "items_missing": 2,
            "removed": 3,
            "deleted": 1,
            "edited_since_scrape": 4,
            "second_pass_rows": 42,
            "second_pass_object_key": "second_pass/a1/x.zip",
        },
    )
    done = _done_row("a1", 3, 4)
    done.cells["second pass"] = fetched
    due = _done_row("a2", 3, 4)
    due.cells["second pass"] = Cell(NOT_RUN, reason="due, not run yet (sensor second_pass_when_due)")
    failed = _done_row("a3", 3, 4)
    failed.cells["second pass"] = Cell(FAILED, reason="failed in run r9")
    assert [row.state for row in (done, due, failed)] == ["complete"] * 3  # status's exit code stays as it was
    text = render_text([DayReport(DAY, [done, due, failed])])
    assert (
        "  second pass: 40 items fetched again (2 gone), 3 removed, 1 deleted, 4 edited since the scrape; "
        "42 rows, archived second_pass/a1/x.zip\n"
    ) in text
    assert "  second pass: due, not run yet (sensor second_pass_when_due)\n" in text
    assert "  second pass: failed in run r9\n" in text
    assert "second pass: due from 2026-12-04T12:00+00:00 (36 h after the day)" in render_text(
        [DayReport(DAY, [_done_row("a4", 3, 4)])]
    )
    totals = DayReport(DAY, [done]).totals()
    assert (totals["items_returned"], totals["removed"], totals["deleted"]) == (40, 3, 1)
