"""The sensor that starts each day's second pass once it is due.

A partition is due when its raw file was materialized (scraped, imported or restored),
it has no second pass yet, and its day ended `second_pass.after_hours` ago. Dagster's
automation conditions have no "N hours after the partition's day" rule, so a sensor
decides; the second pass's table and archive then follow it by automation condition.

At most MAX_WAITING_RUNS of its runs wait or run at once, oldest day first: an import of a
year makes 36,500 partitions due in one tick, and requesting them all would fill the run
queue (and the daemon) for days while the reddit_api pool lets two run at a time.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.assets.declarations import RAW_SCRAPE, SECOND_PASS
from reddit_assets.config import AppConfig
from reddit_assets.dagster_private import PARTITION_NAME_TAG, SENSOR_NAME_TAG
from reddit_assets.partitions import PartitionKeyError, split_partition_key

SENSOR_NAME = "second_pass_when_due"
# Runs queued or running at once: enough to keep the reddit_api pool (2 by default) busy
# between ticks, few enough that other work is not stuck behind them in the queue.
MAX_WAITING_RUNS = 20
_WAITING = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# A partition whose run ended this way is not requested again (relaunch it from the UI).
_GAVE_UP = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def due_partitions(app_config: AppConfig, scraped: set[str], done: set[str], now: dt.datetime) -> list[str]:
    """Keys of `scraped` partitions without a second pass (`done`) whose day is old enough, oldest first."""
    names = set(app_config.names)
    due = []
    for key in scraped - done:
        try:
            date, name = split_partition_key(key)
        except PartitionKeyError:
            continue
        if name in names and app_config.second_pass.possible_from(date, app_config.schedule.timezone) <= now:
            due.append((date, name, key))
    return [key for _, _, key in sorted(due)]


def _partitions_of_runs(instance: dg.DagsterInstance, statuses: list[dg.DagsterRunStatus]) -> set[str]:
    """Partition keys of this sensor's runs in `statuses`."""
    records = instance.get_run_records(dg.RunsFilter(statuses=statuses, tags={SENSOR_NAME_TAG: SENSOR_NAME}))
    return {key for record in records if (key := record.dagster_run.tags.get(PARTITION_NAME_TAG))}


def build_second_pass_sensor(app_config: AppConfig) -> dg.SensorDefinition:
    enabled = app_config.second_pass.enabled

    @dg.sensor(
        name=SENSOR_NAME,
        target=[SECOND_PASS],
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED,
        description=(
            "Starts reddit/second_pass for every scraped subreddit-day once the day ended "
            f"second_pass.after_hours ({app_config.second_pass.after_hours:g} h) ago; one run per partition, "
            f"at most {MAX_WAITING_RUNS} queued or running at once, oldest day first."
        ),
    )
    def second_pass_when_due(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        waiting = _partitions_of_runs(context.instance, _WAITING)
        room = MAX_WAITING_RUNS - len(waiting)
        if room <= 0:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"{len(waiting)} second-pass runs are queued or running; waiting for them")
            )
        scraped = context.instance.get_materialized_partitions(RAW_SCRAPE)
        done = (
            context.instance.get_materialized_partitions(SECOND_PASS)
            | waiting
            | _partitions_of_runs(context.instance, _GAVE_UP)
        )
        now = dt.datetime.now(ZoneInfo(app_config.schedule.timezone))
        due = due_partitions(app_config, scraped, done, now)
        # The run key makes each partition's request once (Dagster drops a request whose key has
        # a run): a failed second pass (a private subreddit, say) is not retried every tick;
        # relaunch it from the UI instead. The reddit_api pool paces the runs.
        requests = [dg.RunRequest(partition_key=key, run_key=f"second_pass|{key}") for key in due[:room]]
        if not requests:
            return dg.SensorResult(skip_reason=dg.SkipReason("no subreddit-day is due for its second pass"))
        return dg.SensorResult(run_requests=requests)

    return second_pass_when_due
