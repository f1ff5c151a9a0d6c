"""The daily schedule: one run request per subreddit for the tick's day; stopped when
master_enabled is false."""

import datetime as dt

import dagster as dg

from reddit_assets_tests.harness import configure


def _tick(defs, when):
    schedule = defs.resolve_schedule_def("daily_scrape_schedule")
    with dg.DagsterInstance.local_temp() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=when, repository_def=defs.get_repository_def()
        )
        return schedule, list(schedule.evaluate_tick(context).run_requests)


def test_tick_requests_todays_partition_for_every_subreddit(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",
        start_date="2026-11-01",
        subreddits=[{"name": "CreditCardsIndia", "category": "t"}, {"name": "de"}],
    )
    schedule, requests = _tick(defs, dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC))
    assert schedule.cron_schedule == "30 23 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "daily_scrape_job"
    assert sorted(r.partition_key for r in requests) == ["2026-11-27|CreditCardsIndia", "2026-11-27|de"]
    assert len({r.run_key for r in requests}) == 2
    # the requested partitions exist at that moment (today's date partition is open)
    partitions = defs.resolve_job_def("daily_scrape_job").partitions_def
    keys = partitions.get_partition_keys(current_time=dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC))
    assert all(r.partition_key in keys for r in requests)


def test_master_switch_off_starts_the_schedule_stopped(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",
        subreddits=[{"name": "de"}],
        flags={"master_enabled": False},
    )
    assert defs.resolve_schedule_def("daily_scrape_schedule").default_status == dg.DefaultScheduleStatus.STOPPED


def test_create_archives_disabled_leaves_archive_out_of_the_daily_job(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",
        subreddits=[{"name": "de"}],
        flags={"create_archives_enabled": False},
    )
    keys = {k.to_user_string() for k in defs.resolve_job_def("daily_scrape_job").asset_layer.executable_asset_keys}
    assert keys == {"reddit/raw_scrape", "reddit/submissions", "reddit/comments"}


def test_stream_subreddits_are_left_to_the_stream_automation(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",
        start_date="2026-11-01",
        subreddits=[{"name": "de"}, {"name": "AskReddit", "category": "stream", "comments": "all"}],
    )
    _, requests = _tick(defs, dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC))
    assert [r.partition_key for r in requests] == ["2026-11-27|de"]  # at 23:30 the stream day is not over
    assert defs.resolve_schedule_def("stream_poll_schedule").default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = defs.resolve_sensor_def("stream_day_sensor")
    assert sensor.job_name == "daily_scrape_job" and sensor.default_status == dg.DefaultSensorStatus.RUNNING
