"""reddit/daily_report as a user sees it in the Dagster UI (headless Chromium): the day's
totals, the table per subreddit and the subreddit x day picture, on an instance where one
subreddit is complete, one not run yet and past snapshot days cannot be scraped any more.
Screenshots go to test-artifacts/screenshots/. Without Chromium the tests skip; with CI=true they fail."""

from __future__ import annotations

import datetime as dt
import os
from types import SimpleNamespace

import dagster as dg
import pytest

from reddit_assets import resources
from reddit_assets.assets.daily_report import DAILY_REPORT
from reddit_assets.report.picture import COLOURS
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.browser.chromium import Chromium, find_chromium
from reddit_assets_tests.browser.webserver import dagster_webserver
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, materialization_metadata, run_job
from reddit_assets_tests.report.picture_cells import picture_cells
from reddit_assets_tests.test_browser import UI

pytestmark = [pytest.mark.slow, pytest.mark.integration]

TODAY = utc_today()
START = TODAY - dt.timedelta(days=2)
SUBREDDITS = [
    {"name": "CreditCardsIndia", "category": "t", "n_results": 12, "comments": 3},
    {"name": "dataengineering", "category": "hot", "n_results": 5},
    {"name": "python", "category": "new", "n_results": 7, "comments": "none"},
]
SCRAPED = ["CreditCardsIndia", "python"]  # today; dataengineering is left not run yet


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    binary = find_chromium()
    if binary is None:
        reason = "no Chromium on PATH (apt-get install chromium, or set CHROMIUM=/path/to/chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: the browser tests are required in CI")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-ui")
    home = root / "dagster_home"
    (home / ".nux").mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    with (
        RedditServer(day=TODAY, auto_create=True) as server,
        pytest.MonkeyPatch.context() as mp,
    ):
        defs = configure(mp, root, reddit_url=server.url, subreddits=SUBREDDITS, start_date=START.isoformat())
        mp.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for name in SCRAPED:
                assert run_job(defs, "daily_scrape_job", TODAY, name, instance).success, name
            assert dg.materialize(
                [defs.get_assets_def(DAILY_REPORT)],
                partition_key=TODAY.isoformat(),
                instance=instance,
                resources=resources.build_resources(),
            ).success
            raw = {name: materialization_metadata(instance, "reddit/raw_scrape", f"{TODAY}|{name}") for name in SCRAPED}
        env = dict(os.environ)
    return SimpleNamespace(root=root, env=env, raw=raw)


@pytest.fixture(scope="module")
def ui(chromium_binary, reported):
    with (
        dagster_webserver(reported.env, reported.root / "webserver.log", timeout=240) as base_url,
        Chromium(chromium_binary) as browser,
    ):
        yield UI(browser, base_url)


_DRAWN = "[...document.querySelectorAll('img')].some(i => i.src.startsWith('data:image/svg+xml') && i.naturalWidth > 0)"


def test_daily_report_partition_shows_totals_table_and_picture(ui, reported):
    ui.open(
        f"/assets/reddit/daily_report?view=partitions&partition={TODAY}",
        "Metadata",
        "partitions_complete",
        "picture",
        "CreditCardsIndia",
        shot="daily_report-partition",
    )
    rows = ui.rows()
    shown = {row[0]: row[1] for row in rows if len(row) >= 2}
    submissions = sum(reported.raw[name]["submissions"] for name in SCRAPED)
    comments = sum(reported.raw[name]["comments"] for name in SCRAPED)
    assert shown["submissions"] == str(submissions) == "19"
    assert shown["comments"] == str(comments)
    assert shown["submission_rows"] == "19" and shown["comment_rows"] == str(comments)
    assert shown["partitions_complete"] == "2" and shown["partitions_not_run"] == "1"
    assert shown["complete"] == "false"

    assert shown["status"] == "🟩 CreditCardsIndia 12 · ⬜ dataengineering – · 🟩 python 7"  # inline, in colour

    # The report's Markdown table renders as a table: one row per subreddit with its state.
    header = next(row for row in rows if row[:3] == ["subreddit", "category", "state"])
    assert "second pass" in header, header
    table = [dict(zip(header, row)) for row in rows if len(row) == len(header) and row != header]
    states = {row["subreddit"]: row["state"] for row in table}
    assert states == {"CreditCardsIndia": "complete", "dataengineering": "not run yet", "python": "complete"}
    # Today's day is too young for its second pass: the column says when it is due.
    assert all(row["second pass"].startswith("due from ") for row in table), table

    # The picture: the UI shows Markdown of 1000 characters or more behind "[Show Markdown]", in a dialog,
    # where the image is drawn, with a cell per subreddit per day.
    ui.browser.evaluate(
        "[...document.querySelectorAll('tr')].find(tr => tr.innerText.startsWith('picture')).querySelector('a').click()"
    )
    ui.wait("subreddit", until=lambda text: ui.browser.evaluate(_DRAWN), shot="daily_report-picture")
    images = ui.browser.evaluate(
        "[...document.querySelectorAll('img')].filter(i => i.src.startsWith('data:image/svg+xml'))"
        ".map(i => ({src: i.src, width: i.naturalWidth, shown: i.getBoundingClientRect().width}))"
    )
    assert len(images) == 1, images
    assert images[0]["width"] > 200 and images[0]["shown"] > 100, images
    cells = picture_cells(images[0]["src"])
    assert len(cells) == 3 * 3  # 3 subreddits x 3 days (start_date is two days ago)
    by_row = [cells[i : i + 3] for i in range(0, 9, 3)]  # per subreddit, oldest day first
    cannot = (COLOURS["cannot be scraped any more"][0], "×")
    not_run = (COLOURS["not run yet"][0], "–")
    assert by_row[0] == [cannot, cannot, (COLOURS["complete"][0], "12")]
    assert by_row[1] == [cannot, cannot, not_run]
    assert by_row[2] == [not_run, not_run, (COLOURS["complete"][0], "7")]


def test_daily_report_overview_plots_one_point_per_day(ui):
    ui.open("/assets/reddit/daily_report?view=overview", "Description", "Plots", shot="daily_report-overview")
    ui.browser.click_text("Plots")
    ui.wait("partitions_complete", "submissions", shot="daily_report-plots")
    assert ui.browser.evaluate("document.querySelectorAll('canvas').length") >= 5
