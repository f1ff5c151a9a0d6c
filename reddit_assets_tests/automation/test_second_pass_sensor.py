"""When the second pass runs: the config field, and the sensor over a real Dagster instance."""

import datetime as dt

import dagster as dg
import pytest

from reddit_assets.assets.declarations import RAW_SCRAPE, SECOND_PASS
from reddit_assets.automation.second_pass_sensor import (
    MAX_WAITING_RUNS,
    SENSOR_NAME,
    build_second_pass_sensor,
    due_partitions,
)
from reddit_assets.config import ConfigError, parse_config

SUBREDDITS = [{"name": "pastsub"}, {"name": "othersub"}]


def test_second_pass_config_is_optional_and_refused_naming_the_field():
    config = parse_config({"subreddits": SUBREDDITS})
    assert (config.second_pass.enabled, config.second_pass.after_hours) == (True, 36)
    config = parse_config({"subreddits": SUBREDDITS, "second_pass": {"enabled": False, "after_hours": 12}})
    assert (config.second_pass.enabled, config.second_pass.after_hours) == (False, 12)
    for bad, field in (({"after_hours": -1}, "second_pass.after_hours"), ({"every": 3}, "second_pass.every")):
        with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
            parse_config({"subreddits": SUBREDDITS, "second_pass": bad})


def test_possible_from_is_day_end_plus_after_hours_in_the_schedule_timezone():
    config = parse_config({"subreddits": SUBREDDITS, "schedule": {"timezone": "Asia/Kolkata"}})
    when = config.second_pass.possible_from(dt.date(2026, 11, 27), "Asia/Kolkata")
    assert when == dt.datetime(2026, 11, 29, 6, 30, tzinfo=dt.UTC)  # 28th 00:00 IST + 36 h


def test_due_partitions_are_old_enough_configured_and_not_done():
    config = parse_config({"subreddits": SUBREDDITS})
    now = dt.datetime(2026, 11, 29, 13, tzinfo=dt.UTC)
    scraped = {
        "2026-11-27|pastsub",
        "2026-11-27|othersub",
        "2026-11-28|pastsub",
        "2026-11-26|dropped",
        "2026-11-25|pastsub",
    }
    done = {"2026-11-25|pastsub"}
    # 27th: ended 28th 00:00, possible from 29th 12:00; the 28th not until the 30th 12:00.
    assert due_partitions(config, scraped, done, now) == ["2026-11-27|othersub", "2026-11-27|pastsub"]


def test_sensor_requests_each_due_partition_once(tmp_path):
    config = parse_config({"subreddits": SUBREDDITS, "start_date": "2026-01-01"})
    sensor = build_second_pass_sensor(config)
    assert sensor.name == SENSOR_NAME and sensor.default_status == dg.DefaultSensorStatus.RUNNING
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).date().isoformat()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for key in (f"{old}|pastsub", f"{old}|othersub", f"{today}|pastsub"):
            instance.report_runless_asset_event(dg.AssetMaterialization(RAW_SCRAPE, partition=key))
        instance.report_runless_asset_event(dg.AssetMaterialization(SECOND_PASS, partition=f"{old}|othersub"))
        result = sensor(dg.build_sensor_context(instance=instance))
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        (f"{old}|pastsub", f"second_pass|{old}|pastsub")
    ]
    disabled = parse_config({"subreddits": SUBREDDITS, "second_pass": {"enabled": False}})
    assert build_second_pass_sensor(disabled).default_status == dg.DefaultSensorStatus.STOPPED


def _sensor_run(instance: dg.DagsterInstance, key: str, status: dg.DagsterRunStatus) -> None:
    """A run of the sensor for `key`, recorded in the instance with `status`."""
    tags = {"dagster/sensor_name": SENSOR_NAME, "dagster/partition": key}
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", tags=tags, status=status))


def test_sensor_keeps_at_most_max_waiting_runs_and_skips_given_up_partitions(tmp_path):
    names = [f"sub{i:02d}" for i in range(MAX_WAITING_RUNS + 5)]
    config = parse_config({"subreddits": [{"name": n} for n in names], "start_date": "2026-01-01"})
    sensor = build_second_pass_sensor(config)
    days = [(dt.datetime.now(dt.UTC) - dt.timedelta(days=d)).date().isoformat() for d in (4, 3)]
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for day in days:
            for name in names:
                instance.report_runless_asset_event(dg.AssetMaterialization(RAW_SCRAPE, partition=f"{day}|{name}"))
        first = sensor(dg.build_sensor_context(instance=instance))
        # An import of many days: the oldest MAX_WAITING_RUNS only.
        assert [r.partition_key for r in first.run_requests] == [f"{days[0]}|{n}" for n in names[:MAX_WAITING_RUNS]]

        for name in names[:3]:
            _sensor_run(instance, f"{days[0]}|{name}", dg.DagsterRunStatus.STARTING)
        _sensor_run(instance, f"{days[0]}|{names[3]}", dg.DagsterRunStatus.FAILURE)
        _sensor_run(instance, f"{days[0]}|{names[4]}", dg.DagsterRunStatus.SUCCESS)
        instance.report_runless_asset_event(dg.AssetMaterialization(SECOND_PASS, partition=f"{days[0]}|{names[4]}"))
        second = sensor(dg.build_sensor_context(instance=instance))
        # Three wait: room for 17, from the next partition not queued, failed or done.
        assert [r.partition_key for r in second.run_requests] == [
            f"{days[0]}|{n}" for n in names[5 : 5 + MAX_WAITING_RUNS - 3]
        ]

        for name in names[3:]:
            _sensor_run(instance, f"{days[1]}|{name}", dg.DagsterRunStatus.STARTED)
        full = sensor(dg.build_sensor_context(instance=instance))
        assert not full.run_requests and "queued or running" in full.skip_reason.skip_message
