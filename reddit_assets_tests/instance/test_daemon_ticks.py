"""The backfill tick: at least once a second, at most a third of a core, and still wired into
the Dagster version we run."""

from __future__ import annotations

import inspect
import sys

import pytest
from dagster._daemon import backfill

from reddit_assets.instance.daemon_ticks import MIN_TICK_SECONDS, BackfillTick, set_backfill_tick


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
