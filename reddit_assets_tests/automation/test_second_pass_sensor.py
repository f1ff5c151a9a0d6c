"""When the second pass runs: the config field, and the sensor over a real Dagster instance."""

import datetime as dt

import dagster as dg
import pytest

from reddit_assets.assets.declarations import RAW_SCRAPE, SECOND_PASS
from reddit_assets.automation.second_pass_sensor import SENSOR_NAME, build_second_pass_sensor, due_partitions
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
