"""`reddit-assets init-pools`: the reddit_api pool's limit exists before the first run,
from the instance's default_limit, and a limit someone set is never changed."""

import dagster as dg
import pytest

from reddit_assets.automation.pools import PoolLimitMissing, ensure_pool_limit
from reddit_assets.cli import main

WITH_DEFAULT = "concurrency:\n  pools:\n    default_limit: 2\n    granularity: run\ntelemetry:\n  enabled: false\n"
WITHOUT_DEFAULT = "telemetry:\n  enabled: false\n"


def _instance(home, instance_yaml: str) -> dg.DagsterInstance:
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml)
    return dg.DagsterInstance.from_config(str(home))


def _limits(instance: dg.DagsterInstance) -> dict[str, int]:
    return {limit.name: limit.limit for limit in instance.event_log_storage.get_pool_limits()}


def test_creates_the_limit_from_default_limit_once(tmp_path):
    with _instance(tmp_path / "home", WITH_DEFAULT) as instance:
        assert "reddit_api" not in _limits(instance)
        assert ensure_pool_limit(instance) == (2, True)
        assert _limits(instance)["reddit_api"] == 2
        assert instance.event_log_storage.get_concurrency_info("reddit_api").slot_count == 2
        assert ensure_pool_limit(instance) == (2, False)


def test_leaves_a_limit_set_by_hand(tmp_path):
    with _instance(tmp_path / "home", WITH_DEFAULT) as instance:
        instance.event_log_storage.set_concurrency_slots("reddit_api", 5)
        assert ensure_pool_limit(instance) == (5, False)
        assert _limits(instance)["reddit_api"] == 5


def test_without_default_limit_says_what_to_set(tmp_path):
    with _instance(tmp_path / "home", WITHOUT_DEFAULT) as instance:
        with pytest.raises(PoolLimitMissing, match=r"'reddit_api'.*concurrency\.pools\.default_limit"):
            ensure_pool_limit(instance)
        assert "reddit_api" not in _limits(instance)


def test_command(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["init-pools"]) == 2
    assert "DAGSTER_HOME is not set" in capsys.readouterr().err

    _instance(tmp_path / "home", WITH_DEFAULT).dispose()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert main(["init-pools"]) == 0
    assert capsys.readouterr().out == "pool reddit_api: limit 2 (created from default_limit)\n"
    assert main(["init-pools"]) == 0
    assert capsys.readouterr().out == "pool reddit_api: limit 2 (already set, left as is)\n"

    _instance(tmp_path / "bare", WITHOUT_DEFAULT).dispose()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "bare"))
    assert main(["init-pools"]) == 1
    assert "sets no concurrency.pools.default_limit" in capsys.readouterr().err
