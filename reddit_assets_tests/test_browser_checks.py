"""Per-partition check results after batched range runs, as the UI and GraphQL show them.

A DAGSTER_HOME gets database_only_job runs over a range of days per subreddit, tagged as a
batched backfill tags them: `clean` loads and checks clean, `planted` has one partition whose
rows are deleted after its load (its row checks, run again, fail alone), and `broken`
has a truncated raw file on its third day (the run fails halfway). Then the real webserver
serves that instance: GraphQL and headless Chromium read each partition's status.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_demo.dagster_api import graphql
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.browser.chromium import Chromium
from reddit_assets_tests.browser.webserver import dagster_webserver
from reddit_assets_tests.harness import configure
from reddit_assets_tests.test_browser import UI, chromium_binary  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.integration]
REPO_ROOT = Path(__file__).resolve().parents[1]

# The date dimension runs from START to tomorrow (end_offset=1), so the share of partitions
# the lineage graph reads as filled depends on how far START lies from today. START = today - 39
# days gives 41 days x 3 subreddits: 10 loaded partitions read "8%" (8.1%) whether the UI rounds
# or truncates, on any date.
START = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=39)
FILLED = "8% filled (2 failed)"
DAYS = [START + dt.timedelta(days=i) for i in range(4)]
NAMES = ["clean", "planted", "broken"]
PLANTED = f"{DAYS[1]}|planted"
BROKEN_FROM = 2  # broken's days from this index on never load


def _key(day: dt.date, name: str) -> str:
    return f"{day.isoformat()}|{name}"


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    root = tmp_path_factory.mktemp("checks-ui")
    home = root / "dagster_home"
    (home / ".nux").mkdir(parents=True)
    # The repository's local instance (what `make demo` uses): events written in batches.
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    with pytest.MonkeyPatch.context() as mp:
        defs = configure(
            mp,
            root,
            reddit_url="http://127.0.0.1:9",  # never called
            subreddits=[{"name": n, "category": "new"} for n in NAMES],
            start_date=START.isoformat(),
        )
        mp.setenv("DAGSTER_HOME", str(home))
        for day in DAYS:
            for name in NAMES:
                document = generated_raw_document(
                    name, day, n_submissions=3, comments_per_submission=(1, 4), popular_threads=0
                )
                path = raw_file_path(root / "data", day, name)
                write_raw_file(path, document)
                if name == "broken" and day == DAYS[BROKEN_FROM]:
                    path.write_text('{"cut off": ')
        job = defs.resolve_job_def("database_only_job")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            outcomes = {
                name: job.execute_in_process(
                    instance=instance,
                    raise_on_error=False,
                    tags={
                        "dagster/asset_partition_range_start": _key(DAYS[0], name),
                        "dagster/asset_partition_range_end": _key(DAYS[-1], name),
                    },
                ).success
                for name in NAMES
            }
            assert outcomes == {"clean": True, "planted": True, "broken": False}
            # Rows lost after the load: the row checks, run again over planted's range, fail for it alone.
            engine = sa.create_engine(f"sqlite:///{root / 'data' / 'reddit.db'}")
            with engine.begin() as conn:
                for table in ("reddit_submissions", "reddit_comments"):
                    conn.execute(
                        sa.text(f"DELETE FROM {table} WHERE scrape_date = :d AND subreddit = 'planted'"),
                        {"d": DAYS[1].isoformat()},
                    )
            engine.dispose()
            row_checks = dg.AssetSelection.checks(
                *(
                    dg.AssetCheckKey(dg.AssetKey(["reddit", a]), "rows_match_raw_file")
                    for a in ("submissions", "comments")
                )
            )
            checks = dg.define_asset_job("row_checks", selection=row_checks).resolve(
                asset_graph=defs.get_repository_def().asset_graph
            )
            rechecked = checks.execute_in_process(
                instance=instance,
                resources=defs.resources,
                raise_on_error=False,
                tags={
                    "dagster/asset_partition_range_start": _key(DAYS[0], "planted"),
                    "dagster/asset_partition_range_end": _key(DAYS[-1], "planted"),
                },
            )
            failed = {
                (asset, record.partition)
                for asset in ("submissions", "comments")
                for record in instance.event_log_storage.get_asset_check_execution_history(
                    dg.AssetCheckKey(dg.AssetKey(["reddit", asset]), "rows_match_raw_file"), limit=100
                )
                if record.run_id == rechecked.run_id and record.status.value == "FAILED"
            }
            assert failed == {("submissions", PLANTED), ("comments", PLANTED)}
        env = dict(os.environ)
    return SimpleNamespace(root=root, env=env)


@pytest.fixture(scope="module")
def server(ranged):
    with dagster_webserver(ranged.env, ranged.root / "webserver.log", timeout=300) as base_url:
        yield base_url


_STATUSES = """
query Statuses($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on MultiPartitionStatuses {
          ranges { primaryDimStartKey primaryDimEndKey
            secondaryDim { ... on DefaultPartitionStatuses { materializedPartitions failedPartitions } } }
        }
      }
      assetChecksOrError {
        ... on AssetChecks { checks { name partitionStatuses {
          ... on AssetCheckMultiPartitionStatuses {
            ranges { primaryDimStartKey primaryDimEndKey secondaryDim {
              ... on AssetCheckDefaultPartitionStatuses {
                succeededPartitions failedPartitions inProgressPartitions skippedPartitions executionFailedPartitions
              } } }
          } } } }
      }
    }
  }
}"""


def _expand(ranges, fields) -> dict[str, set[str]]:
    """{field: partition keys} from Dagster's 2-D run-length encoded statuses (date ranges x subreddits)."""
    out = {field: set() for field in fields}
    for r in ranges:
        start, end = dt.date.fromisoformat(r["primaryDimStartKey"]), dt.date.fromisoformat(r["primaryDimEndKey"])
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        for field in fields:
            out[field] |= {_key(day, name) for day in days for name in r["secondaryDim"].get(field, [])}
    return out


@pytest.mark.parametrize("asset", ["submissions", "comments"])
def test_graphql_shows_each_partition_loaded_failed_and_checked(server, asset):
    node = graphql(server, _STATUSES, {"key": {"path": ["reddit", asset]}})["assetNodeOrError"]
    statuses = _expand(node["assetPartitionStatuses"]["ranges"], ["materializedPartitions", "failedPartitions"])
    loaded = {_key(d, n) for d in DAYS for n in NAMES} - {_key(d, "broken") for d in DAYS[BROKEN_FROM:]}
    assert statuses["materializedPartitions"] == loaded
    assert statuses["failedPartitions"] == {_key(d, "broken") for d in DAYS[BROKEN_FROM:]}

    [check] = node["assetChecksOrError"]["checks"]
    fields = ["succeededPartitions", "failedPartitions", "inProgressPartitions", "skippedPartitions"]
    checks = _expand(check["partitionStatuses"]["ranges"], [*fields, "executionFailedPartitions"])
    examined = {_key(d, n) for d in DAYS for n in ("clean", "planted")}
    assert checks["failedPartitions"] == {PLANTED}
    assert checks["succeededPartitions"] == examined - {PLANTED}
    assert checks["inProgressPartitions"] == set()
    # The failed run's check step never ran: none of its partitions shows a result (pass or fail).
    assert not (checks["skippedPartitions"] | checks["executionFailedPartitions"]) & examined


def _click_last(browser: Chromium, text: str) -> None:
    """Click the last visible tab or button reading `text` (the check's own tab, after the asset's)."""
    clicked = browser.evaluate(
        f"""(() => {{
            const hits = [...document.querySelectorAll('button, a, [role=tab]')]
                .filter(el => el.innerText && el.innerText.trim() === {text!r} && el.offsetParent !== null);
            if (!hits.length) return false;
            hits[hits.length - 1].click();
            return true;
        }})()"""
    )
    assert clicked, f"no {text!r} to click"


def test_check_partitions_tab_shows_passed_and_the_planted_failure(server, chromium_binary):  # noqa: F811
    with Chromium(chromium_binary) as browser:
        ui = UI(browser, server)
        ui.open(
            "/assets/reddit/comments?view=checks&checkDetail=rows_match_raw_file",
            "rows_match_raw_file",
            "Execution history",
            shot="check-rows-match-raw-file",
        )
        _click_last(browser, "Partitions")
        # 4 days x {clean, planted} examined; broken's run failed before its check step ran.
        text = ui.wait("Passed (7)", shot="check-rows-match-raw-file-partitions", timeout=60)
        assert "Failed (1)" in text and "Skipped (0)" in text and "In Progress (0)" in text
        assert "Execution Failed (4)" in text

        ui.open("/asset-groups", "Global asset lineage", shot="lineage-checks")
        browser.press("e", "KeyE", 69, modifiers=1)  # expand all groups (Alt+E)
        text = ui.wait(
            "submissions",
            "comments",
            shot="lineage-checks-expanded",
            until=lambda text: "Loading..." not in text,
            timeout=120,
        )
        # Both database assets' nodes show the failed run's two unfinished partitions as failed. (Their
        # check summary reads "0 / 1 Passed": Dagster rolls a partitioned check up as not passing while
        # any partition failed, which the planted one did.)
        assert text.count(FILLED) == 2, text
