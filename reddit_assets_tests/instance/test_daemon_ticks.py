"""The backfill tick: at least once a second, at most a third of a core, still wired into
the Dagster version we run, and chosen by dagster.yaml (`backfill_tick`: ours or Dagster's)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._daemon import backfill

from reddit_assets.instance.daemon_ticks import MIN_TICK_SECONDS, BackfillTick, set_backfill_tick
from reddit_assets.instance.sqlite import LocalInstance
from reddit_assets.instance.ticking import TickingInstance

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("tick_seconds", "sleep_seconds"),
    [(0.0, 1.0), (0.1, 0.9), (1 / 3, 2 / 3), (0.5, 1.0), (1.5, 3.0), (4.0, 8.0)],
)
def test_the_daemon_sleeps_until_the_next_tick_is_due(tick_seconds, sleep_seconds):
    assert BackfillTick() - tick_seconds == pytest.approx(sleep_seconds)
    # a tick never takes more than a third of the time from its start to the next one's
    assert tick_seconds / (tick_seconds + sleep_seconds) <= 1 / 3 + 1e-9


def test_the_tick_is_a_plain_number_for_anything_else():
    tick = BackfillTick()
    assert float(tick) == MIN_TICK_SECONDS == tick
    assert tick + 1 == MIN_TICK_SECONDS + 1


def test_dagsters_backfill_loop_sleeps_the_constant_minus_the_ticks_duration():
    """What BackfillTick relies on: a Dagster upgrade that computes the sleep otherwise would
    silently fall back to a fixed one-second tick."""
    source = inspect.getsource(backfill.execute_backfill_iteration_loop)
    assert "from dagster._daemon.controller import DEFAULT_DAEMON_INTERVAL_SECONDS" in source
    assert "max(0, DEFAULT_DAEMON_INTERVAL_SECONDS - loop_duration)" in source


def test_the_daemon_process_gets_the_tick(monkeypatch):
    from dagster._daemon import controller

    monkeypatch.setattr(controller, "DEFAULT_DAEMON_INTERVAL_SECONDS", 30)
    set_backfill_tick()
    assert isinstance(controller.DEFAULT_DAEMON_INTERVAL_SECONDS, BackfillTick)


def test_other_processes_do_not_import_the_daemons(monkeypatch):
    monkeypatch.delitem(sys.modules, "dagster._daemon.controller", raising=False)
    set_backfill_tick()
    assert "dagster._daemon.controller" not in sys.modules


def _ticking(backfill_tick: str | None, instance_class: type = TickingInstance):
    overrides: dict = {"instance_class": {"module": instance_class.__module__, "class": instance_class.__name__}}
    if backfill_tick is not None:
        overrides["backfill_tick"] = backfill_tick
    return dg.instance_for_test(overrides=overrides)


@pytest.mark.parametrize("instance_class", [TickingInstance, LocalInstance], ids=lambda c: c.__name__)
@pytest.mark.parametrize(("setting", "ours"), [(None, True), ("adaptive", True), ("dagster", False)])
def test_dagster_yaml_chooses_the_backfill_tick(monkeypatch, instance_class, setting, ours):
    from dagster._daemon import controller

    monkeypatch.setattr(controller, "DEFAULT_DAEMON_INTERVAL_SECONDS", 30)
    with _ticking(setting, instance_class) as instance:
        assert instance.backfill_tick == (setting or "adaptive")
        assert isinstance(controller.DEFAULT_DAEMON_INTERVAL_SECONDS, BackfillTick) is ours
        if not ours:  # stock Dagster: its own constant, untouched
            assert controller.DEFAULT_DAEMON_INTERVAL_SECONDS == 30


def test_a_backfill_tick_that_is_neither_is_refused_naming_the_key():
    with pytest.raises(dg.DagsterInvalidConfigError, match="backfill_tick"), _ticking("fast"):
        pass


def test_the_local_dagster_yaml_runs_stock_dagsters_queue_and_our_tick(tmp_path, monkeypatch):
    """The repository's dagster.yaml (make demo's): LocalInstance with the adaptive tick, and
    Dagster's own QueuedRunCoordinator looking every second."""
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance, LocalInstance) and instance.backfill_tick == "adaptive"
        assert type(instance.run_coordinator) is dg.QueuedRunCoordinator
        assert instance.run_coordinator.dequeue_interval_seconds == 1
