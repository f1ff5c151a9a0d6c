"""Alerts: a webhook for every failed run, and a per-subreddit freshness check.

The webhook URL is read from `REDDIT_ASSETS_ALERT_WEBHOOK_URL` when a sensor evaluates
(unset: nothing is posted, the tick says why). Payloads are JSON with a `text` field, so
a Slack-style incoming webhook shows them as they are; they never carry a secret (known
secret values and URL passwords are replaced by `***`). A webhook that is down or slow
costs one logged warning, never a crashed sensor or daemon; a failure alert it did not
take is kept (`alert_outbox`) and posted by `deliver_pending_alerts` once it answers.
"""

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

import dagster as dg

from reddit_assets import alert_outbox
from reddit_assets.assets.common import RAW_SCRAPE
from reddit_assets.config import AppConfig
from reddit_assets.partitions import SUBREDDIT_DIM
from reddit_assets.resources import data_dir
from reddit_assets.webhook import WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_VAR, WebhookError, post_webhook

MAX_AGE = dt.timedelta(hours=26)
FRESHNESS_CHECK = "subreddits_fresh"
FRESHNESS_CHECK_KEY = dg.AssetCheckKey(RAW_SCRAPE, FRESHNESS_CHECK)
_SECRET_VARS = ("REDDIT_CLIENT_SECRET", "REDDIT_PASSWORD", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY",
                "DAGSTER_PG_PASSWORD", WEBHOOK_VAR)
_URL_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_BACKEND_URL")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)
_MAX_TEXT = 2000
_KEYS_PER_QUERY = 500


def _env(name: str) -> str | None:
    return dg.EnvVar(name).get_value() or None


def redact(text: str) -> str:
    """`text` without the values of the secret variables or any password inside a URL."""
    secrets = [value for value in map(_env, _SECRET_VARS) if value]
    secrets += [password for password in (urlsplit(_env(name) or "").password for name in _URL_VARS) if password]
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + " ..."


def run_partition(run: dg.DagsterRun) -> str | None:
    """The partition key of a run, or `first...last` for a run over a range (backfills)."""
    if "dagster/partition" in run.tags:
        return run.tags["dagster/partition"]
    start, end = run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")
    if start and end:
        return start if start == end else f"{start}...{end}"
    return None


def run_failure_payload(context: dg.RunFailureSensorContext) -> dict:
    """What the alert says about a failed run: job, run id, partition, errors (redacted)."""
    run = context.dagster_run
    partition = run_partition(run)
    steps = [
        {"step": event.step_key, "error": redact(event.step_failure_data.error.message.strip())}
        for event in context.get_step_failure_events()
        if event.step_failure_data.error
    ]
    error = redact((context.failure_event.message or "").strip())
    first = steps[0]["error"] if steps else error
    return {
        "event": "run_failure",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": partition,
        "error": error,
        "failed_steps": steps,
        "text": f"reddit_assets: run {run.run_id} of {run.job_name}" + (f" ({partition})" if partition else "")
        + f" failed: {first}",
    }


def build_run_failure_alert(timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dg.RunStatusSensorDefinition:
    @dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                           minimum_interval_seconds=30)
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        """POSTs every failed run (job, run id, partition, error) to $REDDIT_ASSETS_ALERT_WEBHOOK_URL."""
        url = _env(WEBHOOK_VAR)
        if not url:
            return dg.SkipReason(f"{WEBHOOK_VAR} is not set: run {context.dagster_run.run_id} failed, no alert sent")
        payload = run_failure_payload(context)
        try:
            post_webhook(url, payload, timeout)
        except WebhookError as exc:
            # Dagster will not show this sensor the run again: keep the alert for deliver_pending_alerts.
            kept = alert_outbox.keep(data_dir(), payload, f"run_failure-{context.dagster_run.run_id}")
            context.log.warning(f"alert for failed run {context.dagster_run.run_id} not delivered: {exc}; kept in {kept}")
            return dg.SkipReason(f"alert not delivered: {exc}; kept for a later delivery")
        return None

    return alert_on_run_failure


def build_pending_alerts_sensor(timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dg.SensorDefinition:
    @dg.sensor(name="deliver_pending_alerts", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
    def deliver_pending_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        """Every minute: POSTs the failure alerts the webhook did not take before, oldest first."""
        folder = data_dir()
        kept = len(alert_outbox.pending(folder))
        if not kept:
            return dg.SkipReason("no undelivered alerts")
        url = _env(WEBHOOK_VAR)
        if not url:
            return dg.SkipReason(f"{WEBHOOK_VAR} is not set: {kept} alert(s) kept")
        delivery = alert_outbox.deliver(folder, url, timeout)
        outcome = f"delivered {delivery.delivered} kept alert(s), {delivery.pending} still kept"
        if delivery.error:
            context.log.warning(f"{outcome}: {delivery.error}")
            return dg.SkipReason(f"{outcome}: {delivery.error}")
        context.log.info(outcome)
        return dg.SkipReason(outcome)

    return deliver_pending_alerts


# --- freshness -------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """When each configured subreddit's raw file was last materialized, judged at `now`."""

    now: float
    last_scraped: dict[str, float | None]
    max_age: dt.timedelta = MAX_AGE

    def age_hours(self, name: str) -> float | None:
        stamp = self.last_scraped[name]
        return None if stamp is None else (self.now - stamp) / 3600

    @property
    def stale(self) -> list[str]:
        limit = self.max_age.total_seconds() / 3600
        return [name for name in self.last_scraped if (age := self.age_hours(name)) is not None and age > limit]

    @property
    def never_scraped(self) -> list[str]:
        return [name for name, stamp in self.last_scraped.items() if stamp is None]

    def description(self) -> str:
        limit = self.max_age.total_seconds() / 3600
        if self.stale:
            return "not scraped within {:g} h: {}".format(
                limit, ", ".join(f"r/{name} ({self.age_hours(name):.1f} h ago)" for name in self.stale))
        scraped = len(self.last_scraped) - len(self.never_scraped)
        never = f"; never scraped: {', '.join(f'r/{n}' for n in self.never_scraped)}" if self.never_scraped else ""
        return f"{scraped} of {len(self.last_scraped)} subreddits scraped, all within {limit:g} h{never}"

    def metadata(self) -> dict:
        rows = ["| subreddit | last scraped (UTC) | hours ago |", "| --- | --- | --- |"]
        for name, stamp in self.last_scraped.items():
            when = "never" if stamp is None else dt.datetime.fromtimestamp(stamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
            age = "" if stamp is None else f"{self.age_hours(name):.1f}"
            rows.append(f"| {name} | {when} | {age} |")
        return {
            "stale_subreddits": dg.MetadataValue.json(self.stale),
            "never_scraped": dg.MetadataValue.json(self.never_scraped),
            "max_age_hours": self.max_age.total_seconds() / 3600,
            "last_scraped": dg.MetadataValue.md("\n".join(rows)),
        }


def evaluate_freshness(instance: dg.DagsterInstance, partitions_def: dg.MultiPartitionsDefinition,
                       names: list[str], now: float) -> Freshness:
    """The newest raw_scrape materialization of each subreddit, over all its date partitions."""
    keys: dict[str, list[str]] = {name: [] for name in names}
    for key in partitions_def.get_partition_keys(dynamic_partitions_store=instance):
        name = key.keys_by_dimension[SUBREDDIT_DIM]
        if name in keys:
            keys[name].append(str(key))
    last: dict[str, float | None] = {}
    for name in names:
        newest = None
        for start in range(0, len(keys[name]), _KEYS_PER_QUERY):  # stays under SQLite's parameter limit
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=RAW_SCRAPE, asset_partitions=keys[name][start:start + _KEYS_PER_QUERY]), limit=1
            ).records
            if records and (newest is None or records[0].timestamp > newest):
                newest = records[0].timestamp
        last[name] = newest
    return Freshness(now=now, last_scraped=last)


def _check_result(freshness: Freshness) -> dict:
    # A subreddit never scraped is listed but not failed: it may have just been added, and
    # a subreddit whose scrapes keep failing is reported by the run failure alert.
    return {"passed": not freshness.stale, "severity": dg.AssetCheckSeverity.ERROR,
            "description": freshness.description(), "metadata": freshness.metadata()}


def build_freshness_check(app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=RAW_SCRAPE, name=FRESHNESS_CHECK, blocking=False,
                    description="Every configured subreddit was scraped within the last 26 hours.")
    def subreddits_fresh(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """Fails naming each subreddit whose newest raw file is older than 26 hours."""
        freshness = evaluate_freshness(context.instance, partitions_def, app_config.names, time.time())
        return dg.AssetCheckResult(**_check_result(freshness))

    return subreddits_fresh


def build_freshness_sensor(app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition,
                           timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dg.SensorDefinition:
    @dg.sensor(name="subreddit_freshness", minimum_interval_seconds=900, default_status=dg.DefaultSensorStatus.RUNNING)
    def subreddit_freshness(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Every 15 minutes: records the subreddits_fresh check on reddit/raw_scrape, and POSTs
        to $REDDIT_ASSETS_ALERT_WEBHOOK_URL when the set of stale subreddits changes."""
        freshness = evaluate_freshness(context.instance, partitions_def, app_config.names, time.time())
        evaluation = dg.AssetCheckEvaluation(asset_key=RAW_SCRAPE, check_name=FRESHNESS_CHECK, **_check_result(freshness))
        alerted = json.loads(context.cursor) if context.cursor else []
        cursor = context.cursor
        if freshness.stale != alerted:
            url = _env(WEBHOOK_VAR)
            payload = {"event": "freshness", "stale_subreddits": freshness.stale, "previously_stale": alerted,
                       "max_age_hours": MAX_AGE.total_seconds() / 3600,
                       "text": f"reddit_assets: {freshness.description()}"}
            if not url:
                context.log.info(f"{WEBHOOK_VAR} is not set: {freshness.description()}")
            else:
                try:
                    post_webhook(url, payload, timeout)
                    cursor = json.dumps(freshness.stale)
                except WebhookError as exc:  # the cursor stays, so the next tick tries again
                    context.log.warning(f"freshness alert not delivered: {exc}")
        return dg.SensorResult(asset_events=[evaluation], cursor=cursor)

    return subreddit_freshness


class Alerts(NamedTuple):
    checks: list[dg.AssetChecksDefinition]
    sensors: list[dg.SensorDefinition]


def build_alerts(app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition) -> Alerts:
    return Alerts(
        checks=[build_freshness_check(app_config, partitions_def)],
        sensors=[build_run_failure_alert(), build_pending_alerts_sensor(), build_freshness_sensor(app_config, partitions_def)],
    )
