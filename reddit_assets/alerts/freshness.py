"""Freshness: the subreddits_fresh check, and a webhook alert when the set of stale subreddits changes."""

import datetime as dt
import json
import time
from dataclasses import dataclass

import dagster as dg

from reddit_assets.alerts.failure import env_value
from reddit_assets.alerts.webhook import WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_VAR, WebhookError, post_webhook
from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.config import AppConfig

MAX_AGE = dt.timedelta(hours=26)
FRESHNESS_CHECK = "subreddits_fresh"
FRESHNESS_CHECK_KEY = dg.AssetCheckKey(RAW_SCRAPE, FRESHNESS_CHECK)
_KEYS_PER_QUERY = 500


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
                limit, ", ".join(f"r/{name} ({self.age_hours(name):.1f} h ago)" for name in self.stale)
            )
        scraped = len(self.last_scraped) - len(self.never_scraped)
        never = f"; never scraped: {', '.join(f'r/{n}' for n in self.never_scraped)}" if self.never_scraped else ""
        return f"{scraped} of {len(self.last_scraped)} subreddits scraped, all within {limit:g} h{never}"

    def metadata(self) -> dict:
        rows = ["| subreddit | last scraped (UTC) | hours ago |", "| --- | --- | --- |"]
        for name, stamp in self.last_scraped.items():
            when = "never" if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M")
            age = "" if stamp is None else f"{self.age_hours(name):.1f}"
            rows.append(f"| {name} | {when} | {age} |")
        return {
            "stale_subreddits": dg.MetadataValue.json(self.stale),
            "never_scraped": dg.MetadataValue.json(self.never_scraped),
            "max_age_hours": self.max_age.total_seconds() / 3600,
            "last_scraped": dg.MetadataValue.md("\n".join(rows)),
        }


def evaluate_freshness(
    instance: dg.DagsterInstance, partitions_def: dg.MultiPartitionsDefinition, names: list[str], now: float
) -> Freshness:
    """The newest raw_scrape materialization of each subreddit, over all its date partitions.

    One query gives the newest storage id of each materialized partition; the newest per
    subreddit is then fetched by id. The cost follows the subreddits and what was scraped,
    never the partitions definition (10,000 subreddits over a year are 3.6 million keys).
    """
    del partitions_def  # kept in the signature: the check and sensor builders pass it
    newest_id: dict[str, int] = {}
    latest = instance.get_latest_storage_id_by_partition(RAW_SCRAPE, dg.DagsterEventType.ASSET_MATERIALIZATION)
    for key, storage_id in latest.items():
        name = key.rpartition("|")[2]  # `date|subreddit`: Dagster orders the dimensions by name
        if storage_id > newest_id.get(name, -1):
            newest_id[name] = storage_id
    wanted = [newest_id[name] for name in names if name in newest_id]
    stamp_of: dict[int, float] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):  # stays under SQLite's parameter limit
        chunk = wanted[start : start + _KEYS_PER_QUERY]
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RAW_SCRAPE, storage_ids=chunk), limit=len(chunk)
        ).records
        stamp_of.update((record.storage_id, record.timestamp) for record in records)
    last = {name: stamp_of.get(newest_id.get(name, -1)) for name in names}
    return Freshness(now=now, last_scraped=last)


def _check_result(freshness: Freshness) -> dict:
    # A subreddit never scraped is listed but not failed: it may have just been added, and
    # a subreddit whose scrapes keep failing is reported by the run failure alert.
    return {
        "passed": not freshness.stale,
        "severity": dg.AssetCheckSeverity.ERROR,
        "description": freshness.description(),
        "metadata": freshness.metadata(),
    }


def build_freshness_check(
    app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=RAW_SCRAPE,
        name=FRESHNESS_CHECK,
        blocking=False,
        description="Every configured subreddit was scraped within the last 26 hours.",
    )
    def subreddits_fresh(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        """Fails naming each subreddit whose newest raw file is older than 26 hours."""
        freshness = evaluate_freshness(context.instance, partitions_def, app_config.names, time.time())
        return dg.AssetCheckResult(**_check_result(freshness))

    return subreddits_fresh


def build_freshness_sensor(
    app_config: AppConfig, partitions_def: dg.MultiPartitionsDefinition, timeout: float = WEBHOOK_TIMEOUT_SECONDS
) -> dg.SensorDefinition:
    @dg.sensor(name="subreddit_freshness", minimum_interval_seconds=900, default_status=dg.DefaultSensorStatus.RUNNING)
    def subreddit_freshness(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Every 15 minutes: records the subreddits_fresh check on reddit/raw_scrape, and POSTs
        to $REDDIT_ASSETS_ALERT_WEBHOOK_URL when the set of stale subreddits changes."""
        freshness = evaluate_freshness(context.instance, partitions_def, app_config.names, time.time())
        evaluation = dg.AssetCheckEvaluation(
            asset_key=RAW_SCRAPE, check_name=FRESHNESS_CHECK, **_check_result(freshness)
        )
        alerted = json.loads(context.cursor) if context.cursor else []
        cursor = context.cursor
        if freshness.stale != alerted:
            url = env_value(WEBHOOK_VAR)
            payload = {
                "event": "freshness",
                "stale_subreddits": freshness.stale,
                "previously_stale": alerted,
                "max_age_hours": MAX_AGE.total_seconds() / 3600,
                "text": f"reddit_assets: {freshness.description()}",
            }
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
