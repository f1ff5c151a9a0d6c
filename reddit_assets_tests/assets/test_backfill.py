"""A database-only backfill of 30 days x 8 subreddits through Dagster's own machinery:
a real webserver and daemon, launched over GraphQL, with no Reddit request."""

import datetime as dt
import os

import dagster as dg
import pytest
import yaml

from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_demo.dagster_api import launch_asset_backfill, wait_for_backfill
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.fixtures.dagster_dev import running_dagster
from reddit_assets_tests.fixtures.tables import loaded_counts

DAYS, SUBREDDITS = 30, 8
pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _failures(home) -> list[str]:
    """What each failed run's steps, or the run itself, said: the dagster.log of `dagster dev`
    does not hold the run workers' errors."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        failed = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        return [
            f"run {record.dagster_run.run_id[:8]} {event.dagster_event.event_type_value}: {event.message[:800]}"
            for record in failed
            for event in instance.all_logs(record.dagster_run.run_id)
            if event.dagster_event
            and event.dagster_event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE", "ENGINE_EVENT")
            and ("rror" in event.message or "FAILURE" in event.dagster_event.event_type_value)
        ]


def test_database_backfill_30_days_8_subreddits(tmp_path, reddit_server):
    start = dt.date(2026, 10, 1)
    names = [f"sub{i:02d}" for i in range(SUBREDDITS)]
    config = tmp_path / "subreddits.yaml"
    config.write_text(yaml.safe_dump({"start_date": start.isoformat(), "subreddits": [{"name": n} for n in names]}))
    data_dir = tmp_path / "data"
    expected = {}
    for day in (start + dt.timedelta(days=i) for i in range(DAYS)):
        for name in names:
            document = generated_raw_document(
                name, day, n_submissions=4, comments_per_submission=(0, 6), popular_threads=0
            )
            write_raw_file(raw_file_path(data_dir, day, name), document)
            expected[(day.isoformat(), name)] = (len(document["submissions"]), len(document["comments"]))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL"))}
    env.update(
        REDDIT_ASSETS_CONFIG=str(config),
        REDDIT_ASSETS_DATA_DIR=str(data_dir),
        REDDIT_CLIENT_ID="c",
        REDDIT_CLIENT_SECRET="s",
        REDDIT_USER_AGENT="reddit_assets backfill test",
        REDDIT_OAUTH_URL=reddit_server.url,
        REDDIT_URL=reddit_server.url,
    )
    keys = [f"{start + dt.timedelta(days=i)}|{name}" for i in range(DAYS) for name in names]

    with running_dagster(env, tmp_path / "home", tmp_path / "dagster.log") as base_url:
        backfill_id = launch_asset_backfill(base_url, [["reddit", "submissions"], ["reddit", "comments"]], keys)
        status = wait_for_backfill(base_url, backfill_id, timeout=600)

    log = (tmp_path / "dagster.log").read_text()
    assert status["status"] == "COMPLETED_SUCCESS", _failures(tmp_path / "home") or log[-3000:]
    assert "STEP_FAILURE" not in log  # the asset checks ran over each run's range of partitions too
    assert log.count("ASSET_CHECK_EVALUATION") >= 2 * len(status["runs"])
    assert 1 <= len(status["runs"]) <= SUBREDDITS
    loaded = loaded_counts(data_dir / "reddit.db")
    assert loaded == expected
    assert reddit_server.stats()["requests"] == 0
