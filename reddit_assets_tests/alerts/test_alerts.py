"""Alerts: a real local HTTP server receives the webhook of a real failing run, and the
freshness check flags a subreddit scraped 27 hours ago but not one scraped now."""

import datetime as dt
import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from reddit_assets.alerts import outbox as alert_outbox
from reddit_assets.alerts.failure import WEBHOOK_VAR, build_pending_alerts_sensor, build_run_failure_alert, redact
from reddit_assets.alerts.freshness import FRESHNESS_CHECK_KEY, build_freshness_sensor
from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.config import load_config
from reddit_assets.partitions import build_partitions
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.fixtures.webhook import webhook_server
from reddit_assets_tests.harness import configure, run_job

TODAY = utc_today()
SECRET = "sekrit-client-value-42"


@pytest.fixture
def webhook(monkeypatch):
    """A receiver on 127.0.0.1 recording every POST; its URL is in REDDIT_ASSETS_ALERT_WEBHOOK_URL."""
    with webhook_server() as server:
        monkeypatch.setenv(WEBHOOK_VAR, server.url)
        yield server


@pytest.fixture
def failed_run(monkeypatch, tmp_path, reddit_server):
    """A real daily_scrape_job run that failed: r/nosuchsub does not exist."""
    reddit_server.auto_create = False
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "nosuchsub"}], reddit_secret=SECRET
    )
    with dg.instance_for_test() as instance:
        result = run_job(defs, "daily_scrape_job", TODAY, "nosuchsub", instance)
        assert not result.success
        yield instance, result


def _failure_context(instance, result):
    return dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()


# --- run failures ------------------------------------------------------------------------


@pytest.mark.integration
def test_failed_run_is_posted_to_the_webhook(webhook, failed_run):
    instance, result = failed_run
    outcome = build_run_failure_alert()(_failure_context(instance, result))
    assert outcome is None
    assert len(webhook.received) == 1
    post = webhook.received[0]
    assert post["content_type"] == "application/json"
    body = post["body"]
    assert body["event"] == "run_failure" and body["job"] == "daily_scrape_job" and body["run_id"] == result.run_id
    assert body["partition"] == f"{TODAY.isoformat()}|nosuchsub"
    assert "Steps failed" in body["error"] and "reddit__raw_scrape" in body["error"]
    assert [s["step"] for s in body["failed_steps"]] == ["reddit__raw_scrape"]
    assert "r/nosuchsub" in body["failed_steps"][0]["error"] and "does not exist" in body["failed_steps"][0]["error"]
    assert result.run_id in body["text"] and "does not exist" in body["text"]
    assert SECRET not in json.dumps(body) and webhook.url not in json.dumps(body)


@pytest.mark.integration
def test_no_webhook_configured_skips_with_a_reason(monkeypatch, failed_run):
    monkeypatch.delenv(WEBHOOK_VAR, raising=False)
    instance, result = failed_run
    outcome = build_run_failure_alert()(_failure_context(instance, result))
    assert isinstance(outcome, dg.SkipReason) and WEBHOOK_VAR in outcome.skip_message


@pytest.mark.integration
@pytest.mark.parametrize("trouble", ["http_500", "refused", "too_slow"])
def test_webhook_trouble_is_logged_not_raised(monkeypatch, webhook, failed_run, trouble):
    instance, result = failed_run
    if trouble == "http_500":
        webhook.status = 500
    elif trouble == "too_slow":
        webhook.delay = 8.0
    else:
        webhook.shutdown()
        webhook.server_close()
    started = time.monotonic()
    outcome = build_run_failure_alert(timeout=1.0)(_failure_context(instance, result))
    assert time.monotonic() - started < 6  # the 1 s timeout holds: the webhook takes 8 s
    assert isinstance(outcome, dg.SkipReason) and "not delivered" in outcome.skip_message
    assert {"http_500": "HTTP 500", "refused": "unreachable", "too_slow": "unreachable"}[
        trouble
    ] in outcome.skip_message
    assert webhook.url not in outcome.skip_message
    # Dagster does not show the sensor this run again: the alert is kept, whole and redacted.
    [kept] = alert_outbox.pending(_data_dir())
    body = json.loads(kept.read_text())
    assert body["run_id"] == result.run_id and "does not exist" in body["text"]
    assert SECRET not in kept.read_text()


def _data_dir() -> Path:
    return Path(os.environ["REDDIT_ASSETS_DATA_DIR"])  # set by the failed_run fixture


@pytest.mark.integration
def test_kept_alerts_are_delivered_in_order_once_the_webhook_answers(monkeypatch, webhook, failed_run):
    instance, result = failed_run
    folder = _data_dir()
    deliver = build_pending_alerts_sensor(timeout=1.0)
    assert "no undelivered alerts" in deliver(dg.build_sensor_context(instance=instance)).skip_message

    webhook.status = 503
    build_run_failure_alert(timeout=1.0)(_failure_context(instance, result))
    later = {"event": "run_failure", "run_id": "a-later-run", "text": "a later failure"}
    alert_outbox.keep(folder, later, "run_failure-a-later-run")
    assert len(alert_outbox.pending(folder)) == 2 and len(webhook.received) == 1

    # Still down: the oldest kept alert is tried, nothing is lost.
    outcome = deliver(dg.build_sensor_context(instance=instance))
    assert outcome.skip_message == "delivered 0 kept alert(s), 2 still kept: the webhook answered HTTP 503"
    assert len(webhook.received) == 2 and len(alert_outbox.pending(folder)) == 2

    monkeypatch.delenv(WEBHOOK_VAR)
    assert "is not set: 2 alert(s) kept" in deliver(dg.build_sensor_context(instance=instance)).skip_message

    monkeypatch.setenv(WEBHOOK_VAR, webhook.url)
    webhook.status = 200
    outcome = deliver(dg.build_sensor_context(instance=instance))
    assert outcome.skip_message == "delivered 2 kept alert(s), 0 still kept"
    assert [post["body"]["run_id"] for post in webhook.received[2:]] == [result.run_id, "a-later-run"]
    assert webhook.received[2]["body"] == webhook.received[0]["body"]  # the alert as it was first sent
    assert alert_outbox.pending(folder) == []
    assert "no undelivered alerts" in deliver(dg.build_sensor_context(instance=instance)).skip_message


def test_redact_removes_secret_values_and_url_passwords(monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "abcd-1234-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app:db-pass-99@db.internal:5432/reddit")
    text = (
        "auth failed with abcd-1234-secret; could not connect to "
        "postgresql+psycopg://app:db-pass-99@db.internal:5432/reddit and amqp://guest:other-pw@mq//"
    )
    cleaned = redact(text)
    for secret in ("abcd-1234-secret", "db-pass-99", "other-pw"):
        assert secret not in cleaned
    assert "postgresql+psycopg://app:***@db.internal:5432/reddit" in cleaned and "amqp://guest:***@mq//" in cleaned
    assert len(redact("x" * 10_000)) < 2100


# --- freshness ---------------------------------------------------------------------------


@pytest.fixture
def scraped(monkeypatch, tmp_path, reddit_server):
    """r/stalesub last scraped 27 h ago, r/freshsub scraped now (a real scrape), r/newsub never."""
    subreddits = [{"name": "stalesub"}, {"name": "freshsub", "n_results": 5, "comments": "none"}, {"name": "newsub"}]
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=subreddits)
    with dg.instance_for_test() as instance:
        yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
        with freeze_time(dt.datetime.now(dt.UTC) - dt.timedelta(hours=27)):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=f"{yesterday}|stalesub")
            )
        assert run_job(defs, "daily_scrape_job", TODAY, "freshsub", instance, asset_selection=[RAW_SCRAPE]).success
        yield defs, instance


def _run_freshness_check(defs, instance) -> dg.AssetCheckEvaluation:
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_check_selection={FRESHNESS_CHECK_KEY}, asset_selection=set()
    )
    result = job.execute_in_process(instance=instance)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def _metadata(evaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}


@pytest.mark.integration
def test_freshness_check_fails_for_27_hours_and_passes_when_fresh(scraped):
    defs, instance = scraped
    evaluation = _run_freshness_check(defs, instance)
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "r/stalesub (27.0 h ago)" in evaluation.description
    assert "freshsub" not in evaluation.description.split(";")[0]
    meta = _metadata(evaluation)
    assert meta["stale_subreddits"] == ["stalesub"] and meta["never_scraped"] == ["newsub"]
    assert "| freshsub |" in meta["last_scraped"]
    assert "reddit__raw_scrape_subreddits_fresh" not in defs.resolve_job_def("daily_scrape_job").graph.node_dict

    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=f"{TODAY.isoformat()}|stalesub")
    )
    evaluation = _run_freshness_check(defs, instance)
    assert evaluation.passed is True
    assert _metadata(evaluation)["stale_subreddits"] == []
    assert "2 of 3 subreddits scraped" in evaluation.description and "r/newsub" in evaluation.description


@pytest.mark.integration
def test_freshness_sensor_records_the_check_and_alerts_on_changes(scraped, webhook):
    defs, instance = scraped
    app_config = load_config()
    sensor = build_freshness_sensor(app_config, build_partitions(app_config))

    def tick(cursor):
        data = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        for event in data.asset_events:  # what the daemon does with them
            instance.report_runless_asset_event(event)
        record = instance.get_latest_asset_check_evaluation_record(FRESHNESS_CHECK_KEY)
        return data.cursor, record.status.value

    cursor, status = tick(None)
    assert status == "FAILED"
    assert [p["body"]["stale_subreddits"] for p in webhook.received] == [["stalesub"]]
    assert "r/stalesub" in webhook.received[0]["body"]["text"]

    cursor, status = tick(cursor)  # still stale: recorded again, not posted again
    assert status == "FAILED" and len(webhook.received) == 1

    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=f"{TODAY.isoformat()}|stalesub")
    )
    cursor, status = tick(cursor)
    assert status == "SUCCEEDED"
    assert webhook.received[-1]["body"]["stale_subreddits"] == [] and webhook.received[-1]["body"][
        "previously_stale"
    ] == ["stalesub"]

    webhook.status = 503  # an undelivered alert is tried again on the next tick
    with freeze_time(dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)):
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=f"{TODAY.isoformat()}|newsub")
        )
    failed_cursor, status = tick(cursor)
    assert status == "FAILED" and failed_cursor == cursor and len(webhook.received) == 3
    webhook.status = 200
    later_cursor, _ = tick(failed_cursor)
    assert json.loads(later_cursor) == ["newsub"] and len(webhook.received) == 4
    assert webhook.received[-1]["body"]["stale_subreddits"] == ["newsub"]


def test_freshness_looks_at_every_date_partition_of_a_subreddit(monkeypatch, tmp_path):
    """The newest scrape counts, even when it is of an old date among many (over 500) partitions."""
    from reddit_assets.alerts.freshness import evaluate_freshness

    configure(
        monkeypatch, tmp_path, reddit_url="http://127.0.0.1:9", subreddits=[{"name": "oldsub"}], start_date="2024-01-01"
    )
    app_config = load_config()
    partitions_def = build_partitions(app_config)
    assert len(partitions_def.get_partition_keys()) > 1000
    now = dt.datetime.now(dt.UTC)
    with dg.instance_for_test() as instance:
        # In the order they happened: the event log's order is the order of materialization.
        for hours_ago, date in (
            (40, dt.date(2025, 6, 1)),
            (30, TODAY - dt.timedelta(days=1)),
            (27, dt.date(2024, 1, 5)),
        ):
            with freeze_time(now - dt.timedelta(hours=hours_ago)):
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=f"{date}|oldsub")
                )
        freshness = evaluate_freshness(instance, partitions_def, app_config.names, now.timestamp())
    assert round(freshness.age_hours("oldsub"), 3) == 27.0
    assert freshness.stale == ["oldsub"] and freshness.never_scraped == []
