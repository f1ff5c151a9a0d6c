"""The run queue's fractional interval, read from an instance's dagster.yaml."""

import dagster as dg
import pytest
import yaml
from dagster import QueuedRunCoordinator

from reddit_assets.instance.run_queue import RunQueue


def _instance_yaml(home, interval) -> None:
    config = {
        "run_coordinator": {
            "module": "reddit_assets.instance.run_queue",
            "class": "RunQueue",
            "config": {"dequeue_interval_seconds": interval, "max_concurrent_runs": 3},
        },
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def test_the_queue_takes_half_a_second_and_keeps_dagsters_settings(tmp_path):
    _instance_yaml(tmp_path, 0.5)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        queue = instance.run_coordinator
        assert isinstance(queue, RunQueue) and isinstance(queue, QueuedRunCoordinator)
        assert queue.dequeue_interval_seconds == 0.5
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 3


def test_an_interval_the_daemon_cannot_honour_is_refused_naming_the_field(tmp_path):
    _instance_yaml(tmp_path, 0.1)
    with pytest.raises(ValueError, match=r"dequeue_interval_seconds: 0\.1 is below the 0\.5 s"):
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            instance.run_coordinator  # noqa: B018  (the coordinator is built on first use)
