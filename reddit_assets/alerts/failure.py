"""Failure alerts: a webhook POST for every failed run, kept and re-sent when the webhook is down.

The webhook URL is read from `REDDIT_ASSETS_ALERT_WEBHOOK_URL` when a sensor evaluates
(unset: nothing is posted, the tick says why). Payloads are JSON with a `text` field, so
a Slack-style incoming webhook shows them as they are; they never carry a secret (known
secret values and URL passwords are replaced by `***`). A webhook that is down or slow
costs one logged warning, never a crashed sensor or daemon; a failure alert it did not
take is kept (`alert_outbox`) and posted by `deliver_pending_alerts` once it answers.
"""

import re
from urllib.parse import urlsplit

import dagster as dg

from reddit_assets.alerts import outbox as alert_outbox
from reddit_assets.alerts.webhook import WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_VAR, WebhookError, post_webhook
from reddit_assets.files.paths import data_dir

_SECRET_VARS = (
    "REDDIT_CLIENT_SECRET",
    "REDDIT_PASSWORD",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "DAGSTER_PG_PASSWORD",
    WEBHOOK_VAR,
)
_URL_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_BACKEND_URL")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)
_MAX_TEXT = 2000


def env_value(name: str) -> str | None:
    return dg.EnvVar(name).get_value() or None


def redact(text: str) -> str:
    """`text` without the values of the secret variables or any password inside a URL."""
    secrets = [value for value in map(env_value, _SECRET_VARS) if value]
    secrets += [password for password in (urlsplit(env_value(name) or "").password for name in _URL_VARS) if password]
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
        "text": f"reddit_assets: run {run.run_id} of {run.job_name}"
        + (f" ({partition})" if partition else "")
        + f" failed: {first}",
    }


def build_run_failure_alert(timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        """POSTs every failed run (job, run id, partition, error) to $REDDIT_ASSETS_ALERT_WEBHOOK_URL."""
        url = env_value(WEBHOOK_VAR)
        if not url:
            return dg.SkipReason(f"{WEBHOOK_VAR} is not set: run {context.dagster_run.run_id} failed, no alert sent")
        payload = run_failure_payload(context)
        try:
            post_webhook(url, payload, timeout)
        except WebhookError as exc:
            # Dagster will not show this sensor the run again: keep the alert for deliver_pending_alerts.
            kept = alert_outbox.keep(data_dir(), payload, f"run_failure-{context.dagster_run.run_id}")
            context.log.warning(
                f"alert for failed run {context.dagster_run.run_id} not delivered: {exc}; kept in {kept}"
            )
            return dg.SkipReason(f"alert not delivered: {exc}; kept for a later delivery")
        return None

    return alert_on_run_failure


def build_pending_alerts_sensor(timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> dg.SensorDefinition:
    @dg.sensor(
        name="deliver_pending_alerts", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING
    )
    def deliver_pending_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        """Every minute: POSTs the failure alerts the webhook did not take before, oldest first."""
        folder = data_dir()
        kept = len(alert_outbox.pending(folder))
        if not kept:
            return dg.SkipReason("no undelivered alerts")
        url = env_value(WEBHOOK_VAR)
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
