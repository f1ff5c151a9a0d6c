"""redraw_later_pictures: a past day imported after the later days were reported is redrawn
in their pictures (the rule on hand-made records, then on a real instance: import, report,
sensor, the run it asks for, the newest picture read back)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from reddit_assets import resources
from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.automation.report_redraw_sensor import (
    REDRAW_TAG,
    Drawn,
    build_report_redraw_sensor,
    day_ranges,
    days_to_redraw,
)
from reddit_assets.config import load_config
from reddit_assets.migrate.importer import import_directory
from reddit_assets.report.picture import COLOURS
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, materialization_metadata
from reddit_assets_tests.migrate.test_import import our_document, write_ours
from reddit_assets_tests.report.picture_cells import picture_cells

D = dt.date(2026, 3, 1)


def _day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_later_days_drawn_before_the_change_are_redrawn_within_the_picture():
    reported = {_day(n) for n in range(40)}
    new = [Drawn(_day(0), 10, "import-report", redraw=False)]
    assert days_to_redraw(new, reported) == [_day(n) for n in range(1, 30)]  # 29 later days show day 0
    assert days_to_redraw(new, reported - {_day(5)}) == [_day(n) for n in range(1, 30) if n != 5]


def test_days_drawn_after_or_with_the_change_and_redraws_set_nothing_off():
    reported = {_day(n) for n in range(5)}
    same_run = [Drawn(_day(n), 10 + n, "range-run", redraw=False) for n in range(5)]
    assert days_to_redraw(same_run, reported) == []
    later = [Drawn(_day(0), 10, "a", redraw=False), Drawn(_day(2), 11, "b", redraw=False)]
    assert days_to_redraw(later, reported) == [_day(1), _day(3), _day(4)]
    assert days_to_redraw([Drawn(_day(0), 10, "redraw", redraw=True)], reported) == []


def test_day_ranges_are_consecutive_and_bounded():
    days = [_day(n) for n in (1, 2, 3, 7, 8)]
    assert day_ranges(days) == [(_day(1), _day(3)), (_day(7), _day(8))]
    assert day_ranges([_day(n) for n in range(5)], most=2) == [
        (_day(0), _day(1)),
        (_day(2), _day(3)),
        (_day(4), _day(4)),
    ]


def _picture_cells(instance: dg.DagsterInstance, day: dt.date) -> list[tuple[str, str]]:
    """The (colour, text) cells of `day`'s picture, as drawn in its materialization."""
    return picture_cells(materialization_metadata(instance, "reddit/daily_report", day.isoformat())["picture"])


def test_an_imported_past_day_shows_in_the_newest_picture(monkeypatch, tmp_path):
    today = utc_today()
    past = today - dt.timedelta(days=2)
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",  # nothing here calls Reddit
        subreddits=[{"name": "CreditCardsIndia", "category": "top", "n_results": 6, "comments": "none"}],
        start_date=past.isoformat(),
    )
    report = defs.get_assets_def(DAILY_REPORT)
    sensor = build_report_redraw_sensor()

    def materialize(**kwargs):
        return dg.materialize([report], instance=instance, resources=resources.build_resources(), **kwargs)

    with dg.instance_for_test() as instance:
        for day in (past, past + dt.timedelta(days=1), today):
            assert materialize(partition_key=day.isoformat()).success
        cannot = (COLOURS["cannot be scraped any more"][0], "×")
        assert _picture_cells(instance, today)[0] == cannot
        first = sensor(dg.build_sensor_context(instance=instance))
        assert first.run_requests == []  # every picture was drawn after the days it shows

        write_ours(tmp_path / "old" / "CreditCardsIndia.json", our_document("CreditCardsIndia", past))
        imported = import_directory(
            tmp_path / "old", config=load_config(), data_dir=tmp_path / "data", instance=instance
        )
        assert imported.exit_code == 0
        assert materialize(partition_key=past.isoformat()).success  # what report_settled_days does
        assert _picture_cells(instance, today)[0] == cannot  # the newest picture is stale

        redraw = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert len(redraw.run_requests) == 1
        tags = redraw.run_requests[0].tags
        assert tags[REDRAW_TAG] == "true"
        assert redraw.run_requests[0].partition_key_range == dg.PartitionKeyRange(
            (past + dt.timedelta(days=1)).isoformat(), today.isoformat()
        )
        assert materialize(tags=tags).success
        assert _picture_cells(instance, today)[0] == (COLOURS["partial"][0], "6")  # scraped, not loaded here

        again = sensor(dg.build_sensor_context(instance=instance, cursor=redraw.cursor))
        assert again.run_requests == []  # its own redraw sets nothing off
