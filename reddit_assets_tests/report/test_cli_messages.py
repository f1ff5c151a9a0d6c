"""`reddit-assets materialize` run as a user runs it: the exact messages for missing Reddit
credentials and for every way a partition key can be bad, before Dagster starts."""

import datetime as dt
import os
import subprocess

import pytest

from reddit_assets_tests.harness import CLI

TODAY = dt.datetime.now(dt.UTC).date()
START = TODAY - dt.timedelta(days=10)
NAMES = "CreditCardsIndia, python"
VALID = f"valid dates are {START} (start_date) to {TODAY} (today, UTC)"
HEADER = "reddit-assets materialize: bad partition key {key!r}: a partition key is YYYY-MM-DD|subreddit, e.g. {start}|CreditCardsIndia (or give DATE and SUBREDDIT as two arguments)"


@pytest.fixture
def env(tmp_path):
    config = tmp_path / "subreddits.yaml"
    config.write_text(
        f'start_date: "{START}"\nsubreddits:\n  - {{name: CreditCardsIndia, category: t}}\n  - {{name: python, category: new}}\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DAGSTER_"))}
    return clean | {
        "REDDIT_ASSETS_CONFIG": str(config),
        "REDDIT_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(home),
    }


def _materialize(env, *args):
    return subprocess.run([str(CLI), "materialize", *args], env=env, capture_output=True, text=True, timeout=120)


def test_missing_credentials_are_named_with_where_to_set_them(env):
    done = _materialize(env | {"REDDIT_USER_AGENT": "me"}, str(TODAY), "CreditCardsIndia")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "reddit-assets materialize: Reddit credentials missing: REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET not set.\n"
        '  Set them to a Reddit app\'s id, secret and a user agent (README.md, "Environment"), '
        "or run `make demo` to try everything against a local Reddit-compatible server.\n"
    )


@pytest.mark.parametrize(
    "args,key,problems",
    [
        (
            ["yesterday|nope"],
            "yesterday|nope",
            [
                f"date 'yesterday' is not a date YYYY-MM-DD; {VALID}",
                f"subreddit 'nope' is not in the config file; configured: {NAMES}",
            ],
        ),
        ([str(TODAY), "nope"], f"{TODAY}|nope", [f"subreddit 'nope' is not in the config file; configured: {NAMES}"]),
        (
            [str(TODAY), "PYTHON"],
            f"{TODAY}|PYTHON",
            [
                "subreddit 'PYTHON' is not in the config file (did you mean python? names are written as in the "
                f"config file); configured: {NAMES}"
            ],
        ),
        (
            [str(START - dt.timedelta(days=1)), "python"],
            f"{START - dt.timedelta(days=1)}|python",
            [f"date {START - dt.timedelta(days=1)} is before start_date; {VALID}"],
        ),
        (
            [str(TODAY + dt.timedelta(days=1)), "python"],
            f"{TODAY + dt.timedelta(days=1)}|python",
            [f"date {TODAY + dt.timedelta(days=1)} is in the future; {VALID}"],
        ),
        (["2026-02-30", "python"], "2026-02-30|python", [f"date '2026-02-30' is not a real day; {VALID}"]),
        (["CreditCardsIndia"], "CreditCardsIndia", ["'CreditCardsIndia' does not have exactly one '|'"]),
    ],
    ids=["both-halves", "unknown-subreddit", "wrong-case", "before-start", "future", "not-a-day", "no-separator"],
)
def test_bad_partition_key_says_which_half_is_wrong_and_what_is_valid(env, args, key, problems):
    done = _materialize(env | {"REDDIT_CLIENT_ID": "i", "REDDIT_CLIENT_SECRET": "s", "REDDIT_USER_AGENT": "u"}, *args)
    assert done.returncode == 2
    expected = HEADER.format(key=key, start=START) + "".join(f"\n  {p}" for p in problems) + "\n"
    assert done.stderr == expected


def test_snapshot_category_on_a_past_day_points_to_late_snapshot(env):
    past = TODAY - dt.timedelta(days=2)
    done = _materialize(
        env | {"REDDIT_CLIENT_ID": "i", "REDDIT_CLIENT_SECRET": "s", "REDDIT_USER_AGENT": "u"},
        str(past),
        "CreditCardsIndia",
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"reddit-assets materialize: r/CreditCardsIndia uses category 'top', a snapshot of Reddit now; it cannot be "
        f"taken for {past} (today is {TODAY}).\n"
        "  Add --late-snapshot to record today's listing under that day (marked late_snapshot), or re-process an "
        "existing raw file with --only database / --only archive.\n"
    )


@pytest.mark.parametrize(
    "args,unset,message",
    [
        (
            [str(START - dt.timedelta(days=1))],
            [],
            f"{START - dt.timedelta(days=1)} is outside the partitions: {START} (start_date) to {TODAY} (today)",
        ),
        (["12/02/2026"], [], "'12/02/2026' is not a date YYYY-MM-DD"),
        (["--days", "0"], [], "--days must be 1 or more"),
        ([], ["DAGSTER_HOME"], "DAGSTER_HOME is not set; the report reads that Dagster instance's records"),
    ],
    ids=["before-start", "not-a-date", "no-days", "no-instance"],
)
def test_status_usage_errors_exit_2_with_one_line(env, args, unset, message):
    done = subprocess.run(
        [str(CLI), "status", *args],
        env={k: v for k, v in env.items() if k not in unset},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"reddit-assets status: {message}\n")


def test_status_reads_a_relative_dagster_home_against_the_current_directory(env, tmp_path):
    import dagster as dg

    from reddit_assets.assets.declarations import RAW_SCRAPE
    from reddit_assets.partitions import partition_key

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                RAW_SCRAPE,
                partition=str(partition_key(TODAY, "python")),
                metadata={"submissions": 3, "comments": 5, "api_requests": 2, "rate_limited": 0},
            )
        )
    done = subprocess.run(
        [str(CLI), "status", str(TODAY)],
        env=env | {"DAGSTER_HOME": "./home"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # not loaded nor archived: incomplete, read from that instance
    assert "python (new): partial\n  scraped:   3 submissions, 5 comments, 2 requests, 0 429 waits\n" in done.stdout


def test_status_with_a_dagster_home_that_is_no_folder_says_so(env, tmp_path):
    done = subprocess.run(
        [str(CLI), "status"],
        env=env | {"DAGSTER_HOME": "nope"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr
        == f"reddit-assets status: DAGSTER_HOME {tmp_path / 'nope'} is not a directory (a Dagster instance's folder)\n"
    )
