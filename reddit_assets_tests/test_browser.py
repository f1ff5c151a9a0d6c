"""The Dagster UI as a user sees it: the real webserver over a materialized instance, in headless Chromium.

Three of today's partitions of all four assets are materialized with the real `defs`
(real PRAW against the demo Reddit server), then `dagster-webserver -w workspace.yaml`
serves that DAGSTER_HOME and Chromium reads the pages. Screenshots of every page go to
test-artifacts/screenshots/. Without Chromium the tests skip; with CI=true they fail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.browser.chromium import Chromium, find_chromium
from reddit_assets_tests.browser.webserver import ROOT, dagster_webserver
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, run_job

pytestmark = [pytest.mark.slow, pytest.mark.integration]

TODAY = utc_today()
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SUBREDDITS = [
    {"name": "CreditCardsIndia", "category": "t", "n_results": 25},
    {"name": "dataengineering", "category": "hot", "n_results": 20, "comments": 10},
    {"name": "python", "category": "new", "n_results": 15},
]
SHOWN = "CreditCardsIndia"  # the partition whose pages the tests open
GROUPS = {"raw_scrape": "scrape", "submissions": "database", "comments": "database", "r2_archive": "archive"}
# Partitioned by date x subreddit too, in group second_pass.
SECOND_PASS_ASSETS = ["second_pass", "second_pass_table", "second_pass_archive"]
KINDS = ["Reddit", "json", "SQLite", "Table", "zip", "Parquet", "local"]
RAW_METADATA = [
    "submissions",
    "comments",
    "api_requests",
    "rate_limited",
    "bytes",
    "sha256",
    "path",
    "late_snapshot",
    "comment_trees_unavailable",
    "top_posts",
]


def _key(name: str) -> str:
    return f"{TODAY.isoformat()}|{name}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
def materialized(tmp_path_factory):
    """A DAGSTER_HOME holding today's partitions of all four assets for SUBREDDITS; the
    environment that made them (the webserver needs the same)."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    (home / ".nux").mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # A user who has dismissed Dagster's "join the community" dialog once; it would cover the pages.
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    with (
        RedditServer(
            day=TODAY, auto_create=True, generator_kwargs={"n_submissions": 30, "comments_per_submission": (0, 60)}
        ) as server,
        pytest.MonkeyPatch.context() as mp,
    ):
        defs = configure(
            mp,
            root,
            reddit_url=server.url,
            subreddits=SUBREDDITS,
            start_date=(TODAY - dt.timedelta(days=6)).isoformat(),
        )
        mp.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for entry in SUBREDDITS:
                result = run_job(defs, "daily_scrape_job", TODAY, entry["name"], instance)
                assert result.success, f"materializing {_key(entry['name'])} failed"
        env = dict(os.environ)
    return SimpleNamespace(root=root, data=root / "data", env=env)


class UI:
    """The browser on the webserver: open a page, wait until it shows what it should, screenshot it."""

    def __init__(self, browser: Chromium, base_url: str):
        self.browser = browser
        self.base_url = base_url

    def open(self, path: str, *needles: str, shot: str, until=None, timeout: float = 30) -> str:
        """Go to `path`, wait until every needle is on the page, save `<shot>.png`; the page text."""
        self.browser.goto(self.base_url + path)
        return self.wait(*needles, shot=shot, until=until, timeout=timeout)

    def wait(self, *needles: str, shot: str, until=None, timeout: float = 30) -> str:
        try:
            text = self.browser.wait_for_text(*needles, until=until, timeout=timeout)
        except AssertionError:
            self.browser.screenshot(SCREENSHOTS / f"{shot}-FAILED.png")
            raise
        time.sleep(0.5)  # let late layout (graph edges, charts) settle before the picture
        self.browser.screenshot(SCREENSHOTS / f"{shot}.png")
        return text

    def rows(self) -> list[list[str]]:
        """Every table row on the page as its cells' text."""
        return self.browser.evaluate(
            "[...document.querySelectorAll('tr')].map(tr => [...tr.children].map(td => td.innerText.trim()))"
        )


@pytest.fixture(scope="module")
def ui(chromium_binary, materialized):
    with (
        dagster_webserver(materialized.env, materialized.root / "webserver.log") as base_url,
        Chromium(chromium_binary) as browser,
    ):
        yield UI(browser, base_url)


def _partition_path(asset: str, name: str) -> str:
    return f"/assets/reddit/{asset}?view=partitions&partition={urllib.parse.quote(_key(name), safe='')}"


def _metadata(rows: list[list[str]], keys: list[str]) -> dict[str, str]:
    return {row[0]: row[1] for row in rows if len(row) >= 2 and row[0] in keys}


def test_catalog_lists_the_four_assets_in_their_groups(ui):
    def statuses_loaded(text):
        """every row's partition status has loaded (21 partitions: 7 days x 3 subreddits)"""
        return text.count(f"{7 * len(SUBREDDITS)} partitions") == len(GROUPS) + len(SECOND_PASS_ASSETS)

    ui.open("/assets", *(f"reddit / {name}" for name in GROUPS), shot="catalog", until=statuses_loaded)
    # Each asset's row: the nearest element around its link that also names the code location.
    rows = ui.browser.evaluate("""(() => {
        const out = {};
        for (const a of document.querySelectorAll('a[href*="/assets/reddit/"]')) {
            let row = a;
            while (row && !row.innerText.includes('reddit_assets')) row = row.parentElement;
            if (row) out[a.getAttribute('href').split('/').pop().split('?')[0]] = row.innerText.split('\\n').map(s => s.trim());
        }
        return out;
    })()""")
    for name, group in GROUPS.items():
        assert name in rows, f"no catalog row for reddit/{name}: {sorted(rows)}"
        assert group in rows[name], f"reddit/{name} not shown in group {group!r}: {rows[name]}"
        assert any(len(line) > 30 for line in rows[name]), f"reddit/{name} shows no description: {rows[name]}"


def test_lineage_graph_shows_groups_assets_and_kinds(ui):
    ui.open("/asset-groups", "Global asset lineage", *set(GROUPS.values()), shot="lineage-groups")
    ui.browser.press("e", "KeyE", 69, modifiers=1)  # the graph's "Expand all groups" (⌥E)

    def every_node_loaded(text):
        """each of the 7 date x subreddit asset nodes shows its 21 partitions (7 days x 3 subreddits)"""
        count = text.count(f"{7 * len(SUBREDDITS)} partitions")
        return count == len(GROUPS) + len(SECOND_PASS_ASSETS) and "Loading..." not in text

    text = ui.wait(*GROUPS, *KINDS, shot="lineage-expanded", until=every_node_loaded)
    assert "expanded=" in ui.browser.evaluate("location.search")
    # ... and reddit/daily_report (group report, by date)
    assert text.count("Latest event") == len(GROUPS) + len(SECOND_PASS_ASSETS) + 1


def test_raw_scrape_partition_shows_counts_checksum_path_and_top_posts(ui, materialized):
    raw_path = materialized.data / "scrapes" / TODAY.isoformat() / f"{SHOWN}.json"
    raw = json.loads(raw_path.read_text())
    ui.open(
        _partition_path("raw_scrape", SHOWN),
        _key(SHOWN),
        "Materialized",
        "Metadata",
        *RAW_METADATA,
        shot="raw_scrape-partition",
    )
    rows = ui.rows()
    shown = _metadata(rows, RAW_METADATA)
    assert shown["submissions"] == str(len(raw["submissions"])) == "25"
    assert shown["comments"] == str(len(raw["comments"]))
    assert shown["api_requests"] == str(raw["api_requests"])
    assert shown["sha256"] == _sha256(raw_path)
    assert shown["path"] == str(raw_path)
    assert shown["late_snapshot"] == "false" and shown["comment_trees_unavailable"] == "0"

    # top_posts is rendered Markdown: a real table (header + 5 rows), highest score first.
    assert "| score |" not in ui.browser.text()
    header = rows.index(["score", "comments", "title", "author"])
    posts = rows[header + 1 : header + 6]
    best = sorted(raw["submissions"], key=lambda s: s["score"], reverse=True)
    assert [p[0] for p in posts] == [str(s["score"]) for s in best[:5]]
    title = " ".join(best[0]["title"].split())
    assert posts[0][2] == (title if len(title) <= 80 else title[:79] + "…")
    assert posts[0][3] == best[0]["author"]


def test_r2_archive_partition_shows_object_key_and_link(ui, materialized):
    object_key = f"daily_scrapes/{SHOWN}/{TODAY}/{SHOWN}_{TODAY}.zip"
    stored = materialized.data / "r2" / object_key
    ui.open(
        _partition_path("r2_archive", SHOWN), _key(SHOWN), "Metadata", "object_key", "url", shot="r2_archive-partition"
    )
    shown = _metadata(ui.rows(), ["object_key", "uploaded", "sha256", "url", "bytes"])
    assert shown["object_key"] == object_key
    assert shown["uploaded"] == "true"
    assert shown["sha256"] == _sha256(stored) and shown["bytes"] == str(stored.stat().st_size)
    hrefs = [link["href"] for link in ui.browser.links()]
    assert stored.as_uri() in hrefs, f"no link to {stored.as_uri()} among {hrefs}"


def test_raw_scrape_overview_describes_the_asset_and_plots_numeric_metadata(ui):
    # description, group, owner, kinds and job, each as the overview lays it out
    ui.open(
        "/assets/reddit/raw_scrape?view=overview",
        "Description\nOne subreddit's listing",
        "as Reddit returned them",
        "Group\nscrape",
        "Owners\ndata-engineering",
        "Kinds\njson\nReddit",
        "Jobs\ndaily_scrape_job",
        "Plots",
        shot="raw_scrape-overview",
    )
    ui.browser.click_text("Plots")
    ui.wait("When graphing values by partition", "api_requests", "bytes", shot="raw_scrape-plots")
    charts = ui.browser.evaluate("document.querySelectorAll('canvas').length")
    assert charts >= 5, (
        f"{charts} charts for the numeric metadata (submissions, comments, api_requests, rate_limited, bytes)"
    )
