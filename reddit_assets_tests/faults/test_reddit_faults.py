"""Reddit faults injected for real by the demo server, met by real PRAW inside reddit/raw_scrape.

Where retrying can help the scrape retries (CountingRequestor for 429, prawcore for 5xx,
timeouts and dropped connections, the asset's RetryPolicy for the rest) and succeeds;
where it cannot, the run fails with a clear message. A failed scrape never leaves a raw
file, a temporary file, or a changed old file, and other partitions are unaffected.
"""

import pytest

from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_tests.faults.support import (
    RAW_SCRAPE,
    data_dir,
    failure_messages,
    key,
    raw_path,
    read_raw,
    reddit_resource,
    retry_count,
    run,
    temp_files,
    today,
    with_resources,
)
from reddit_assets_tests.harness import configure, materialization_metadata

pytestmark = pytest.mark.integration

STEP = "reddit__raw_scrape"


def _scrape(defs, name, instance, **kwargs):
    return run(defs, "daily_scrape_job", key(name), instance, asset_selection=[RAW_SCRAPE], **kwargs)


def _defs(monkeypatch, tmp_path, server, *names, **entry):
    subs = [{"name": n, "category": "top", "n_results": 10, "comments": "all", **entry} for n in names]
    return configure(monkeypatch, tmp_path, reddit_url=server.url, subreddits=subs)


def _assert_nothing_written(tmp_path, name):
    assert not raw_path(tmp_path, name).exists()
    assert temp_files(data_dir(tmp_path)) == []


def test_429_burst_is_waited_out_and_counted(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "burst")
    reddit_server.add_fault(r"/r/burst/top", status=429, times=2, retry_after=1)
    reddit_server.add_fault(r"/comments/", status=429, times=1, retry_after=1)
    result = _scrape(defs, "burst", instance)
    assert result.success
    assert retry_count(result, STEP) == 0  # waited out inside the step, no step retry
    meta = materialization_metadata(instance, "reddit/raw_scrape", key("burst"))
    assert meta["rate_limited"] == 3
    assert read_raw(tmp_path, "burst")["rate_limited"] == 3
    assert sum(1 for t in reddit_server.stats()["throttled"] if t["injected"]) == 3


def test_endless_429_fails_after_bounded_waits_and_keeps_the_old_file(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "throttled", "calm")
    assert _scrape(defs, "throttled", instance).success  # an earlier scrape of the day
    before = raw_path(tmp_path, "throttled").read_bytes()
    reddit_server.reset_stats()
    reddit_server.add_fault(r"/r/throttled/", status=429, times=None, retry_after=0)
    result = _scrape(defs, "throttled", instance)
    assert not result.success
    assert "429" in failure_messages(result, STEP)[-1]
    assert retry_count(result, STEP) == 2  # RetryPolicy(max_retries=2)
    # 1 + max_429_retries (5) listing requests per attempt, three attempts
    assert sum(1 for t in reddit_server.stats()["throttled"] if "/r/throttled/" in t["path"]) == 18
    assert raw_path(tmp_path, "throttled").read_bytes() == before  # the old file is untouched
    assert temp_files(data_dir(tmp_path)) == []
    assert _scrape(defs, "calm", instance).success  # another partition is unaffected


def test_transient_5xx_is_retried_by_prawcore(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "flaky")
    reddit_server.add_fault(r"/r/flaky/top", status=503, times=2)
    result = _scrape(defs, "flaky", instance)
    assert result.success
    assert retry_count(result, STEP) == 0
    assert reddit_server.stats()["by_status"]["503"] == 2
    assert read_raw(tmp_path, "flaky")["submission_count"] == 10


def test_persistent_5xx_fails_clearly_and_leaves_no_file(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "broken", "healthy")
    reddit_server.add_fault(r"/r/broken/top", status=500, times=None)
    result = _scrape(defs, "broken", instance)
    assert not result.success
    assert retry_count(result, STEP) == 2
    message = failure_messages(result, STEP)[-1]
    assert "500" in message
    # prawcore tries 3 times per attempt, 3 attempts
    assert reddit_server.stats()["by_status"]["500"] == 9
    _assert_nothing_written(tmp_path, "broken")
    healthy = _scrape(defs, "healthy", instance)
    assert healthy.success and raw_path(tmp_path, "healthy").exists()


def test_transient_timeout_is_retried(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "slowsub")
    defs = with_resources(defs, reddit=reddit_resource(timeout=1.0))
    reddit_server.add_fault(r"/r/slowsub/top", delay=3, times=1)
    result = _scrape(defs, "slowsub", instance)
    assert result.success
    assert retry_count(result, STEP) == 0
    assert reddit_server.stats()["by_endpoint"]["top"] == 2  # the timed-out request and its retry
    assert read_raw(tmp_path, "slowsub")["submission_count"] == 10


def test_timeouts_outlasting_prawcore_fail_the_attempt_and_the_retry_policy_recovers(
    monkeypatch, tmp_path, reddit_server, instance
):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "stuck")
    defs = with_resources(defs, reddit=reddit_resource(timeout=0.5))
    reddit_server.add_fault(r"/r/stuck/top", delay=1.5, times=3)  # prawcore tries a request 3 times
    result = _scrape(defs, "stuck", instance)
    assert result.success
    assert retry_count(result, STEP) == 1
    assert "timed out" in failure_messages(result, STEP)[0].lower()
    assert reddit_server.stats()["by_endpoint"]["top"] == 4
    assert read_raw(tmp_path, "stuck")["submission_count"] == 10
    assert temp_files(data_dir(tmp_path)) == []


@pytest.mark.parametrize("status,message", [(403, "not accessible"), (404, "does not exist")])
def test_403_404_fail_at_once_without_retry(monkeypatch, tmp_path, reddit_server, instance, status, message):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "gated", "open")
    reddit_server.add_fault(r"/r/gated/top", status=status, times=None)
    result = _scrape(defs, "gated", instance)
    assert not result.success
    assert retry_count(result, STEP) == 0  # retrying cannot help
    text = failure_messages(result, STEP)[0]
    assert "r/gated" in text and message in text and str(status) in text
    _assert_nothing_written(tmp_path, "gated")
    assert _scrape(defs, "open", instance).success


def test_malformed_json_once_is_retried_by_the_asset(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "garbled")
    reddit_server.add_fault(r"/r/garbled/top", malformed=True, times=1)
    result = _scrape(defs, "garbled", instance)
    assert result.success
    assert retry_count(result, STEP) == 1  # prawcore does not retry bad JSON; the RetryPolicy does
    assert "BadJSON" in failure_messages(result, STEP)[0]
    assert read_raw(tmp_path, "garbled")["submission_count"] == 10


def test_malformed_json_always_fails_clearly(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "garbage")
    reddit_server.add_fault(r"/comments/", malformed=True, times=None)
    result = _scrape(defs, "garbage", instance)
    assert not result.success
    assert retry_count(result, STEP) == 2
    assert "BadJSON" in failure_messages(result, STEP)[-1]
    _assert_nothing_written(tmp_path, "garbage")


def _long_listing(server, name):
    """250 submissions without comments: the `new` listing takes three pages."""
    data = generate_subreddit(name, today(), n_submissions=250, comments_per_submission=(0, 0), popular_threads=0)
    server.set_subreddit(name, data)


def test_connection_dropped_mid_listing_is_retried(monkeypatch, tmp_path, reddit_server, instance):
    _long_listing(reddit_server, "longsub")
    defs = _defs(monkeypatch, tmp_path, reddit_server, "longsub", category="new", n_results=250, comments="none")
    reddit_server.add_fault(r"/r/longsub/new.*after=", drop=True, times=1)  # page 2, cut mid-body
    result = _scrape(defs, "longsub", instance)
    assert result.success
    assert reddit_server.stats()["faults_triggered"] == 1
    raw = read_raw(tmp_path, "longsub")
    assert raw["submission_count"] == 250
    assert len({s["id"] for s in raw["submissions"]}) == 250  # no page lost or doubled


def test_connection_dropped_more_often_than_prawcore_retries_is_recovered_by_the_asset(
    monkeypatch, tmp_path, reddit_server, instance
):
    _long_listing(reddit_server, "cutsub")
    defs = _defs(monkeypatch, tmp_path, reddit_server, "cutsub", category="new", n_results=250, comments="none")
    reddit_server.add_fault(r"/r/cutsub/new.*after=", drop=True, times=3)
    result = _scrape(defs, "cutsub", instance)
    assert result.success
    assert retry_count(result, STEP) == 1
    assert "connection" in failure_messages(result, STEP)[0].lower()
    raw = read_raw(tmp_path, "cutsub")
    assert raw["submission_count"] == len({s["id"] for s in raw["submissions"]}) == 250


def test_403_on_one_comment_tree_keeps_the_day_and_says_which(monkeypatch, tmp_path, reddit_server, instance):
    defs = _defs(monkeypatch, tmp_path, reddit_server, "onegated")
    reddit_server.add_fault(r"/comments/", status=403, times=1)  # the first thread only
    result = _scrape(defs, "onegated", instance)
    assert result.success and retry_count(result, STEP) == 0
    raw = read_raw(tmp_path, "onegated")
    assert raw["submission_count"] == 10
    fetched = {c["link_id"][3:] for c in raw["comments"]}
    hidden = [s["id"] for s in raw["submissions"] if s["num_comments"] and s["id"] not in fetched]
    assert len(hidden) == 1
    meta = materialization_metadata(instance, "reddit/raw_scrape", key("onegated"))
    assert meta["comment_trees_unavailable"] == 1
    assert hidden[0] in raw["notes"][0] and "403" in raw["notes"][0]
